package attention

import (
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
)

// fusable reports whether Exact with opt can use the backend's fused attention: the backend
// reports the op, and the call needs nothing the op does not do.
func fusable(g *Graph, opt Options, sq, sk int) bool {
	caps := g.Backend().Capabilities()
	switch {
	case !caps.Operations[compute.OpTypeFusedScaledDotProductAttention]:
		return false
	case opt.WantProbs, opt.KeyMask != nil, opt.Window > 0, opt.DropoutRate > 0 && opt.Scope != nil:
		return false
	case opt.Causal && sq != sk: // the fused causal mask is aligned at the first positions
		return false
	case opt.Bias != nil && opt.Bias.WeightMatrix() != nil:
		return false
	}
	return true
}

// fusedExact is softmax attention by the backend's fused op: q, k, v [B, S, H, D], the bias
// [H, S, S] broadcast over the batch. ok is false when the backend refused the configuration
// (e.g. a dtype it does not take), and then out is decomposed().
func fusedExact(q, k, v *Node, scale float64, opt Options, decomposed func() *Node) (out *Node, ok bool) {
	caps := q.Graph().Backend().Capabilities()
	var bias *Node
	if opt.Bias != nil {
		b, h, s := q.Shape().Dim(0), q.Shape().Dim(2), q.Shape().Dim(1)
		bias = BroadcastToDims(ExpandAxes(ConvertDType(opt.Bias.Matrix(), q.DType()), 0), b, h, s, s)
	}
	fused := func() *Node {
		cfg := &compute.ScaledDotProductAttentionConfig{Scale: scale, Causal: opt.Causal}
		if bias != nil {
			cfg.Bias = InternalBackendOutputs(bias)[0]
		}
		out, _ := BackendFusedScaledDotProductAttention(q, k, v, compute.AttentionAxesLayoutBSHD, cfg)
		return out
	}
	decomposedVJP := bias != nil || !caps.Operations[compute.OpTypeFusedScaledDotProductAttentionVJP]
	return InternalFusedOpCaller(fused, decomposed, decomposedVJP)
}
