package vjp_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestBatchMatMul: the value and both gradients of sum(out * w) against float64 loops, for
// several batch, free and contracted axes (sizes of 1 included), of
//
//	BatchMatMul:  out[z, i, j] = sum_k a[z, i, k] b[z, k, j], da = w b^T, db = a^T w;
//	BatchMatMulT: out[z, i, j] = sum_k a[z, i, k] b[z, j, k], da = w b,   db = w^T a.
func TestBatchMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 18))
	prod := func(d []int) int {
		p := 1
		for _, x := range d {
			p *= x
		}
		return p
	}
	cat := func(parts ...[]int) []int {
		var s []int
		for _, p := range parts {
			s = append(s, p...)
		}
		return s
	}
	for _, transposed := range []bool{false, true} {
		for _, c := range []struct {
			batch, m, k, n []int
		}{
			{[]int{3}, []int{4}, []int{5}, []int{2}},
			{[]int{2, 3}, []int{1, 3}, []int{4}, []int{2, 1}},
			{[]int{1}, []int{5}, []int{2, 3}, []int{7}},
			{[]int{2}, []int{3, 2}, []int{1}, []int{4, 3}},
			{[]int{2}, []int{2, 3}, []int{3, 2}, []int{1, 2}}, // db by the transposed v
			{[]int{2, 1, 3}, []int{7}, []int{4}, []int{7}},
			{[]int{1}, []int{1}, []int{2, 3}, []int{5}},
		} {
			z, m, k, n := prod(c.batch), prod(c.m), prod(c.k), prod(c.n)
			a, b, w := randn(rng, z*m*k), randn(rng, z*k*n), randn(rng, z*m*n)
			bdims, bindex := cat(c.batch, c.k, c.n), func(q, l, j int) int { return (q*k+l)*n + j }
			if transposed {
				bdims, bindex = cat(c.batch, c.n, c.k), func(q, l, j int) int { return (q*n+j)*k + l }
			}
			exec := MustNewExec(backend.MustShared(), func(a, b, w *Node) []*Node {
				var out *Node
				if transposed {
					out = vjp.BatchMatMulT(a, b, len(c.batch), len(c.k))
				} else {
					out = vjp.BatchMatMul(a, b, len(c.batch), len(c.k))
				}
				return append([]*Node{out}, Gradient(ReduceAllSum(Mul(out, w)), a, b)...)
			})
			res, err := exec.Call(
				tensors.FromFlatDataAndDimensions(a, cat(c.batch, c.m, c.k)...),
				tensors.FromFlatDataAndDimensions(b, bdims...),
				tensors.FromFlatDataAndDimensions(w, cat(c.batch, c.m, c.n)...))
			if err != nil {
				t.Fatal(err)
			}
			out, da, db := make([]float64, z*m*n), make([]float64, z*m*k), make([]float64, z*k*n)
			for q := range z {
				for i := range m {
					for j := range n {
						for l := range k {
							ai, bi, oi := (q*m+i)*k+l, bindex(q, l, j), (q*m+i)*n+j
							out[oi] += a[ai] * b[bi]
							da[ai] += w[oi] * b[bi]
							db[bi] += a[ai] * w[oi]
						}
					}
				}
			}
			name := fmt.Sprint("transposed=", transposed, c.batch, c.m, c.k, c.n)
			if want := cat(c.batch, c.m, c.n); fmt.Sprint(res[0].Shape().Dimensions) != fmt.Sprint(want) {
				t.Fatalf("%s: shape %v, want %v", name, res[0].Shape().Dimensions, want)
			}
			for i, want := range [][]float64{out, da, db} {
				got := tensors.MustCopyFlatData[float64](res[i])
				for j := range want {
					if math.Abs(got[j]-want[j]) > 1e-12*(1+math.Abs(want[j])) {
						t.Fatalf("%s: result %d [%d] = %g, want %g", name, i, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestMatMulT: the value and both gradients of sum(MatMulT(x, w) * u) against float64 loops:
// out[r, j] = sum_k x[r, k] w[j, k], dx = u w, dw = u^T x, with the leading axes of x of rank
// 1 to 3 and sizes of 1.
func TestMatMulT(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 4))
	for _, c := range []struct {
		lead []int
		k, n int
	}{{[]int{5}, 3, 4}, {[]int{2, 3}, 4, 7}, {[]int{1, 2, 3}, 1, 2}, {[]int{3, 1}, 6, 1}} {
		r := 1
		for _, d := range c.lead {
			r *= d
		}
		x, w, u := randn(rng, r*c.k), randn(rng, c.n*c.k), randn(rng, r*c.n)
		exec := MustNewExec(backend.MustShared(), func(x, w, u *Node) []*Node {
			out := vjp.MatMulT(x, w)
			return append([]*Node{out}, Gradient(ReduceAllSum(Mul(out, u)), x, w)...)
		})
		res, err := exec.Call(tensors.FromFlatDataAndDimensions(x, append(c.lead, c.k)...),
			tensors.FromFlatDataAndDimensions(w, c.n, c.k), tensors.FromFlatDataAndDimensions(u, append(c.lead, c.n)...))
		if err != nil {
			t.Fatal(err)
		}
		out, dx, dw := make([]float64, r*c.n), make([]float64, r*c.k), make([]float64, c.n*c.k)
		for i := range r {
			for j := range c.n {
				for l := range c.k {
					out[i*c.n+j] += x[i*c.k+l] * w[j*c.k+l]
					dx[i*c.k+l] += u[i*c.n+j] * w[j*c.k+l]
					dw[j*c.k+l] += u[i*c.n+j] * x[i*c.k+l]
				}
			}
		}
		for i, want := range [][]float64{out, dx, dw} {
			got := tensors.MustCopyFlatData[float64](res[i])
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-12*(1+math.Abs(want[j])) {
					t.Fatalf("%v: result %d [%d] = %g, want %g", c, i, j, got[j], want[j])
				}
			}
		}
	}
}

// TestSums: SumLeading and AddTrailing against float64 loops, values and gradients
// of sum(out * w), for x [a, b, c] split at every axis (no axis summed, all of them, sizes of 1).
func TestSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 8))
	for _, dims := range [][]int{{3, 4, 5}, {1, 7, 1}, {2, 1, 6}} {
		total := dims[0] * dims[1] * dims[2]
		x := randn(rng, total)
		for n := 0; n <= 3; n++ {
			for _, op := range []string{"leading", "bias"} {
				keep := dims[n:]
				r := 1
				for _, d := range keep {
					r *= d
				}
				w, b := randn(rng, r), randn(rng, r)
				var out, dx, db []float64
				switch op {
				case "leading": // out[i % r] += x[i]
					out, dx = make([]float64, r), make([]float64, total)
					for i := range total {
						out[i%r] += x[i]
						dx[i] = w[i%r]
					}
				case "bias": // out[i] = x[i] + b[i % r], with w over x's shape
					w = randn(rng, total)
					out, dx, db = make([]float64, total), make([]float64, total), make([]float64, r)
					for i := range total {
						out[i] = x[i] + b[i%r]
						dx[i] = w[i]
						db[i%r] += w[i]
					}
				}
				exec := MustNewExec(backend.MustShared(), func(xn, bn, wn *Node) []*Node {
					var o *Node
					switch op {
					case "leading":
						o = vjp.SumLeading(xn, n)
					default:
						o = vjp.AddTrailing(xn, bn)
					}
					return append([]*Node{o}, Gradient(ReduceAllSum(Mul(o, wn)), xn, bn)...)
				})
				wdims := keep
				if op == "bias" {
					wdims = dims
				}
				res, err := exec.Call(tensors.FromFlatDataAndDimensions(x, dims...),
					tensors.FromFlatDataAndDimensions(b, keep...), tensors.FromFlatDataAndDimensions(w, wdims...))
				if err != nil {
					t.Fatal(err)
				}
				wants := [][]float64{out, dx}
				if op == "bias" {
					wants = append(wants, db)
				}
				for i, want := range wants {
					got := tensors.MustCopyFlatData[float64](res[i])
					for j := range want {
						if math.Abs(got[j]-want[j]) > 1e-12*(1+math.Abs(want[j])) {
							t.Fatalf("%s %v n=%d: result %d [%d] = %g, want %g", op, dims, n, i, j, got[j], want[j])
						}
					}
				}
			}
		}
	}
}

func randn(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// TestWithGradientReplacesTheDefault: for y = WithGradient([x], x*x, 3v) and the loss
// sum(w*y) + sum(5x), dx = 3w + 5 exactly: the value's default gradient 2xw (built as dead
// code) never reaches x, and x's other use adds its own; the value is x*x.
func TestWithGradientReplacesTheDefault(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	x, w := randn(rng, 7), randn(rng, 7)
	exec := MustNewExec(backend.MustShared(), func(x, w *Node) []*Node {
		y := vjp.WithGradient([]*Node{x}, func(in ...*Node) *Node { return Mul(in[0], in[0]) },
			func(v *Node) []*Node { return []*Node{MulScalar(v, 3)} })
		loss := Add(ReduceAllSum(Mul(w, y)), ReduceAllSum(MulScalar(x, 5)))
		return []*Node{y, Gradient(loss, x)[0]}
	})
	res := exec.MustCall(x, w)
	y, dx := tensors.MustCopyFlatData[float64](res[0]), tensors.MustCopyFlatData[float64](res[1])
	for i := range x {
		if y[i] != x[i]*x[i] || math.Abs(dx[i]-(3*w[i]+5)) > 1e-12 {
			t.Errorf("x=%g w=%g: y = %g, dx = %g, want %g and %g", x[i], w[i], y[i], dx[i], x[i]*x[i], 3*w[i]+5)
		}
	}
}
