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
	fkT := TransposeAllAxes(fk, 2, 1, 0, 3) // [H, n, B, m]
	vT := TransposeAllAxes(v1, 2, 1, 0, 3)  // [H, n, B, e]
	a := DotGeneral(StopGradient(fkT), nil, []int{0, 1, 2}, StopGradient(vT), nil, []int{0, 1, 2})
	return withGradient(a, []*Node{fk, v1}, func(da *Node) []*Node {
		dfk := DotGeneral(da, []int{4}, []int{0, 1, 2}, StopGradient(vT), []int{3}, []int{0, 1, 2}) // [H, n, B, m]
		dv := DotGeneral(StopGradient(fkT), []int{3}, []int{0, 1, 2}, da, []int{3}, []int{0, 1, 2}) // [H, n, B, e]
		return []*Node{TransposeAllAxes(dfk, 2, 1, 0, 3), TransposeAllAxes(dv, 2, 1, 0, 3)}
	})
}

// contractFeatures returns O[h, i, b, e] = sum_r fq[b, i, h, r] D[h, i, b, r, e], with gradients
// dfq = sum_e D dO and dD = fq (x) dO.
func contractFeatures(fq, d *Node) *Node {
	fqT := TransposeAllAxes(fq, 2, 1, 0, 3) // [H, n, B, m]
	o := DotGeneral(StopGradient(fqT), []int{3}, []int{0, 1, 2}, StopGradient(d), []int{3}, []int{0, 1, 2})
	return withGradient(o, []*Node{fq, d}, func(do *Node) []*Node {
		dfq := DotGeneral(StopGradient(d), []int{4}, []int{0, 1, 2}, do, []int{3}, []int{0, 1, 2}) // [H, n, B, m]
		dd := DotGeneral(StopGradient(fqT), nil, []int{0, 1, 2}, do, nil, []int{0, 1, 2})          // [H, n, B, m, e]
		return []*Node{TransposeAllAxes(dfq, 2, 1, 0, 3), dd}
	})
}
