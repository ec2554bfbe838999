package toeplitz

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// applyDense expands T [H, n, n] and multiplies: O(n^2) memory and O(n^2 F) time.
func applyDense(c, x *Node, causal bool) *Node {
	n := x.Shape().Dim(1)
	if causal {
		c = Mul(c, causalMask(c))
	}
	t := Expand(c, n)                                               // [H, n(i), n(j)]
	return DotGeneral(t, []int{2}, []int{0}, x, []int{1}, []int{0}) // [H, n, F]
}

// causalMask is 1 at offsets k <= 0 and 0 at k > 0, shaped [1, 2n-1] like c.
func causalMask(c *Node) *Node {
	m := c.Shape().Dim(1)
	n := (m + 1) / 2
	v := make([]float64, m)
	for t := range n {
		v[t] = 1
	}
	return ConvertDType(Reshape(Const(c.Graph(), v), 1, m), c.DType())
}
