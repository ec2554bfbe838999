package toeplitz

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// applyDense expands T [H, n, n] and multiplies: O(n^2) memory and O(n^2 F) time.
func applyDense(c, x *Node, causal bool) *Node {
	n := x.Shape().Dim(1)
	if causal { // select, not multiply: an infinite c_k at a future offset must not give NaN
		c = Where(BroadcastToShape(causalMask(c), c.Shape()), c, ZerosLike(c))
	}
	t := Expand(c, n)                                               // [H, n(i), n(j)]
	return DotGeneral(t, []int{2}, []int{0}, x, []int{1}, []int{0}) // [H, n, F]
}

// causalMask is true at offsets k <= 0 and false at k > 0, shaped [1, 2n-1] like c.
func causalMask(c *Node) *Node {
	m := c.Shape().Dim(1)
	n := (m + 1) / 2
	v := make([]bool, m)
	for t := range n {
		v[t] = true
	}
	return Reshape(Const(c.Graph(), v), 1, m)
}
