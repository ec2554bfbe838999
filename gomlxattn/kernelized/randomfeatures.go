package kernelized

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/features"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// RandomFeatures is random-feature attention: Performer (FAVOR+, no relative encoding) and the
// kernelized attention with RPE of Luo et al. 2021, which multiplies phi(Q) phi(K)^T by the
// Toeplitz matrix exp(b_{j-i}) of any Toeplitz encoding (Luo's table, KERPLE, ALiBi, T5, ...)
// and computes it with FFTs in O(n log n).
type RandomFeatures struct {
	Kind string
	Map  features.Map
	// Normalize l2-normalises q and k and uses exp(q.k) without 1/sqrt(d) (Luo et al.
	// Algorithm 1, "NPRF"); otherwise q and k are scaled by d^{-1/4} (or sqrt(Options.Scale)).
	Normalize    bool
	RPE          bool // accept Toeplitz relative encodings
	Chunk        int  // causal chunk length, 0 = about sqrt(n)
	FeatureChunk int  // features per Toeplitz product, 0 = all
	Toeplitz     toeplitz.Options
	Evaluation   Evaluation // RPE's sums by Toeplitz products or n x n weights; EvalAuto by cost
	Redraw       int        // redraw the projections every Redraw optimizer steps; 0 = never
	// Decay selects the recurrences of Decay over the Toeplitz product for encodings with an
	// exponential sum (posenc.ExpSum): DecayAuto where the sum's relative error bound is at most
	// DecayTol (0: exact sums only, ALiBi; 1e-3 admits KERPLE-log), DecayOn wherever there is a
	// sum, DecayOff never.
	Decay    DecayMode
	DecayTol float64
}

// DecayMode is when kernelized_rpe uses Decay instead of a Toeplitz product.
type DecayMode int

const (
	DecayAuto DecayMode = iota
	DecayOn
	DecayOff
)

// DecayModeNames are the values of the "decay" parameter, in DecayMode order.
var DecayModeNames = []string{"auto", "on", "off"}

func (r *RandomFeatures) Name() string     { return r.Kind }
func (r *RandomFeatures) RedrawEvery() int { return r.Redraw }

// CheckModel accepts absolute, QK and (with RPE) additive Toeplitz encodings.
func (r *RandomFeatures) CheckModel(enc posenc.Encoding, _ bool) error {
	if !isRelative(enc) {
		return nil
	}
	if !r.RPE {
		return fmt.Errorf("%s has no attention matrix to add a relative bias to; use kernelized_rpe for relative encodings", r.Kind)
	}
	if _, ok := enc.(posenc.WeightedToeplitz); ok {
		return fmt.Errorf("%s multiplies the logits, which kernelized attention cannot factor; use an additive Toeplitz encoding", enc.Name())
	}
	if _, ok := enc.(posenc.Toeplitz); !ok {
		return fmt.Errorf("%s depends on the query position, not on j-i alone, so it has no Toeplitz form; use an additive Toeplitz encoding", enc.Name())
	}
	return nil
}

// Inputs returns the feature-map inputs: q/|q| and k/|k| (Normalize), else q and k times
// sqrt(scale) with scale = 1/sqrt(d) by default, so that phi(x).phi(y) estimates exp(scale q.k).
func (r *RandomFeatures) Inputs(q, k *Node, scale float64) (*Node, *Node) {
	if r.Normalize {
		return l2Normalize(q), l2Normalize(k)
	}
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(q.Shape().Dim(3)))
	}
	s := math.Sqrt(scale)
	return MulScalar(q, s), MulScalar(k, s)
}

// l2Normalize is x/|x| over the last axis, 0 for x = 0.
func l2Normalize(x *Node) *Node {
	n := Sqrt(ReduceAndKeep(Square(x), ReduceSum, -1))
	return Div(x, Max(n, Scalar(x.Graph(), x.DType(), 1e-12)))
}

// Features returns phi(q), phi(k) [B, n, H, m] from the projections stored in scope.
func (r *RandomFeatures) Features(scope *model.Scope, q, k *Node, scale float64) (*Node, *Node) {
	xq, xk := r.Inputs(q, k, scale)
	w := r.Map.Weights(scope, q.Graph(), q.Shape().Dim(3), q.DType())
	return r.Map.Queries(w, xq), r.Map.Keys(w, xk)
}

func (r *RandomFeatures) Attend(scope *model.Scope, q, k, v *Node, opt attention.Options) (*Node, *Node) {
	checkQKVSelf(q, k, v)
	n := q.Shape().Dim(1)
	fq, fk := r.Features(scope, q, k, opt.Scale)
	var logc *Node
	if opt.Bias != nil && opt.Bias.IsToeplitz() && r.RPE {
		logc = opt.Bias.Coef
	}
	if opt.Window > 0 {
		if logc == nil {
			logc = Zeros(q.Graph(), shapes.Make(q.DType(), q.Shape().Dim(2), 2*n-1))
		}
		logc = windowed(logc, opt.Window)
	}
	var out *Node
	if has, bound := opt.Bias.HasExpTerms(); logc != nil && opt.Window == 0 && has && (r.Decay == DecayOn || r.Decay == DecayAuto && bound <= r.DecayTol) {
		// An inexact sum needs fewer terms from distance C+1 on (posenc.KerpleLog.ExpTerms).
		exact := bound == 0
		lo := DecayFar(n, r.Chunk, !exact)
		w, s, _, _ := opt.Bias.ExpTerms(lo)
		out = Decay(fq, fk, v, logc, w, s, DecayOptions{Causal: opt.Causal, Chunk: r.Chunk, KeyMask: opt.KeyMask, Neighbours: !exact,
			Rates: opt.Bias.ExpRates(lo)})
	} else if logc != nil {
		out = RPE(fq, fk, v, logc, RPEOptions{Causal: opt.Causal, KeyMask: opt.KeyMask, Window: opt.Window, Toeplitz: r.Toeplitz,
			FeatureChunk: r.FeatureChunk, Inference: !scope.IsTraining(q.Graph()), Evaluation: r.Evaluation})
	} else {
		out = Linear(fq, fk, v, LinearOptions{Causal: opt.Causal, Chunk: r.Chunk, KeyMask: opt.KeyMask})
	}
	var probs *Node
	if opt.WantProbs {
		probs = impliedProbs(fq, fk, logc, opt)
	}
	return out, probs
}

// windowed sets b_k = -inf (c_k = 0) for |k| >= w: the band mask of windowed evaluation.
func windowed(logc *Node, w int) *Node {
	m := logc.Shape().Dim(1)
	n := (m + 1) / 2
	keep := make([]bool, m)
	for t := range keep {
		keep[t] = abs(t-(n-1)) < w
	}
	mask := BroadcastToDims(Reshape(Const(logc.Graph(), keep), 1, m), logc.Shape().Dimensions...)
	low := BroadcastToDims(Scalar(logc.Graph(), logc.DType(), -1e30), logc.Shape().Dimensions...)
	return Where(mask, logc, low)
}

// impliedProbs is the attention matrix the estimator uses, [B, H, n, n]: phi(q_i).phi(k_j) c_{j-i}
// over visible keys, normalised per row. O(n^2): for plots of small n only.
func impliedProbs(fq, fk, logc *Node, opt attention.Options) *Node {
	b, n, h := fq.Shape().Dim(0), fq.Shape().Dim(1), fq.Shape().Dim(2)
	a := DotGeneral(fq, []int{3}, []int{0, 2}, fk, []int{3}, []int{0, 2}) // [B, H, n, n]
	if logc != nil {
		mx := StopGradient(ReduceAndKeep(logc, ReduceMax, 1))
		a = Mul(a, ExpandAxes(toeplitz.Expand(Exp(Sub(logc, mx)), n), 0))
	}
	if m := attention.Mask(fq.Graph(), b, h, n, n, opt.Causal, opt.Window, opt.KeyMask); m != nil {
		a = Where(m, a, ZerosLike(a))
	}
	s := ReduceAndKeep(a, ReduceSum, -1)
	ok := GreaterThan(s, ZerosLike(s))
	return Mul(Div(a, Where(ok, s, OnesLike(s))), ConvertDType(ok, a.DType()))
}

func checkQKVSelf(q, k, v *Node) {
	if q.Rank() != 4 || k.Rank() != 4 || v.Rank() != 4 {
		panicf("kernelized: q, k, v must be [batch, seq, heads, dim], got %s, %s, %s", q.Shape(), k.Shape(), v.Shape())
	}
	if q.Shape().Dim(1) != k.Shape().Dim(1) {
		panicf("kernelized: self-attention needs as many queries as keys, got q %s and k %s", q.Shape(), k.Shape())
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// randomFeatureParams are the parameters shared by performer and kernelized_rpe.
func randomFeatureParams(proj, normalize, eps float64) []params.Param {
	return []params.Param{
		{Name: "m", Default: 64, Min: 1, Max: 65536, Integer: true, Doc: "random features"},
		{Name: "feature", Choices: features.KindNames[:3], Doc: "positive (FAVOR+), trigonometric or ReLU features"},
		{Name: "projection", Default: proj, Choices: features.ProjectionNames, Doc: "i.i.d. Gaussian, orthogonal (ORF) or on the sphere"},
		{Name: "orf_scaling", Choices: []string{"chi", "sqrt_d"}, Doc: "ORF row norms: chi_d draws or sqrt(d)"},
		{Name: "normalize", Default: normalize, Min: 0, Max: 1, Integer: true, Doc: "1: l2-normalised q, k (NPRF)"},
		{Name: "eps", Default: eps, Min: 0, Max: 0.1, Doc: "PRF additive stabiliser; keeps a layer alive when every feature underflows (large |q|, |k| with normalize=0)"},
		{Name: "stabilize", Default: 1, Min: 0, Max: 1, Integer: true, Doc: "subtract max(w.x) (cancels exactly)"},
		{Name: "redraw", Default: 0, Min: 0, Max: 1 << 30, Integer: true, Doc: "redraw projections every N optimizer steps; 0 never"},
		{Name: "seed", Default: 0, Min: 0, Max: 1 << 52, Integer: true, Doc: "projection seed (mixed with the layer's scope)"},
		{Name: "chunk", Default: 0, Min: 0, Max: 1 << 20, Integer: true, Doc: "chunk length of the causal and decayed forms; 0 about sqrt(n), 256 for an inexact decay sum"},
		{Name: "feature_chunk", Default: 0, Min: 0, Max: 65536, Integer: true, Doc: "features per Toeplitz product; 0 all"},
		{Name: "toeplitz", Choices: toeplitz.MethodNames, Doc: "Toeplitz product: auto (by backend capabilities), dense, block-spectral or native fft"},
		{Name: "block_size", Default: 0, Min: 0, Max: 4096, Integer: true, Doc: "block-spectral n2; 0 automatic"},
	}
}

func newRandomFeatures(kind string, rpe bool, p params.Values) (attention.Mechanism, error) {
	r := &RandomFeatures{Kind: kind, RPE: rpe, Normalize: p.Bool("normalize"),
		Chunk: p.Int("chunk"), FeatureChunk: p.Int("feature_chunk"), Redraw: p.Int("redraw"),
		Toeplitz: toeplitz.Options{Method: toeplitz.Method(p.Int("toeplitz")), BlockSize: p.Int("block_size")},
		Map: features.Map{Kind: features.Kind(p.Int("feature")), Projection: features.Projection(p.Int("projection")),
			ORFScaling: p.Int("orf_scaling"), M: p.Int("m"), Eps: p["eps"], Stabilize: p.Bool("stabilize"),
			Seed: uint64(p["seed"])}}
	if err := r.Map.Validate(); err != nil {
		return nil, fmt.Errorf("attention %s: %w", kind, err)
	}
	return r, nil
}

// ActivationBytes: the features of q and k, and for FFT-RPE the [n, m(dv+1)] operand of the
// Toeplitz product and its spectrum (Luo et al. 2021 carry an m dv wide tensor), or the n x n
// weights of the quadratic evaluation where it may be chosen, whichever is larger.
func (r *RandomFeatures) ActivationBytes(batch, n, heads, headDim int) float64 {
	b, t, h, m, d := float64(batch), float64(n), float64(heads), float64(r.Map.M), float64(headDim)
	feat := 2 * b * t * h * m
	if r.RPE {
		act := 4 * b * t * h * m * (d + 1)
		quad := 2 * b * h * quadraticPairs(n, false) // bidirectional: the larger count
		if r.Evaluation == EvalQuadratic || r.Evaluation == EvalAuto && quad <= max(act, QuadraticMaxElements) {
			act = max(act, quad)
		}
		return 4 * (feat + act)
	}
	return 4 * (feat + 2*b*t*h*(d+1) + b*h*m*(d+1)*t/max(float64(r.Chunk), 64))
}

// SizeParam is "m"; Performer approximates softmax attention, q.k/sqrt(d) (Choromanski et al.
// 2021). kernelized_rpe's NPRF kernel exp(q.k/|q||k|) has no softmax counterpart here.
func (r *RandomFeatures) SizeParam() string { return "m" }

func (r *RandomFeatures) Reference() (string, params.Given, int) {
	if r.RPE || r.Normalize {
		return "", nil, 0
	}
	return "softmax", nil, 0
}

func init() {
	attention.Register(&attention.Spec{Name: "performer", Doc: "FAVOR+ (Choromanski et al. 2021): PRF features, linear attention, no relative encodings",
		Params: randomFeatureParams(1, 0, 1e-6),
		New:    func(p params.Values) (attention.Mechanism, error) { return newRandomFeatures("performer", false, p) }})
	attention.Register(&attention.Spec{Name: "kernelized_rpe", Doc: "Luo et al. 2021: random features times the Toeplitz matrix exp(b_{j-i}), by FFT",
		Params: append(randomFeatureParams(0, 1, 1e-6),
			params.Param{Name: "decay", Choices: DecayModeNames,
				Doc: "decayed linear-attention recurrences instead of the FFT, O(n): auto where the sum is within decay_tol, on wherever the encoding has one, off"},
			params.Param{Name: "decay_tol", Default: 0, Min: 0, Max: 1,
				Doc: "largest relative error of the exponential sum that decay=auto accepts: 0 exact only (ALiBi), 1e-3 admits KERPLE-log"},
			params.Param{Name: "evaluation", Choices: EvaluationNames,
				Doc: "auto: the n x n weights where they cost less than the Toeplitz product and fit its memory; toeplitz (FFT); quadratic"}),
		New: func(p params.Values) (attention.Mechanism, error) {
			r, err := newRandomFeatures("kernelized_rpe", true, p)
			if err == nil {
				r.(*RandomFeatures).Decay = DecayMode(p.Int("decay"))
				r.(*RandomFeatures).DecayTol = p["decay_tol"]
				r.(*RandomFeatures).Evaluation = Evaluation(p.Int("evaluation"))
			}
			return r, err
		}})
}
