package attention

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// Options configure one attention call.
type Options struct {
	// Causal lets query i see keys j <= i only.
	Causal bool
	// KeyMask [B, Sk] Bool marks valid (attendable) keys; nil means all are valid.
	KeyMask *Node
	// Window > 0 adds a band mask: 0 <= i-j < Window when causal, |i-j| < Window otherwise
	// (the "windowed@W" evaluation of KERPLE, Chi et al. 2022 section 5.5).
	Window int
	// Bias is the relative encoding of this forward pass, or nil.
	Bias *posenc.Bias
	// Scale multiplies q.k; 0 means 1/sqrt(d_h).
	Scale float64
	// DropoutRate of the attention probabilities, applied only in training graphs (needs Scope).
	DropoutRate float64
	Scope       *model.Scope
	// WantProbs asks for the attention probabilities [B, H, Sq, Sk].
	WantProbs bool
}

// Exact is exact softmax attention z_i = sum_j p_ij v_j with
// p_ij = softmax_j(w_{j-i} * q_i.k_j * scale + b_{j-i}) over the visible keys.
//
// q [B, Sq, H, D], k [B, Sk, H, D], v [B, Sk, H, Dv] -> out [B, Sq, H, Dv] and, when asked,
// probabilities [B, H, Sq, Sk]. Masked logits are replaced (not added to), the row maximum is
// taken over visible keys only, and a query with no visible key gets zero probabilities and a
// zero output: no NaN or Inf for any mask.
//
// On a backend that reports a fused scaled-dot-product attention (cuDNN flash attention on CUDA,
// for the dtypes it takes) the forward pass uses it, with the bias as an additive score bias,
// whenever the options allow (no probabilities, dropout, key mask, window or weighted logits);
// elsewhere, and for configurations the backend refuses, the decomposed graph is used. With a
// bias the gradient is taken through the decomposed graph, since the fused backward returns no
// bias gradient and the encodings' parameters need one.
func Exact(q, k, v *Node, opt Options) (out, probs *Node) {
	checkQKV(q, k, v)
	g := q.Graph()
	sq, d := q.Shape().Dim(1), q.Shape().Dim(3)
	sk := k.Shape().Dim(1)
	scale := opt.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(d))
	}
	if opt.Bias != nil && (opt.Bias.N != sq || sq != sk) {
		panicf("attention: relative bias built for n=%d, but queries have %d and keys %d positions", opt.Bias.N, sq, sk)
	}
	decomposed := func() (out, probs *Node) { return exact(q, k, v, scale, opt) }
	if fusable(g, opt, sq, sk) {
		if out, ok := fusedExact(q, k, v, scale, opt, func() *Node { out, _ := decomposed(); return out }); ok {
			return out, nil
		}
	}
	return decomposed()
}

// exact is the decomposed graph of Exact.
func exact(q, k, v *Node, scale float64, opt Options) (out, probs *Node) {
	g := q.Graph()
	b, sq, h := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(2)
	sk := k.Shape().Dim(1)
	if direct(opt, sq, sk) {
		return directExact(q, k, v, scale, opt), nil
	}
	logits := MulScalar(DotGeneral(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2}), scale) // [B, H, Sq, Sk]
	if opt.Bias != nil {
		if w := opt.Bias.WeightMatrix(); w != nil {
			logits = Mul(logits, ExpandAxes(ConvertDType(w, logits.DType()), 0))
		}
		logits = Add(logits, ExpandAxes(ConvertDType(opt.Bias.Matrix(), logits.DType()), 0))
	}
	mask := Mask(g, b, h, sq, sk, opt.Causal, opt.Window, opt.KeyMask)
	probs = SafeSoftmax(logits, mask)
	if opt.DropoutRate > 0 && opt.Scope != nil {
		probs = layers.DropoutStatic(opt.Scope, probs, opt.DropoutRate)
	}
	out = DotGeneral(probs, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [B, H, Sq, Dv]
	out = TransposeAllAxes(out, 0, 2, 1, 3)
	if !opt.WantProbs {
		probs = nil
	}
	return out, probs
}

// Mask returns the Bool visibility mask [B, H, Sq, Sk] (true = visible), or nil when every key is
// visible. Causal and Window masks align the last query with the last key.
func Mask(g *Graph, b, h, sq, sk int, causal bool, window int, keyMask *Node) *Node {
	var m *Node
	and := func(x *Node) {
		if m == nil {
			m = x
		} else {
			m = LogicalAnd(m, x)
		}
	}
	if causal || window > 0 {
		i := AddScalar(Iota(g, shapes.Make(dtypes.Int32, sq, sk), 0), float64(sk-sq))
		j := Iota(g, shapes.Make(dtypes.Int32, sq, sk), 1)
		diff := Sub(i, j) // i - j
		if causal {
			and(GreaterOrEqual(diff, ZerosLike(diff)))
		}
		if window > 0 {
			w := Scalar(g, dtypes.Int32, window)
			if causal {
				and(LessThan(diff, BroadcastToDims(w, sq, sk)))
			} else {
				and(LessThan(Abs(diff), BroadcastToDims(w, sq, sk)))
			}
		}
		m = BroadcastToDims(Reshape(m, 1, 1, sq, sk), b, h, sq, sk)
	}
	if keyMask != nil {
		if keyMask.DType() != dtypes.Bool || keyMask.Rank() != 2 || keyMask.Shape().Dim(0) != b || keyMask.Shape().Dim(1) != sk {
			panicf("attention: key mask has shape %s, want Bool[%d, %d]", keyMask.Shape(), b, sk)
		}
		and(BroadcastToDims(Reshape(keyMask, b, 1, 1, sk), b, h, sq, sk))
	}
	return m
}

// SafeSoftmax is softmax over the last axis restricted to mask (nil = no mask). Fully masked
// rows give all-zero probabilities.
func SafeSoftmax(logits, mask *Node) *Node {
	if mask == nil {
		return softmaxLast(logits)
	}
	low := Scalar(logits.Graph(), logits.DType(), lowest(logits.DType()))
	kept := Where(mask, logits, BroadcastToDims(low, logits.Shape().Dimensions...))
	m := StopGradient(ReduceAndKeep(kept, ReduceMax, -1))
	shifted := Sub(Where(mask, logits, BroadcastToDims(m, logits.Shape().Dimensions...)), m)
	e := Where(mask, Exp(shifted), ZerosLike(logits))
	s := ReduceAndKeep(e, ReduceSum, -1)
	// s >= 1 on rows with a visible key (the max contributes exp(0)); 0 on fully masked rows.
	return Div(e, Max(s, OnesLike(s)))
}

// softmaxLast is a max-shifted softmax over the last axis.
func softmaxLast(logits *Node) *Node {
	m := StopGradient(ReduceAndKeep(logits, ReduceMax, -1))
	e := Exp(Sub(logits, m))
	return Div(e, ReduceAndKeep(e, ReduceSum, -1))
}

func lowest(dt dtypes.DType) float64 {
	switch dt {
	case dtypes.Float64:
		return -math.MaxFloat64
	case dtypes.Float16:
		return -65504
	case dtypes.BFloat16:
		return -3.38e38
	default:
		return -math.MaxFloat32
	}
}

func checkQKV(q, k, v *Node) {
	if q.Rank() != 4 || k.Rank() != 4 || v.Rank() != 4 {
		panicf("attention: q, k, v must be [batch, seq, heads, dim], got %s, %s, %s", q.Shape(), k.Shape(), v.Shape())
	}
	qd, kd, vd := q.Shape().Dimensions, k.Shape().Dimensions, v.Shape().Dimensions
	if qd[0] != kd[0] || qd[0] != vd[0] || qd[2] != kd[2] || qd[2] != vd[2] || qd[3] != kd[3] || kd[1] != vd[1] {
		panicf("attention: incompatible q %s, k %s, v %s (want q [B,Sq,H,D], k [B,Sk,H,D], v [B,Sk,H,Dv])", q.Shape(), k.Shape(), v.Shape())
	}
}
