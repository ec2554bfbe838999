// Package vjp attaches hand-written gradients to GoMLX values: where the default rules would
// transpose data-sized tensors on the Go backend, or pad every slice of a scan back to the whole.
package vjp

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// WithGradient returns value (computed by the caller from stopped-gradient inputs) with the
// gradients of inputs given by grads(v), v the incoming gradient of value. Each input passes
// through an identity whose custom gradient returns its entry of grads; a zero scalar that
// depends on those identities (through one clipped element of each, never NaN: inputs may
// hold the lowest float) is added to value, so reverse mode reaches them after value's
// own closure has computed grads.
func WithGradient(value *Node, inputs []*Node, grads func(v *Node) []*Node) *Node {
	var gs []*Node
	var zero *Node
	for i, x := range inputs {
		z := IdentityWithCustomGradient(x, func(_, _ *Node) *Node { return gs[i] })
		s := MulScalar(first(z), 0)
		if zero == nil {
			zero = s
		} else {
			zero = Add(zero, s)
		}
	}
	carrier := Add(StopGradient(value), ConvertDType(zero, value.DType()))
	return IdentityWithCustomGradient(carrier, func(_, v *Node) *Node {
		gs = grads(v)
		return v
	})
}

// first is x's first element clipped to [-1, 1], a scalar.
func first(x *Node) *Node {
	specs := make([]SliceAxisSpec, x.Rank())
	for i := range specs {
		specs[i] = AxisRange(0, 1)
	}
	return Reshape(ClipScalar(Slice(x, specs...), -1, 1))
}

// BatchMatMul is DotGeneral of lhs [batch..., M..., K...] and rhs [batch..., K..., N...], with the
// first nb axes batch and nk axes contracted, [batch..., M..., N...], with gradients in the
// inputs' own layouts:
//
//	dlhs = v . rhs^T (contracting N),   drhs = lhs^T . v (contracting M),
//
// where the default rule builds each as [batch, free, contracted] and transposes the rhs's
// back, a pass over a data-sized tensor on the Go backend.
func BatchMatMul(lhs, rhs *Node, nb, nk int) *Node {
	nm, nn := lhs.Rank()-nb-nk, rhs.Rank()-nb-nk
	batch := axes(0, nb)
	value := DotGeneral(StopGradient(lhs), axes(nb+nm, nk), batch, StopGradient(rhs), axes(nb, nk), batch)
	return WithGradient(value, []*Node{lhs, rhs}, func(v *Node) []*Node {
		return []*Node{
			DotGeneral(v, axes(nb+nm, nn), batch, rhs, axes(nb+nk, nn), batch),
			DotGeneral(lhs, axes(nb, nm), batch, v, axes(nb, nm), batch),
		}
	})
}

// axes is start, start+1, ..., n of them.
func axes(start, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = start + i
	}
	return s
}
