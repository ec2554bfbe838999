// Package vjp attaches hand-written gradients to GoMLX values: where the default rules would
// transpose data-sized tensors on the Go backend, or pad every slice of a scan back to the whole;
// and sums by matmul, which that backend runs several times faster than its ReduceSum.
package vjp

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// WithGradient returns value(in...), in the inputs each passed through an identity, with the
// gradients of the inputs given by grads(v), v the incoming gradient of the result. Reverse mode
// reaches the identities through value's own ops; their default gradients are built but never
// read (the identities return grads instead), so the backend drops them as dead code, and no
// StopGradient (which the Go backend runs as a copy) or extra pass over the result is needed.
// value must compute from in, constants and nodes that need no gradient (integer indices, fixed
// matrices): a differentiable node captured from outside would also receive its default
// gradient. grads may use nodes that value built.
func WithGradient(inputs []*Node, value func(in ...*Node) *Node, grads func(v *Node) []*Node) *Node {
	var gs []*Node
	in := make([]*Node, len(inputs))
	for i, x := range inputs {
		in[i] = IdentityWithCustomGradient(x, func(_, _ *Node) *Node { return gs[i] })
	}
	return IdentityWithCustomGradient(value(in...), func(_, v *Node) *Node {
		gs = grads(v)
		return v
	})
}

// BatchMatMul is DotGeneral of lhs [batch..., M..., K...] and rhs [batch..., K..., N...], with the
// first nb axes batch and nk axes contracted, [batch..., M..., N...], with gradients in the
// inputs' own layouts:
//
//	dlhs = v . rhs^T (contracting N),   drhs = lhs^T . v (contracting M),
//
// where the default rule builds each as [batch, free, contracted] and transposes it back, even
// by the identity permutation: a generic copy of a data-sized tensor on the Go backend. With
// nb = 0 and nk = 1 it is a dense layer x W.
func BatchMatMul(lhs, rhs *Node, nb, nk int) *Node {
	nm, nn := lhs.Rank()-nb-nk, rhs.Rank()-nb-nk
	batch := axes(0, nb)
	return WithGradient([]*Node{lhs, rhs}, func(in ...*Node) *Node {
		lhs, rhs = in[0], in[1]
		return DotGeneral(lhs, axes(nb+nm, nk), batch, rhs, axes(nb, nk), batch)
	}, func(v *Node) []*Node {
		return []*Node{
			DotGeneral(v, axes(nb+nm, nn), batch, rhs, axes(nb+nk, nn), batch),
			contractLeading(lhs, v, nb, nm),
		}
	})
}

// BatchMatMulT is a b^T for a [batch..., M..., K...] and b [batch..., N..., K...], the first nb
// axes batch and the last nk contracted: [batch..., M..., N...], with gradients
//
//	da = v . b (contracting N),   db = v^T . a (contracting M),
//
// in layouts the Go backend's matmul takes without transposing (but for one operand of db).
func BatchMatMulT(a, b *Node, nb, nk int) *Node {
	nm, nn := a.Rank()-nb-nk, b.Rank()-nb-nk
	batch := axes(0, nb)
	return WithGradient([]*Node{a, b}, func(in ...*Node) *Node {
		a, b = in[0], in[1]
		return DotGeneral(a, axes(nb+nm, nk), batch, b, axes(nb+nn, nk), batch)
	}, func(v *Node) []*Node {
		return []*Node{
			DotGeneral(v, axes(nb+nm, nn), batch, b, axes(nb, nn), batch),
			contractLeading(v, a, nb, nm),
		}
	})
}

// contractLeading is a^T b for a [batch..., M..., K...] and b [batch..., M..., N...], contracting
// M: [batch..., K..., N...]. The Go backend's matmul wants the lhs contracting last and the rhs
// contracting first after the batch, and transposes both operands of any other layout; here one
// operand is transposed explicitly, the cheaper of a -> [batch, K, M], or b -> [batch, N, M]
// and the [batch, N, K] result back.
func contractLeading(a, b *Node, nb, nm int) *Node {
	nk, nn := a.Rank()-nb-nm, b.Rank()-nb-nm
	batch := axes(0, nb)
	swap := func(x *Node, nx int) *Node { // [batch, M, X] -> [batch, X, M]
		return permute(x, append(append(axes(0, nb), axes(nb+nm, nx)...), axes(nb, nm)...))
	}
	m, k, n := span(a, nb, nb+nm), span(a, nb+nm, a.Rank()), span(b, nb+nm, b.Rank())
	if m*k <= n*(m+k) { // elements moved, per batch
		return DotGeneral(swap(a, nk), axes(nb+nk, nm), batch, b, axes(nb, nm), batch)
	}
	r := DotGeneral(swap(b, nn), axes(nb+nn, nm), batch, a, axes(nb, nm), batch) // [batch, N, K]
	return permute(r, append(append(axes(0, nb), axes(nb+nn, nk)...), axes(nb, nn)...))
}

// MatMulT is x [..., K] times w [N, K] transposed, [..., N] (a tied output layer), with
// gradients in the inputs' layouts: dx = v w (contracting N), dw = v^T x (contracting every
// leading axis).
func MatMulT(x, w *Node) *Node {
	last := x.Rank() - 1
	return WithGradient([]*Node{x, w}, func(in ...*Node) *Node {
		x, w = in[0], in[1]
		return DotGeneral(x, []int{last}, nil, w, []int{1}, nil)
	}, func(v *Node) []*Node {
		return []*Node{
			DotGeneral(v, []int{last}, nil, w, []int{0}, nil),
			contractLeading(v, x, 0, last),
		}
	})
}

// permute transposes x by perm, or returns x for the identity (which GoMLX would copy).
func permute(x *Node, perm []int) *Node {
	for i, p := range perm {
		if i != p {
			return TransposeAllAxes(x, perm...)
		}
	}
	return x
}

// SumLeading is x summed over its first n axes, [trail...], as a ones vector times x [r, c]: the
// Go backend's ReduceSum walks an index iterator on one core, its matmul is vectorized and
// parallel. The gradient is v broadcast back over the summed axes.
func SumLeading(x *Node, n int) *Node {
	r, c := span(x, 0, n), span(x, n, x.Rank())
	ones := Ones(x.Graph(), shapes.Make(x.DType(), r))
	return WithGradient([]*Node{x}, func(in ...*Node) *Node {
		return Reshape(DotGeneral(ones, []int{0}, nil, Reshape(in[0], r, c), []int{0}, nil), x.Shape().Dimensions[n:]...)
	}, func(v *Node) []*Node {
		return []*Node{BroadcastToShape(Reshape(v, append(ones1(n), x.Shape().Dimensions[n:]...)...), x.Shape())}
	})
}

// AddTrailing is x + b, b [trail...] broadcast over x's leading axes (a bias), with
// db = SumLeading(v).
func AddTrailing(x, b *Node) *Node {
	n := x.Rank() - b.Rank()
	return WithGradient([]*Node{x, b}, func(in ...*Node) *Node {
		return Add(in[0], Reshape(in[1], append(ones1(n), b.Shape().Dimensions...)...))
	}, func(v *Node) []*Node {
		return []*Node{v, SumLeading(v, n)}
	})
}

// ones1 is n dimensions of 1.
func ones1(n int) []int {
	d := make([]int, n)
	for i := range d {
		d[i] = 1
	}
	return d
}

// span is the product of x's dimensions from axis lo up to hi.
func span(x *Node, lo, hi int) int {
	p := 1
	for i := lo; i < hi; i++ {
		p *= x.Shape().Dim(i)
	}
	return p
}

// axes is start, start+1, ..., n of them.
func axes(start, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = start + i
	}
	return s
}
