package kernelized

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/features"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestQuadraticSums checks quadraticSums in float64 against the sums computed in plain Go, and
// its hand-written gradients against GoMLX's default gradients of the same sums formed densely
// and against central finite differences, for one block and for nb query blocks (n = 1, odd n,
// blocks of 1 to 5 rows).
func TestQuadraticSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const b, h, m, e = 2, 2, 3, 4
	for _, tc := range []struct {
		n, nb  int
		causal bool
	}{{1, 1, false}, {1, 1, true}, {7, 1, false}, {7, 1, true}, {12, 3, true}, {15, 5, true}, {6, 6, true}} {
		n := tc.n
		name := fmt.Sprintf("n=%d/nb=%d/causal=%v", n, tc.nb, tc.causal)
		fill := func(size int, lo, hi float64) []float64 {
			x := make([]float64, size)
			for i := range x {
				x[i] = lo + (hi-lo)*rng.Float64()
			}
			return x
		}
		fq, fk, v1, r := fill(b*n*h*m, 0.1, 1), fill(b*n*h*m, 0.1, 1), fill(b*n*h*e, -1, 1), fill(b*n*h*e, -1, 1)
		c := fill(h*(2*n-1), 0.2, 1.5)
		if tc.causal {
			for hh := range h {
				for k := n; k < 2*n-1; k++ {
					c[hh*(2*n-1)+k] = 0
				}
			}
		}
		at := func(x []float64, bb, i, hh, d, dim int) float64 { return x[((bb*n+i)*h+hh)*dim+d] }
		want := make([]float64, b*n*h*e)
		for bb := range b {
			for hh := range h {
				for i := range n {
					for j := range n {
						s := 0.0
						for r := range m {
							s += at(fq, bb, i, hh, r, m) * at(fk, bb, j, hh, r, m)
						}
						w := s * c[hh*(2*n-1)+j-i+n-1]
						for d := range e {
							want[((bb*n+i)*h+hh)*e+d] += w * at(v1, bb, j, hh, d, e)
						}
					}
				}
			}
		}
		tens := func(x []float64, dims ...int) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(x, dims...) }
		args := []any{tens(fq, b, n, h, m), tens(fk, b, n, h, m), tens(v1, b, n, h, e), tens(c, h, 2*n-1), tens(r, b, n, h, e)}
		dense := func(fq, fk, v1, c *Node) *Node { // W = S * T(c) over all pairs, default gradients
			s := DotGeneral(fq, []int{3}, []int{0, 2}, fk, []int{3}, []int{0, 2}) // [B, H, n, n]
			w := Mul(s, ExpandAxes(toeplitz.Expand(c, n), 0))
			return TransposeAllAxes(DotGeneral(w, []int{3}, []int{0, 1}, v1, []int{1}, []int{0, 2}), 0, 2, 1, 3)
		}
		grads := func(f func(fq, fk, v1, c *Node) *Node) [][]float64 {
			outs := MustNewExec(backend.MustShared(), func(fq, fk, v1, c, r *Node) []*Node {
				o := f(fq, fk, v1, c)
				return append([]*Node{o}, Gradient(ReduceAllSum(Mul(o, r)), fq, fk, v1, c)...)
			}).MustCall(args...)
			res := make([][]float64, len(outs))
			for i, x := range outs {
				res[i] = tensors.MustCopyFlatData[float64](x)
			}
			return res
		}
		got := grads(func(fq, fk, v1, c *Node) *Node { return quadraticSums(fq, fk, v1, c, tc.nb) })
		ref := grads(dense)
		for i := range want {
			if math.Abs(got[0][i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("%s: o[%d] = %.15g, want %.15g", name, i, got[0][i], want[i])
			}
		}
		names := []string{"dfq", "dfk", "dv1", "dc"}
		for gi := 1; gi < len(got); gi++ {
			for i := range ref[gi] {
				if gi == 4 && tc.causal && i%(2*n-1) >= n {
					continue // c_k = 0 for k > 0; the dense sums use these offsets beyond the blocks
				}
				if math.Abs(got[gi][i]-ref[gi][i]) > 1e-12*(1+math.Abs(ref[gi][i])) {
					t.Fatalf("%s: %s[%d] = %.15g, default gradient %.15g", name, names[gi-1], i, got[gi][i], ref[gi][i])
				}
			}
		}
		loss := MustNewExec(backend.MustShared(), func(fq, fk, v1, c, r *Node) *Node {
			return ReduceAllSum(Mul(quadraticSums(fq, fk, v1, c, tc.nb), r))
		})
		inputs := [][]float64{fq, fk, v1, c}
		for which, in := range inputs {
			idx := rng.IntN(len(in))
			if which == 3 && tc.causal {
				idx = rng.IntN(n) // an offset k <= 0: c_k for k > 0 is 0 and its gradient unused
			}
			const eps = 1e-6
			orig := in[idx]
			eval := func(x float64) float64 {
				in[idx] = x
				a := []any{tens(fq, b, n, h, m), tens(fk, b, n, h, m), tens(v1, b, n, h, e), tens(c, h, 2*n-1), tens(r, b, n, h, e)}
				return tensors.MustCopyFlatData[float64](loss.MustCall1(a...))[0]
			}
			fd := (eval(orig+eps) - eval(orig-eps)) / (2 * eps)
			in[idx] = orig
			if g := got[which+1][idx]; math.Abs(g-fd) > 1e-7*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: %s[%d] = %.10g, finite difference %.10g", name, names[which], idx, g, fd)
			}
		}
	}
}

// TestUseQuadratic checks EvalAuto's choice against its stated rule: the quadratic weights
// where QuadraticCost is below toeplitz.Cost and, when training, the stored weights fit
// max(Toeplitz operands, QuadraticMaxElements); and that explicit evaluations are obeyed.
func TestUseQuadratic(t *testing.T) {
	g := NewGraph(backend.MustShared(), "choice")
	for _, m := range []int{1, 16, 64} {
		for _, n := range []int{1, 63, 1000, 1024, 4096, 8192, 16384} {
			for _, causal := range []bool{false, true} {
				for _, inference := range []bool{false, true} {
					const b, h, dv = 2, 8, 64
					fq := Parameter(g, fmt.Sprintf("fq%d_%d_%v_%v", m, n, causal, inference), shapes.Make(dtypes.Float32, b, n, h, m))
					v := Parameter(g, fmt.Sprintf("v%d_%d_%v_%v", m, n, causal, inference), shapes.Make(dtypes.Float32, b, n, h, dv))
					opt := RPEOptions{Causal: causal, Inference: inference}
					cheaper := QuadraticCost(b, n, m, dv, causal) < toeplitz.Cost(g, toeplitz.Auto, n, b*m*(dv+1))
					weights := 2 * float64(b*h) * quadraticPairs(n, causal)
					fits := inference || weights <= float64(max(4*b*h*n*m*(dv+1), QuadraticMaxElements))
					if got := useQuadratic(opt, fq, v); got != (cheaper && fits) {
						t.Errorf("m=%d n=%d causal=%v inference=%v: quadratic %v, want cheaper %v and fits %v", m, n, causal, inference, got, cheaper, fits)
					}
					opt.Evaluation = EvalQuadratic
					if !useQuadratic(opt, fq, v) {
						t.Errorf("m=%d n=%d: EvalQuadratic not obeyed", m, n)
					}
					opt.Evaluation = EvalToeplitz
					if useQuadratic(opt, fq, v) {
						t.Errorf("m=%d n=%d: EvalToeplitz not obeyed", m, n)
					}
				}
			}
		}
	}
	// The benchmark's FFT-RPE (B = 1, H = 8, d = 64, causal, training): quadratic up to 4096
	// positions for m = 16 and to 8192 for m = 64, the Toeplitz product beyond.
	for _, tc := range []struct {
		m, n int
		want bool
	}{{16, 1024, true}, {16, 4096, true}, {16, 8192, false}, {16, 16384, false}, {64, 8192, true}, {64, 16384, false}} {
		fq := Parameter(g, fmt.Sprintf("bq%d_%d", tc.m, tc.n), shapes.Make(dtypes.Float32, 1, tc.n, 8, tc.m))
		v := Parameter(g, fmt.Sprintf("bv%d_%d", tc.m, tc.n), shapes.Make(dtypes.Float32, 1, tc.n, 8, 64))
		if got := useQuadratic(RPEOptions{Causal: true}, fq, v); got != tc.want {
			t.Errorf("benchmark m=%d n=%d: quadratic %v, want %v", tc.m, tc.n, got, tc.want)
		}
	}
}

// TestActivationBytesCoversTheWeights: the memory estimate of kernelized_rpe covers the n x n
// weights wherever the evaluation may keep them, and is the Toeplitz operands' alone otherwise.
func TestActivationBytesCoversTheWeights(t *testing.T) {
	const b, h, d = 2, 4, 64
	for _, m := range []int{4, 16} {
		for _, n := range []int{64, 1024, 8192} {
			feat := 4 * 2 * float64(b*n*h*m)
			toep := 4 * 4 * float64(b*n*h*m*(d+1))
			weights := 4 * 2 * float64(b*h) * float64(n) * float64(n)
			for _, ev := range []Evaluation{EvalAuto, EvalToeplitz, EvalQuadratic} {
				r := &RandomFeatures{RPE: true, Map: features.Map{M: m}, Evaluation: ev}
				got := r.ActivationBytes(b, n, h, d)
				allowed := ev == EvalQuadratic || ev == EvalAuto && weights/4 <= max(toep/4, QuadraticMaxElements)
				want := feat + toep
				if allowed {
					want = feat + max(toep, weights)
				}
				if got != want {
					t.Errorf("m=%d n=%d %s: %.4g bytes, want %.4g", m, n, EvaluationNames[ev], got, want)
				}
			}
		}
	}
}
