package toeplitz

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
)

// plan is a block-spectral factorisation: the sequence is padded to np = n1h*n2 positions, the
// circulant length is N = 2np = n1*n2 with n1 = 2*n1h blocks of n2, and the real input keeps
// the K = n1h+1 block frequencies 0..n1/2.
type plan struct{ n, np, n1h, n2 int }

func (p plan) k() int { return p.n1h + 1 }

// cost is the plan's estimated multiply-adds per head for f columns (see choosePlan).
func (p plan) cost(f int) float64 {
	return float64(2*p.np*f)*(2*float64(p.n1h)+2.5*float64(p.n2)) + 40*float64(p.k()*p.n2*p.n2)
}

// choosePlan picks n2 minimising the estimated cost per head, in multiply-adds:
// data: 2np*F*(2*n1h + 2.5*n2) for the three matmuls (the block products, with their
// gradient, cost about a quarter more per multiply-add than the DFTs); kernel matrix build:
// ~40*K*n2^2. From n = 256 on, n2 is a power of two, at least 16 (the float32 vector width of
// the Go backend's matmul): at n = 2048 to 8192 (F = 1040) that is 13% to 19% faster forward
// and backward than the unrestricted optimum (n2 = 41, 58, 82).
func choosePlan(n, f, n2 int) plan {
	if n2 > 0 {
		n1h := (n + n2 - 1) / n2
		return plan{n: n, np: n1h * n2, n1h: n1h, n2: n2}
	}
	next := func(b int) int { return b + 1 }
	first := 1
	if n >= 256 {
		first, next = 16, func(b int) int { return 2 * b }
	}
	best, bestCost := plan{}, math.Inf(1)
	for b := first; b <= min(n, 256); b = next(b) {
		n1h := (n + b - 1) / b
		p := plan{n: n, np: n1h * b, n1h: n1h, n2: b}
		if cost := p.cost(f); cost < bestCost {
			best, bestCost = p, cost
		}
	}
	return best
}

// applyBlock is method (d) of the design notes. With x viewed as [H, n1h, n2*F] (block J,
// position j2 in the block):
//
//	Z = S1 X     the length-n1 DFT over blocks, rows (k, re|im), only the n1h non-zero blocks;
//	Yh = M Z     per (head, k) the 2n2 x 2n2 real form of the twisted Toeplitz block B_k;
//	Y = S5 Yh    the Hermitian-weighted inverse DFT, keeping the n1h output blocks.
func applyBlock(c, x *Node, opt Options) *Node {
	h, n, f := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
	p := choosePlan(n, f, opt.BlockSize)
	var m *Node // [H*K, 2n2, 2n2]
	if c.DType() == dtypes.Float32 {
		// The kernel spectrum is small (about 2 n2/F times the data): building it in float64
		// removes its rounding from the product, which matters for rows that see only small c.
		m = ConvertDType(blockMatrix(ConvertDType(c, dtypes.Float64), p, opt.Causal), c.DType())
	} else {
		m = blockMatrix(c, p, opt.Causal)
	}
	if p.np > n {
		x = Concatenate([]*Node{x, Zeros(x.Graph(), shapes.Make(x.DType(), h, p.np-n, f))}, 1)
	}
	s1, s5 := dftMatrices(x.Graph(), p, h, x)
	var y *Node
	if opt.AutodiffBackward {
		y = blockForward(s1, m, s5, x, p)
	} else {
		y = blockCustomGrad(s1, m, s5, x, p)
	}
	if p.np > n {
		y = Slice(y, AxisRange(), AxisRange(0, n))
	}
	return y
}

// blockForward returns S5 (M (S1 X)) and Z = S1 X as [H*K, 2n2, F].
func blockForwardZ(s1, m, s5, x *Node, p plan) (y, z *Node) {
	h, f := x.Shape().Dim(0), x.Shape().Dim(2)
	k := p.k()
	xv := Reshape(x, h, p.n1h, p.n2*f)
	z = DotGeneral(s1, []int{2}, []int{0}, xv, []int{1}, []int{0}) // [H, 2K, n2 F]
	z = Reshape(z, h*k, 2*p.n2, f)
	yh := DotGeneral(m, []int{2}, []int{0}, z, []int{1}, []int{0}) // [H K, 2n2, F]
	yh = Reshape(yh, h, 2*k, p.n2*f)
	y = DotGeneral(s5, []int{2}, []int{0}, yh, []int{1}, []int{0}) // [H, n1h, n2 F]
	return Reshape(y, h, p.np, f), z
}

func blockForward(s1, m, s5, x *Node, p plan) *Node {
	y, _ := blockForwardZ(s1, m, s5, x, p)
	return y
}

// blockCustomGrad computes the same value with a hand-written backward whose matmuls all keep
// the data as the right-hand side in its own layout (GoMLX's default DotGeneral gradient
// transposes data-sized tensors):
//
//	dYh = S5^T dY,  dX = S1^T (M^T dYh),  dM = dYh Z^T.
//
// vjp.WithGradient attaches dM and dX to M and X.
func blockCustomGrad(s1, m, s5, x *Node, p plan) *Node {
	h, f := x.Shape().Dim(0), x.Shape().Dim(2)
	k := p.k()
	var mi, z *Node
	return vjp.WithGradient([]*Node{m, x}, func(in ...*Node) *Node {
		var y *Node
		mi = in[0]
		y, z = blockForwardZ(s1, mi, s5, in[1], p)
		return y
	}, func(v *Node) []*Node {
		s1t := Transpose(s1, 1, 2) // [H, n1h, 2K]
		s5t := Transpose(s5, 1, 2) // [H, 2K, n1h]
		dy := Reshape(v, h, p.n1h, p.n2*f)
		dYh := DotGeneral(s5t, []int{2}, []int{0}, dy, []int{1}, []int{0}) // [H, 2K, n2 F]
		dYh = Reshape(dYh, h*k, 2*p.n2, f)
		dz := DotGeneral(mi, []int{1}, []int{0}, dYh, []int{1}, []int{0}) // [H K, 2n2, F]
		dz = Reshape(dz, h, 2*k, p.n2*f)
		dX := Reshape(DotGeneral(s1t, []int{2}, []int{0}, dz, []int{1}, []int{0}), h, p.np, f) // [H, n1h, n2 F]
		dM := DotGeneral(dYh, []int{2}, []int{0}, z, []int{2}, []int{0})                       // [H K, 2n2, 2n2]
		return []*Node{dM, dX}
	})
}

// dftMatrices returns S1 [H, 2K, n1h] (row 2k: cos(2 pi J k/n1), row 2k+1: -sin) and
// S5 [H, n1h, 2K] (column 2k: alpha_k/n1 cos(2 pi k I/n1), column 2k+1: -alpha_k/n1 sin),
// alpha_0 = alpha_{n1/2} = 1, else 2.
func dftMatrices(g *Graph, p plan, h int, like *Node) (s1, s5 *Node) {
	k, n1 := p.k(), 2*p.n1h
	a := make([]float64, 2*k*p.n1h)
	b := make([]float64, p.n1h*2*k)
	for kk := range k {
		alpha := 2.0
		if kk == 0 || kk == p.n1h {
			alpha = 1
		}
		for j := range p.n1h {
			th := 2 * math.Pi * float64((j*kk)%n1) / float64(n1)
			a[(2*kk)*p.n1h+j] = math.Cos(th)
			a[(2*kk+1)*p.n1h+j] = -math.Sin(th)
			b[j*2*k+2*kk] = alpha / float64(n1) * math.Cos(th)
			b[j*2*k+2*kk+1] = -alpha / float64(n1) * math.Sin(th)
		}
	}
	dt := like.DType()
	s1 = BroadcastToDims(ConvertDType(Reshape(Const(g, a), 1, 2*k, p.n1h), dt), h, 2*k, p.n1h)
	s5 = BroadcastToDims(ConvertDType(Reshape(Const(g, b), 1, p.n1h, 2*k), dt), h, p.n1h, 2*k)
	return s1, s5
}

// blockMatrix builds M [H*K, 2n2, 2n2], the real form [[Br, -Bi], [Bi, Br]] of the twisted
// Toeplitz blocks B_k[i2, j2] = E_k[i2-j2+n2-1], E_k = (w^k Ah[k, 1:n2], Ah[k, 0:n2]),
// w = exp(-2 pi i/n1), with Ah[k, m] = sum_D w^{kD} a[n2 D + m] the DFT of the circulant kernel
// a reshaped [n1, n2]. Only small tensors are gathered; M is assembled by concatenation and
// the gather-free Toeplitz expansion.
func blockMatrix(c *Node, p plan, causal bool) *Node {
	g := c.Graph()
	h, n := c.Shape().Dim(0), (c.Shape().Dim(1)+1)/2
	k, n1, n2 := p.k(), 2*p.n1h, p.n2
	// arev[D, m'] = a[n2 D + n2-1-m']: the kernel blocks with m reversed.
	idx := make([]int32, n1*n2)
	for d := range n1 {
		for mm := range n2 {
			idx[d*n2+mm] = int32(kernelIndex(n2*d+n2-1-mm, n, p.np, causal))
		}
	}
	arev := Reshape(gatherKernel(c, idx), n1, n2, h)
	w := make([]float64, n1*2*k)
	tw := make([]float64, 2*k)
	for kk := range k {
		for d := range n1 {
			th := 2 * math.Pi * float64((d*kk)%n1) / float64(n1)
			w[d*2*k+2*kk] = math.Cos(th)
			w[d*2*k+2*kk+1] = -math.Sin(th)
		}
		th := 2 * math.Pi * float64(kk) / float64(n1)
		tw[2*kk], tw[2*kk+1] = math.Cos(th), -math.Sin(th)
	}
	dt := c.DType()
	wc := ConvertDType(Reshape(Const(g, w), n1, 2*k), dt)
	ah := DotGeneral(arev, []int{0}, nil, wc, []int{0}, nil) // [n2, H, 2K]
	ah = Reshape(TransposeAllAxes(ah, 1, 2, 0), h, k, 2, n2)
	ar := Reshape(Slice(ah, AxisRange(), AxisRange(), AxisRange(0, 1)), h, k, n2)
	ai := Reshape(Slice(ah, AxisRange(), AxisRange(), AxisRange(1, 2)), h, k, n2)
	twc := ConvertDType(Reshape(Const(g, tw), 1, k, 2), dt)
	cr := Slice(twc, AxisRange(), AxisRange(), AxisRange(0, 1)) // [1, K, 1]
	ci := Slice(twc, AxisRange(), AxisRange(), AxisRange(1, 2))
	er, ei := ar, ai
	if n2 > 1 {
		hr := Slice(ar, AxisRange(), AxisRange(), AxisRange(0, n2-1))
		hi := Slice(ai, AxisRange(), AxisRange(), AxisRange(0, n2-1))
		wr := Sub(Mul(cr, hr), Mul(ci, hi))
		wi := Add(Mul(cr, hi), Mul(ci, hr))
		er = Concatenate([]*Node{ar, wr}, 2) // reversed E: length 2n2-1
		ei = Concatenate([]*Node{ai, wi}, 2)
	}
	tr := Expand(Reshape(er, h*k, 2*n2-1), n2) // [H K, n2, n2]
	ti := Expand(Reshape(ei, h*k, 2*n2-1), n2)
	top := Concatenate([]*Node{tr, Neg(ti)}, 2)
	bottom := Concatenate([]*Node{ti, tr}, 2)
	return Concatenate([]*Node{top, bottom}, 1)
}
