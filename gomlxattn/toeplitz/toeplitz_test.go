package toeplitz_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
	"github.com/attnbench/attnbench/internal/backend"
)

// reference computes y = T(c) x, dL/dc and dL/dx for L = sum y*r in float64 plain Go.
func reference(c []float64, x, r []float64, h, n, f int, causal bool) (y, dc, dx []float64) {
	y, dc, dx = make([]float64, h*n*f), make([]float64, h*(2*n-1)), make([]float64, h*n*f)
	for hh := range h {
		for i := range n {
			for j := range n {
				k := j - i
				if causal && k > 0 {
					continue
				}
				t := hh*(2*n-1) + k + n - 1
				for ff := range f {
					xi, yi := (hh*n+j)*f+ff, (hh*n+i)*f+ff
					y[yi] += c[t] * x[xi]
					dc[t] += r[yi] * x[xi]
					dx[xi] += c[t] * r[yi]
				}
			}
		}
	}
	return
}

func randn(rng *rand.Rand, size int) []float64 {
	v := make([]float64, size)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func relErr(got, want []float64) float64 {
	var num, den float64
	for i := range want {
		d := got[i] - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

type variant struct {
	name string
	opt  toeplitz.Options
}

func variants(n int) []variant {
	vs := []variant{
		{"dense", toeplitz.Options{Method: toeplitz.Dense}},
		{"block", toeplitz.Options{Method: toeplitz.BlockSpectral}},
		{"block-autodiff", toeplitz.Options{Method: toeplitz.BlockSpectral, AutodiffBackward: true}},
		{"auto", toeplitz.Options{}},
	}
	for _, b := range []int{1, 3, 8} { // forced block sizes: padding and single-row blocks
		if b <= n {
			vs = append(vs, variant{fmt.Sprintf("block-n2=%d", b), toeplitz.Options{Method: toeplitz.BlockSpectral, BlockSize: b}})
		}
	}
	return vs
}

// run evaluates y, dc, dx for one variant in the given dtype.
func run(t *testing.T, opt toeplitz.Options, dt dtypes.DType, c, x, r []float64, h, n, f int) (y, dc, dx []float64) {
	t.Helper()
	be := backend.MustShared()
	if opt.Method == toeplitz.NativeFFT {
		ok := false
		MustNewExec(be, func(g *Graph) *Node { ok = toeplitz.HasNativeFFT(g); return Const(g, 0) }).MustCall()
		if !ok {
			t.Skipf("backend %s has no FFT op", be.Name())
		}
	}
	exec := MustNewExec(be, func(cn, xn, rn *Node) []*Node {
		cn, xn, rn = ConvertDType(cn, dt), ConvertDType(xn, dt), ConvertDType(rn, dt)
		cn, xn, rn = Reshape(cn, h, 2*n-1), Reshape(xn, h, n, f), Reshape(rn, h, n, f)
		y := toeplitz.Apply(cn, xn, opt)
		grads := Gradient(ReduceAllSum(Mul(y, rn)), cn, xn)
		out := []*Node{y, grads[0], grads[1]}
		for i := range out {
			out[i] = ConvertDType(out[i], dtypes.Float64)
		}
		return out
	})
	res := exec.MustCall(c, x, r)
	flat := func(v *tensors.Tensor) []float64 { return tensors.MustCopyFlatData[float64](v) }
	return flat(res[0]), flat(res[1]), flat(res[2])
}

func TestApplyAgainstFloat64Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 5, 17, 64, 100, 257} {
		for _, causal := range []bool{false, true} {
			h, f := 2, 3+rng.IntN(5)
			c := randn(rng, h*(2*n-1)) // asymmetric: c_k != c_-k catches a transposed T
			for i := range c {
				c[i] = math.Exp(c[i])
			}
			x, r := randn(rng, h*n*f), randn(rng, h*n*f)
			wy, wdc, wdx := reference(c, x, r, h, n, f, causal)
			vs := append(variants(n), variant{"fft", toeplitz.Options{Method: toeplitz.NativeFFT}})
			for _, v := range vs {
				v.opt.Causal = causal
				name := fmt.Sprintf("n=%d/causal=%v/%s", n, causal, v.name)
				t.Run(name, func(t *testing.T) {
					y, dc, dx := run(t, v.opt, dtypes.Float32, c, x, r, h, n, f)
					for _, e := range []struct {
						what      string
						got, want []float64
					}{{"y", y, wy}, {"dL/dc", dc, wdc}, {"dL/dx", dx, wdx}} {
						if err := relErr(e.got, e.want); !(err <= 1e-5) {
							t.Errorf("float32 %s: relative error %.3g > 1e-5", e.what, err)
						}
					}
					y, dc, dx = run(t, v.opt, dtypes.Float64, c, x, r, h, n, f)
					for _, e := range []struct {
						what      string
						got, want []float64
					}{{"y", y, wy}, {"dL/dc", dc, wdc}, {"dL/dx", dx, wdx}} {
						if err := relErr(e.got, e.want); !(err <= 1e-12) {
							t.Errorf("float64 %s: relative error %.3g > 1e-12", e.what, err)
						}
					}
				})
			}
		}
	}
}

// TestApplyLargeN covers the sizes the attention layers use (n = 1000, 4096) for the
// block-spectral path in float32.
func TestApplyLargeN(t *testing.T) {
	if testing.Short() {
		t.Skip("large n")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1000, 4096} {
		h, f := 1, 4
		c := randn(rng, h*(2*n-1))
		x, r := randn(rng, h*n*f), randn(rng, h*n*f)
		wy, wdc, wdx := reference(c, x, r, h, n, f, true)
		y, dc, dx := run(t, toeplitz.Options{Method: toeplitz.BlockSpectral, Causal: true}, dtypes.Float32, c, x, r, h, n, f)
		for _, e := range []struct {
			what      string
			got, want []float64
		}{{"y", y, wy}, {"dL/dc", dc, wdc}, {"dL/dx", dx, wdx}} {
			if err := relErr(e.got, e.want); !(err <= 1e-5) {
				t.Errorf("n=%d %s: relative error %.3g > 1e-5", n, e.what, err)
			}
		}
	}
}
