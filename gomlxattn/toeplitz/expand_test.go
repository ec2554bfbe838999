package toeplitz_test

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestExpand checks the gather-free Toeplitz expansion against direct indexing, n = 1..9.
func TestExpand(t *testing.T) {
	for n := 1; n <= 9; n++ {
		coef := make([]float32, 2*(2*n-1))
		for i := range coef {
			coef[i] = float32(i + 1)
		}
		exec := MustNewExec(backend.MustShared(), func(c *Node) *Node { return toeplitz.Expand(c, n) })
		got := tensors.MustCopyFlatData[float32](exec.MustCall1(tensors.FromFlatDataAndDimensions(coef, 2, 2*n-1)))
		for h := range 2 {
			for i := range n {
				for j := range n {
					if want := coef[h*(2*n-1)+j-i+n-1]; got[(h*n+i)*n+j] != want {
						t.Fatalf("n=%d: M[%d,%d,%d] = %v, want %v", n, h, i, j, got[(h*n+i)*n+j], want)
					}
				}
			}
		}
	}
}

// TestTiles checks that tile d of nb blocks is the block (I, I-d) of the expanded matrix for
// every block row I, random coefficients, n = 1 to 12 and every nb dividing n.
func TestTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const h = 2
	for n := 1; n <= 12; n++ {
		coef := make([]float32, h*(2*n-1))
		for i := range coef {
			coef[i] = float32(rng.NormFloat64())
		}
		for nb := 1; nb <= n; nb++ {
			if n%nb != 0 {
				continue
			}
			tt := n / nb
			outs := MustNewExec(backend.MustShared(), func(c *Node) []*Node { return toeplitz.Tiles(c, nb) }).
				MustCall(tensors.FromFlatDataAndDimensions(coef, h, 2*n-1))
			for d, out := range outs {
				got := tensors.MustCopyFlatData[float32](out)
				for bi := d; bi < nb; bi++ { // every block row that has this tile
					for hh := range h {
						for i := range tt {
							for j := range tt {
								gi, gj := bi*tt+i, (bi-d)*tt+j
								if want := coef[hh*(2*n-1)+gj-gi+n-1]; got[(hh*tt+i)*tt+j] != want {
									t.Fatalf("n=%d nb=%d tile %d [%d,%d,%d] = %v, want M[%d,%d] = %v", n, nb, d, hh, i, j, got[(hh*tt+i)*tt+j], gi, gj, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestDiagonalSums checks the diagonal sums of random [H, T, L] matrices against direct
// summation in float64, including T = 1, L = 1 and T > L, and that they are the adjoint of
// Expand: <Expand(c), D> = <c, DiagonalSums(D)> for square D.
func TestDiagonalSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const h = 3
	for _, tl := range [][2]int{{1, 1}, {1, 7}, {5, 1}, {4, 9}, {9, 4}, {13, 13}} {
		tt, l := tl[0], tl[1]
		d := make([]float64, h*tt*l)
		for i := range d {
			d[i] = rng.NormFloat64()
		}
		want := make([]float64, h*(tt+l-1))
		for hh := range h {
			for i := range tt {
				for j := range l {
					want[hh*(tt+l-1)+j-i+tt-1] += d[(hh*tt+i)*l+j]
				}
			}
		}
		got := tensors.MustCopyFlatData[float64](MustNewExec(backend.MustShared(), toeplitz.DiagonalSums).
			MustCall1(tensors.FromFlatDataAndDimensions(d, h, tt, l)))
		if len(got) != len(want) {
			t.Fatalf("T=%d L=%d: %d sums, want %d", tt, l, len(got), len(want))
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("T=%d L=%d: sum %d = %.15g, want %.15g", tt, l, i, got[i], want[i])
			}
		}
		if tt != l {
			continue
		}
		c := make([]float64, h*(2*tt-1))
		for i := range c {
			c[i] = rng.NormFloat64()
		}
		m := tensors.MustCopyFlatData[float64](MustNewExec(backend.MustShared(), func(c *Node) *Node { return toeplitz.Expand(c, tt) }).
			MustCall1(tensors.FromFlatDataAndDimensions(c, h, 2*tt-1)))
		var lhs, rhs float64
		for i := range m {
			lhs += m[i] * d[i]
		}
		for i := range c {
			rhs += c[i] * got[i]
		}
		if math.Abs(lhs-rhs) > 1e-10*(1+math.Abs(lhs)) {
			t.Fatalf("T=L=%d: <Expand(c), D> = %.15g, <c, DiagonalSums(D)> = %.15g", tt, lhs, rhs)
		}
	}
}
