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

	"github.com/attnbench/attnbench/gomlxattn/internal/naive"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestChunkScan checks chunkScan and its hand-written adjoint against the recurrence in plain
// float64 Go and central differences of it, for both lags and directions.
func TestChunkScan(t *testing.T) {
	const h, nc, r, m, e = 2, 7, 3, 2, 2
	rng := rand.New(rand.NewPCG(31, 32))
	size := h * nc * r * m * e
	// scan is the oracle: S [h][c][r][m][e] flattened as P.
	scan := func(p, a []float64, lag int, future bool) []float64 {
		st := make([]float64, size)
		idx := func(hh, c, rr, i int) int { return (((hh*nc+c)*r+rr)*m*e + i) }
		for hh := range h {
			for rr := range r {
				ar := a[hh*r+rr]
				for k := lag; k < nc; k++ {
					c, prev, src := k, k-1, k-lag
					if future {
						c, prev, src = nc-1-k, nc-k, nc-1-k+lag
					}
					for i := range m * e {
						st[idx(hh, c, rr, i)] = ar*st[idx(hh, prev, rr, i)] + math.Pow(ar, float64(lag-1))*p[idx(hh, src, rr, i)]
					}
				}
			}
		}
		return st
	}
	for _, lag := range []int{1, 2} {
		for _, future := range []bool{false, true} {
			t.Run(fmt.Sprintf("lag=%d/future=%v", lag, future), func(t *testing.T) {
				p, wt, a := make([]float64, size), make([]float64, size), make([]float64, h*r)
				for i := range p {
					p[i], wt[i] = rng.NormFloat64(), rng.NormFloat64()
				}
				for i := range a {
					a[i] = 0.2 + 0.7*rng.Float64()
				}
				g := NewGraph(backend.MustShared(), "scan")
				pn := Parameter(g, "p", shapes.Make(dtypes.Float64, h, 1, nc, r, m, e))
				an := Parameter(g, "a", shapes.Make(dtypes.Float64, h, 1, 1, r, 1, 1))
				wn := Parameter(g, "w", shapes.Make(dtypes.Float64, h, 1, nc, r, m, e))
				st := chunkScan(pn, an, lag, future)
				grads := Gradient(ReduceAllSum(Mul(st, wn)), pn, an)
				g.Compile(st, grads[0], grads[1])
				res := g.Run(tensors.FromFlatDataAndDimensions(p, h, 1, nc, r, m, e), tensors.FromFlatDataAndDimensions(a, h, 1, 1, r, 1, 1),
					tensors.FromFlatDataAndDimensions(wt, h, 1, nc, r, m, e))
				got := tensors.MustCopyFlatData[float64](res[0])
				for i, want := range scan(p, a, lag, future) {
					if math.Abs(got[i]-want) > 1e-12*(1+math.Abs(want)) {
						t.Fatalf("S[%d] = %.12g, recurrence %.12g", i, got[i], want)
					}
				}
				loss := func() float64 {
					s := 0.0
					for i, x := range scan(p, a, lag, future) {
						s += x * wt[i]
					}
					return s
				}
				for xi, x := range [][]float64{p, a} {
					gg := tensors.MustCopyFlatData[float64](res[1+xi])
					for i := range x {
						if want := naive.CentralDiff(x, i, 1e-6, loss); math.Abs(gg[i]-want) > 1e-6*(1+math.Abs(want)) {
							t.Errorf("gradient of input %d at %d = %.9g, finite differences %.9g", xi, i, gg[i], want)
						}
					}
				}
			})
		}
	}
}
