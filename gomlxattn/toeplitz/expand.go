package toeplitz

import (
	"fmt"

	"github.com/gomlx/compute/shapes"

	. "github.com/gomlx/gomlx/core/graph"
)

// Expand turns Toeplitz coefficients [H, 2n-1] into the matrix [H, n, n] with
// M[h, i, j] = coef[h, j-i+n-1], without a gather: the rows of coef padded to 2n, tiled n
// times and re-read with row length 2n-1, are shifted by one per row.
func Expand(coef *Node, n int) *Node {
	h := coef.Shape().Dim(0)
	if coef.Shape().Dim(1) != 2*n-1 {
		panicf("toeplitz.Expand: coefficients have shape %s, want [H, %d]", coef.Shape(), 2*n-1)
	}
	if n == 1 {
		return Reshape(coef, h, 1, 1)
	}
	e := Concatenate([]*Node{coef, ZerosLike(Slice(coef, AxisRange(), AxisRange(0, 1)))}, 1) // [H, 2n]
	t := tileRows(e, n)                                                                      // [H, n, 2n]
	t = Slice(Reshape(t, h, 2*n*n), AxisRange(), AxisRange(0, n*(2*n-1)))
	t = Reshape(t, h, n, 2*n-1)
	return Slice(t, AxisRange(), AxisRange(), AxisRange(n-1, 2*n-1))
}

// tileRows returns e [H, L] repeated n times along a new axis 1, [H, n, L], by doubling
// concatenations: block copies, where a broadcast runs element by element on the Go backend.
func tileRows(e *Node, n int) *Node {
	h, l := e.Shape().Dim(0), e.Shape().Dim(1)
	cur := Reshape(e, h, 1, l)
	var parts []*Node
	for size := 1; ; size *= 2 {
		if n&size != 0 {
			parts = append(parts, cur)
		}
		if 2*size > n {
			break
		}
		cur = Concatenate([]*Node{cur, cur}, 1)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, 1)
}

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }

// Tiles returns the distinct [H, T, T] blocks of the Toeplitz matrix of coef [H, 2n-1] cut into
// nb x nb blocks of T = n/nb rows: tile d holds rows I T.. and columns (I-d) T.., the same for
// every block row I. nb must divide n; with nb = 1 the one tile is Expand(coef, n).
func Tiles(coef *Node, nb int) []*Node {
	s := (coef.Shape().Dim(1) + 1) / 2
	if nb < 1 || s%nb != 0 {
		panicf("toeplitz.Tiles: %d blocks do not divide n = %d", nb, s)
	}
	if nb == 1 {
		return []*Node{Expand(coef, s)}
	}
	t := s / nb
	tiles := make([]*Node, nb)
	for d := range nb {
		centre := s - 1 - d*t // offset -d T
		tiles[d] = Expand(SliceAxis(coef, 1, AxisRange(centre-(t-1), centre+t)), t)
	}
	return tiles
}

// DiagonalSums returns s [H, T+L-1] with s[h, t] = sum of d[h, i, j] over j - i = t - (T-1), for
// d [H, T, L]: the adjoint of expanding a [T, L] Toeplitz matrix from its T+L-1 coefficients.
// Rows extended on the left by T zeros and re-read with row length T+L+1 put element (i, j) in
// column T+j-i, so the sums are one product with a vector of ones (the Go backend pads and
// reduces over a middle axis element by element; concatenation and matmul run by blocks).
func DiagonalSums(d *Node) *Node {
	g, dt := d.Graph(), d.DType()
	h, t, l := d.Shape().Dim(0), d.Shape().Dim(1), d.Shape().Dim(2)
	w := t + l
	p := Concatenate([]*Node{Zeros(g, shapes.Make(dt, h, t, t)), d}, 2)
	p = Concatenate([]*Node{Reshape(p, h, t*w), Zeros(g, shapes.Make(dt, h, t))}, 1)
	ones := Ones(g, shapes.Make(dt, h, t))
	s := DotGeneral(ones, []int{1}, []int{0}, Reshape(p, h, t, w+1), []int{1}, []int{0}) // [H, w+1]
	return Slice(s, AxisRange(), AxisRange(1, w))
}
