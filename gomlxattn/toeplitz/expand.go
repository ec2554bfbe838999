package toeplitz

import (
	"fmt"

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
