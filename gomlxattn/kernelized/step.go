package kernelized

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// StepState returns the zero state of causal random-feature attention for one position at a
// time: the decayed sums P [B, H, R, m, dv+1] of phi(k_j) [v_j, 1] and the keys' running
// stabiliser [B, 1, H, 1] (features.Map.KeyStep).
func (r *RandomFeatures) StepState(g *Graph, batch, heads, dv, terms int, dtype dtypes.DType) []*Node {
	p := Zeros(g, shapes.Make(dtype, batch, heads, terms, r.Map.Dim(), dv+1))
	mx := BroadcastToShape(Scalar(g, dtype, -1e30), shapes.Make(dtype, batch, 1, heads, 1))
	return []*Node{p, mx}
}

// Step attends query i to keys 0..i with the coefficients c_0 = 1 and
// c_d = sum_r w_r e^{-s_r d} for d >= 1 (posenc.ExpSum; w = 1, s = 0 without an encoding):
//
//	z_i = phi(q_i) (A_i + sum_r w_r P_r) / the same with [v, 1] -> 1,   A_i = phi(k_i) [v_i, 1]^T,
//	P_r <- e^{-s_r} (P_r + A_i),
//
// the recurrent form of Decay (Luo et al. 2021, Eq. 10-13; as RetNet, Sun et al. 2023), O(R m dv)
// per position whatever the length. q, k [B, H, d], v [B, H, dv], w and s [H, R]; state as
// StepState. It returns z_i [B, H, dv] and the next state.
func (r *RandomFeatures) Step(scope *model.Scope, q, k, v, w, s *Node, state []*Node, scale float64) (*Node, []*Node) {
	if len(state) != 2 || q.Rank() != 3 || !k.Shape().Equal(q.Shape()) || v.Rank() != 3 {
		panic(fmt.Sprintf("kernelized.Step: q %s, k %s, v %s and %d state tensors, want [B, H, d] each and 2", q.Shape(), k.Shape(), v.Shape(), len(state)))
	}
	g := q.Graph()
	bb, h, d, dv := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(2), v.Shape().Dim(2)
	rt := w.Shape().Dim(1)
	p, mx := state[0], state[1]
	xq, xk := r.Inputs(Reshape(q, bb, 1, h, d), Reshape(k, bb, 1, h, d), scale)
	wf := r.Map.Weights(scope, g, d, q.DType())
	fq := Reshape(r.Map.Queries(wf, xq), bb, h, -1) // [B, H, m]
	fk, mx, rescale := r.Map.KeyStep(wf, xk, mx)
	fk = Reshape(fk, bb, h, -1)
	m := fk.Shape().Dim(2)
	v1 := Concatenate([]*Node{v, Ones(g, shapes.Make(v.DType(), bb, h, 1))}, 2)               // [B, H, dv+1]
	a := Mul(Reshape(fk, bb, h, m, 1), Reshape(v1, bb, h, 1, dv+1))                           // [B, H, m, dv+1]
	p = Mul(p, Reshape(rescale, bb, h, 1, 1, 1))                                              // earlier keys to the new stabiliser
	past := DotGeneral(ConvertDType(w, p.DType()), []int{1}, []int{0}, p, []int{2}, []int{1}) // [H, B, m, dv+1]
	o := DotGeneral(fq, []int{2}, []int{1, 0}, Add(a, TransposeAllAxes(past, 1, 0, 2, 3)), []int{2}, []int{1, 0})
	decay := Reshape(Exp(Neg(ConvertDType(s, p.DType()))), 1, h, rt, 1, 1)
	p = Mul(Add(p, Reshape(a, bb, h, 1, m, dv+1)), decay)
	out := ratio(Reshape(TransposeAllAxes(o, 1, 0, 2), bb, 1, h, dv+1), 0) // o was [H, B, dv+1]
	return Reshape(out, bb, h, dv), []*Node{p, mx}
}
