package kernelized

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestRateBasisKerpleLog: KERPLE-log's far-chunk coefficients
// sum_r w_r e^{-s_r (q + C gap + k)} through rateBasis differ from the exact sum by under 1e-6
// of their value wherever the kernel is above 1e-6, over the parameter box of
// posenc.KerpleLog.ExpTerms, for chunks from 8 to 256 and lengths to 32768; and the rank stays
// far below the number of rates.
func TestRateBasisKerpleLog(t *testing.T) {
	r1s, r2s := []float64{0.01, 0.1, 0.5, 1, 2, 8}, []float64{0.01, 0.1, 1, 10}
	heads := len(r1s) * len(r2s)
	var r1, r2 []float64
	for _, a := range r1s {
		for _, b := range r2s {
			r1, r2 = append(r1, a), append(r2, b)
		}
	}
	for _, cs := range []struct{ c, n int }{{8, 64}, {33, 1000}, {64, 4096}, {90, 8192}, {128, 16384}, {181, 32768}, {256, 2048}} {
		lo, hi := cs.c+1, cs.n-1
		rates := posenc.KerpleLog{}.ExpRates(lo, hi)
		store := model.NewStore()
		store.RootScope().VariableWithValue("kerple_log_r1", r1)
		store.RootScope().VariableWithValue("kerple_log_r2", r2)
		exec := model.MustNewExec(backend.MustShared(), store, func(scope *model.Scope, g *Graph) *Node {
			w, _ := posenc.KerpleLog{NumHeads: heads}.ExpTerms(scope, g, lo, hi, dtypes.Float64)
			return w
		})
		wt := tensors.MustCopyFlatData[float64](exec.MustCall()[0])
		nr := len(rates) + 1 // the first term is the one below the grid
		basis := newRateBasis(rates, cs.c)
		k := basis.rank()
		if k > 14 || k >= len(rates) {
			t.Errorf("C = %d, n = %d: rank %d for %d rates", cs.c, cs.n, k, len(rates))
		}
		worst := 0.0
		for hh := range heads {
			for gap := 0; gap*cs.c < cs.n; gap = max(2*gap, gap+1) {
				for q := 1; q <= cs.c; q++ {
					for j := 0; j < cs.c; j++ {
						d := float64(q + cs.c*gap + j)
						if math.Pow(1+r2[hh]*d, -r1[hh]) <= 1e-6 {
							continue
						}
						exact, approx := 0.0, 0.0
						for r, s := range rates {
							w := wt[hh*nr+1+r] * math.Exp(-s*float64(cs.c*gap))
							exact += w * math.Exp(-s*float64(q+j))
							uq, vr := 0.0, 0.0
							for i := range k {
								uq += basis.u[q][i] * basis.v[r][i]
								vr += basis.u[j][i] * basis.v[r][i]
							}
							approx += w * uq * vr
						}
						if exact > 0 {
							worst = max(worst, math.Abs(approx-exact)/exact)
						}
					}
				}
			}
		}
		if worst > 1e-6 {
			t.Errorf("C = %d, n = %d: relative error %.3g > 1e-6 (rank %d of %d)", cs.c, cs.n, worst, k, len(rates))
		}
		t.Logf("C = %d, n = %d: rank %d of %d rates, relative error %.2g", cs.c, cs.n, k, len(rates), worst)
	}
}
