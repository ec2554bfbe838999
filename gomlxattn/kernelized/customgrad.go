package kernelized

import (
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
)

// withGradient is vjp.WithGradient: the default DotGeneral gradient transposes data-sized
// tensors on the go backend.
var withGradient = vjp.WithGradient

// outerFeatures returns A[h, j, b, r, e] = fk[b, j, h, r] v1[b, j, h, e] for fk [B, n, H, m] and
// v1 [B, n, H, e], with gradients dfk = sum_e dA v1 and dv1 = sum_r dA fk.
func outerFeatures(fk, v1 *Node) *Node {
	var fkT, vT *Node
	return withGradient([]*Node{fk, v1}, func(in ...*Node) *Node {
		fkT = TransposeAllAxes(in[0], 2, 1, 0, 3) // [H, n, B, m]
		vT = TransposeAllAxes(in[1], 2, 1, 0, 3)  // [H, n, B, e]
		return DotGeneral(fkT, nil, []int{0, 1, 2}, vT, nil, []int{0, 1, 2})
	}, func(da *Node) []*Node {
		dfk := DotGeneral(da, []int{4}, []int{0, 1, 2}, vT, []int{3}, []int{0, 1, 2}) // [H, n, B, m]
		dv := DotGeneral(fkT, []int{3}, []int{0, 1, 2}, da, []int{3}, []int{0, 1, 2}) // [H, n, B, e]
		return []*Node{TransposeAllAxes(dfk, 2, 1, 0, 3), TransposeAllAxes(dv, 2, 1, 0, 3)}
	})
}

// contractFeatures returns O[h, i, b, e] = sum_r fq[b, i, h, r] D[h, i, b, r, e], with gradients
// dfq = sum_e D dO and dD = fq (x) dO.
func contractFeatures(fq, d *Node) *Node {
	var fqT *Node
	return withGradient([]*Node{fq, d}, func(in ...*Node) *Node {
		fqT, d = TransposeAllAxes(in[0], 2, 1, 0, 3), in[1] // [H, n, B, m]
		return DotGeneral(fqT, []int{3}, []int{0, 1, 2}, d, []int{3}, []int{0, 1, 2})
	}, func(do *Node) []*Node {
		dfq := DotGeneral(d, []int{4}, []int{0, 1, 2}, do, []int{3}, []int{0, 1, 2}) // [H, n, B, m]
		dd := DotGeneral(fqT, nil, []int{0, 1, 2}, do, nil, []int{0, 1, 2})          // [H, n, B, m, e]
		return []*Node{TransposeAllAxes(dfq, 2, 1, 0, 3), dd}
	})
}
