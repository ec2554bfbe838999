package toeplitz

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
)

// Method selects the algorithm of Apply.
type Method int

const (
	Auto          Method = iota // NativeFFT where available, else Dense for n <= DenseMaxN, else BlockSpectral
	Dense                       // O(n^2 F) matmul with the expanded matrix
	BlockSpectral               // block-spectral (four-step) FFT by matmuls, custom backward
	NativeFFT                   // the backend's RealFFT; panics where the backend has no FFT op
)

// MethodNames are the names of the methods, indexed by Method.
var MethodNames = []string{"auto", "dense", "block", "fft"}

func (m Method) String() string {
	if m < 0 || int(m) >= len(MethodNames) {
		return fmt.Sprintf("Method(%d)", int(m))
	}
	return MethodNames[m]
}

// DenseMaxN is the largest n for which Auto uses Dense on backends without FFT.
const DenseMaxN = 64

// Options of Apply.
type Options struct {
	Method Method
	// Causal zeroes the coefficients of positive offsets (keys after the query): c_k = 0, k > 0.
	Causal bool
	// BlockSize forces n2 of BlockSpectral (the block length); 0 chooses it from n and F.
	BlockSize int
	// AutodiffBackward makes BlockSpectral use GoMLX's default gradients instead of the
	// hand-written backward (slower on the go backend; for tests).
	AutodiffBackward bool
}

// HasNativeFFT reports whether the graph's backend implements the FFT op and complex dtypes.
func HasNativeFFT(g *Graph) bool {
	caps := g.Backend().Capabilities()
	return caps.Operations[compute.OpTypeFFT] && caps.Operations[compute.OpTypeReal] &&
		caps.Operations[compute.OpTypeImag] && caps.Operations[compute.OpTypeComplex]
}

// Resolve returns the method Auto would pick for n positions on g's backend.
func Resolve(g *Graph, m Method, n int) Method {
	if m != Auto {
		return m
	}
	switch {
	case HasNativeFFT(g) && n > 1:
		return NativeFFT
	case n <= DenseMaxN:
		return Dense
	default:
		return BlockSpectral
	}
}

// Apply returns Y = T(c) X, y[h, i, f] = sum_j c[h, j-i+n-1] x[h, j, f], for c [H, 2n-1] and
// x [H, n, F]. It is differentiable with respect to c and x.
func Apply(c, x *Node, opt Options) *Node {
	if x.Rank() != 3 || c.Rank() != 2 {
		panic(fmt.Errorf("toeplitz.Apply: c has shape %s and x %s, want c [H, 2n-1] and x [H, n, F]", c.Shape(), x.Shape()))
	}
	h, n := x.Shape().Dim(0), x.Shape().Dim(1)
	if c.Shape().Dim(0) != h || c.Shape().Dim(1) != 2*n-1 {
		panic(fmt.Errorf("toeplitz.Apply: c has shape %s, want [%d, %d] for x %s", c.Shape(), h, 2*n-1, x.Shape()))
	}
	if c.DType() != x.DType() {
		panic(fmt.Errorf("toeplitz.Apply: c is %s and x is %s, want the same dtype", c.DType(), x.DType()))
	}
	switch Resolve(x.Graph(), opt.Method, n) {
	case Dense:
		return applyDense(c, x, opt.Causal)
	case NativeFFT:
		if !HasNativeFFT(x.Graph()) {
			panic(fmt.Errorf("toeplitz.Apply: method fft needs a backend with the FFT op; backend %q has none, use auto or block", x.Graph().Backend().Name()))
		}
		return applyFFT(c, x, opt.Causal)
	default:
		return applyBlock(c, x, opt)
	}
}

// Cost estimates the multiply-adds per head of Apply with method m (Auto resolved on g's
// backend) for n positions and f columns: n^2 f for Dense, the block-spectral plan's cost
// (choosePlan), and for NativeFFT two real FFTs of length 2n per column, 2.5 n log2(2n), plus
// the spectral product.
func Cost(g *Graph, m Method, n, f int) float64 {
	switch Resolve(g, m, n) {
	case Dense:
		return float64(n) * float64(n) * float64(f)
	case NativeFFT:
		return float64(f) * (2.5*float64(n)*math.Log2(float64(2*n)) + 2*float64(n))
	default:
		return choosePlan(n, f, 0).cost(f)
	}
}
