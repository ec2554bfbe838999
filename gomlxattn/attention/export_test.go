package attention

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// FusedExact is Exact by the backend's fused op, reporting whether the backend took it.
func FusedExact(q, k, v *Node, opt Options) (out *Node, fused bool) {
	scale := 1 / math.Sqrt(float64(q.Shape().Dim(3)))
	return fusedExact(q, k, v, scale, opt, func() *Node { out, _ := exact(q, k, v, scale, opt); return out })
}
