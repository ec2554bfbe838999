package transformer

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
)

// TokenLoss is the cross-entropy -log softmax(logits)[label] at every position, for logits
// [..., V] and integer labels [..., 1]: [...]. With p the backend's fused softmax,
//
//	loss = (max logits - logits[label]) - log(max p),
//
// since max p = exp(max - logsumexp) lies in [1/V, 1] and never underflows; the gradient is
// (p - onehot(label)) v. The Go backend computes p with a float32 exp; LogSoftmax would take
// float64 math.Exp per element, forward and backward.
func TokenLoss(logits, labels *Node) *Node {
	dims := logits.Shape().Dimensions
	v := dims[len(dims)-1]
	rows := logits.Shape().Size() / v
	if !labels.DType().IsInt() || labels.Shape().Size() != rows || labels.Shape().Dim(-1) != 1 {
		panicf("transformer.TokenLoss: labels have shape %s, want integers [%v, 1] for logits %s", labels.Shape(), dims[:len(dims)-1], logits.Shape())
	}
	g := logits.Graph()
	// idx [rows, 2]: (row, label) of each position.
	idx := Concatenate([]*Node{
		Iota(g, shapes.Make(dtypes.Int32, rows, 1), 0),
		ConvertDType(Reshape(labels, rows, 1), dtypes.Int32),
	}, 1)
	var p *Node
	loss := vjp.WithGradient([]*Node{logits}, func(in ...*Node) *Node {
		l := Reshape(in[0], rows, v)
		p = Softmax(l, -1)
		picked := Gather(l, idx) // [rows]
		top := ReduceMax(l, -1)
		return Sub(Sub(top, picked), Log(ReduceMax(p, -1)))
	}, func(dv *Node) []*Node {
		d := Mul(p, Reshape(dv, rows, 1))
		d = ScatterSum(d, idx, Neg(dv), true, true)
		return []*Node{Reshape(d, dims...)}
	})
	return Reshape(loss, dims[:len(dims)-1]...)
}
