package posenc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

// expSum evaluates the exponential sum of enc for the distances lo..n at those distances,
// [H][n-lo+1], and its gradients with respect to the variables named in grads (of the sum over
// heads and distances).
func expSum(t *testing.T, enc posenc.ExpSum, lo, n int, vars map[string][]float64, grads ...string) ([][]float64, [][]float64) {
	t.Helper()
	store := model.NewStore()
	for name, v := range vars {
		store.RootScope().VariableWithValue(name, v)
	}
	exec := model.MustNewExec(backend.MustShared(), store, func(scope *model.Scope, g *Graph) []*Node {
		w, s := enc.ExpTerms(scope, g, lo, n, dtypes.Float64)
		if r := w.Shape().Dim(1); r != enc.ExpCount(lo, n) {
			t.Fatalf("ExpTerms(%d, %d) has %d terms, ExpCount says %d", lo, n, r, enc.ExpCount(lo, n))
		}
		d := Reshape(AddScalar(Iota(g, shapes1(n-lo+1), 0), float64(lo)), 1, 1, n-lo+1) // [1, 1, n-lo+1]
		f := ReduceSum(Mul(ExpandAxes(w, -1), Exp(Neg(Mul(ExpandAxes(s, -1), d)))), 1)  // [H, n]
		out := []*Node{f}
		for _, name := range grads {
			out = append(out, Gradient(ReduceAllSum(f), scope.GetVariable(name).NodeValue(g))[0])
		}
		return out
	})
	res, err := exec.Call()
	if err != nil {
		t.Fatal(err)
	}
	var gs [][]float64
	for _, r := range res[1:] {
		gs = append(gs, tensorF64(r))
	}
	return res[0].Value().([][]float64), gs
}

func TestALiBiExpSumIsExact(t *testing.T) {
	for _, h := range []int{1, 3, 8} {
		enc := posenc.ALiBi{Slopes: posenc.ALiBiSlopes(h), Causal: true}
		n := 37
		f, _ := expSum(t, enc, 1, n, nil)
		for hi := range h {
			for d := 1; d <= n; d++ {
				near(t, fmt.Sprintf("H=%d h=%d d=%d", h, hi, d), f[hi][d-1], math.Exp(-enc.Slopes[hi]*float64(d)), 1e-12)
			}
		}
	}
}

// TestKerpleLogExpSum checks the quadrature against (1 + r2 d)^(-r1) at every distance of its
// range, for random and extreme parameters, lengths and nearest distances, and its gradients
// against the exact derivatives.
func TestKerpleLogExpSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	for _, span := range [][2]int{{1, 1}, {1, 7}, {1, 100}, {1, 1000}, {1, 8192}, {3, 100}, {17, 1000}, {129, 8192}, {257, 16384}, {500, 501}} {
		lo, n := span[0], span[1]
		const h = 6
		r1, r2 := make([]float64, h), make([]float64, h)
		for i := range r1 {
			r1[i] = math.Exp(math.Log(0.01) + rng.Float64()*math.Log(8/0.01))
			r2[i] = math.Exp(math.Log(0.01) + rng.Float64()*math.Log(10/0.01))
		}
		r1[0], r2[0] = 0.01, 0.01 // the clamps' lower ends
		r1[1], r2[1] = 8, 10
		r1[2], r2[2] = 0.01, 10
		r1[3], r2[3] = 8, 0.01
		enc := posenc.KerpleLog{NumHeads: h, Causal: true}
		f, g := expSum(t, enc, lo, n, map[string][]float64{"kerple_log_r1": r1, "kerple_log_r2": r2}, "kerple_log_r1", "kerple_log_r2")
		for hi := range h {
			g1, g2 := 0.0, 0.0
			for d := lo; d <= n; d++ {
				want := math.Pow(1+r2[hi]*float64(d), -r1[hi])
				got := f[hi][d-lo]
				rel := math.Abs(got-want) / math.Max(want, 1e-6)
				worst = math.Max(worst, rel)
				if rel > 1e-3 || math.IsNaN(got) {
					t.Fatalf("d in [%d, %d] r1=%.3g r2=%.3g d=%d: sum %.6g, exact %.6g (relative error %.2g)", lo, n, r1[hi], r2[hi], d, got, want, rel)
				}
				g1 += -math.Log1p(r2[hi]*float64(d)) * want
				g2 += -r1[hi] * float64(d) / (1 + r2[hi]*float64(d)) * want
			}
			near(t, fmt.Sprintf("d in [%d, %d] r1=%.3g r2=%.3g d/dr1", lo, n, r1[hi], r2[hi]), g[0][hi], g1, 0.02)
			near(t, fmt.Sprintf("d in [%d, %d] r1=%.3g r2=%.3g d/dr2", lo, n, r1[hi], r2[hi]), g[1][hi], g2, 0.02)
		}
	}
	t.Logf("worst relative error %.3g", worst)
}

func shapes1(n int) shapes.Shape { return shapes.Make(dtypes.Float64, n) }
