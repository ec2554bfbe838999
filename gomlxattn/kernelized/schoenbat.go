package kernelized

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/features"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// SchoenbAt (Guo et al. 2025) is kernelized attention with random Maclaurin features of a
// dot-product kernel f(t) = sum a_N t^N, between two regularisations:
//
//	pre-SBN:  x <- (x - mean x)/sqrt(var x + 1e-12), x <- x/|x|  (queries and keys, per head);
//	RMFA:     z_i = sum_j (phi(q_i).phi(k_j)) v_j / max(sum_j phi(q_i).phi(k_j), 1),
//	          phi of x d^{-1/4};
//	post-SBN: z <- gamma (.) z, gamma in R^{d_v} initialised to 1.
//
// It follows the reference's LRA code (commit 956e0ff) without its defects: the projections are
// variables (saved in checkpoints and redrawable), post-SBN is the working gamma (.) z rather
// than gamma z^beta (which fails at HEAD and gives NaN for negative z), and attention is causal
// or bidirectional as the model is, in O(n) memory.
type SchoenbAt struct {
	Map    features.Map
	Redraw int
}

func (*SchoenbAt) Name() string       { return "schoenbat" }
func (s *SchoenbAt) RedrawEvery() int { return s.Redraw }

// CheckModel rejects relative encodings.
func (*SchoenbAt) CheckModel(enc posenc.Encoding, _ bool) error {
	if isRelative(enc) {
		return fmt.Errorf("schoenbat has no attention matrix to add a relative bias to; use an absolute or QK encoding")
	}
	return nil
}

// PreSBN standardises x over its last axis and scales it to unit norm.
func PreSBN(x *Node) *Node {
	mean := ReduceAndKeep(x, ReduceMean, -1)
	c := Sub(x, mean)
	v := ReduceAndKeep(Square(c), ReduceMean, -1)
	c = Div(c, Sqrt(AddScalar(v, 1e-12)))
	return l2Normalize(c)
}

func (s *SchoenbAt) Attend(scope *model.Scope, q, k, v *Node, opt attention.Options) (*Node, *Node) {
	checkQKVSelf(q, k, v)
	d, dv := q.Shape().Dim(3), v.Shape().Dim(3)
	scale := math.Pow(float64(d), -0.25)
	xq, xk := MulScalar(PreSBN(q), scale), MulScalar(PreSBN(k), scale)
	w := s.Map.Weights(scope, q.Graph(), d, q.DType())
	fq, fk := s.Map.Queries(w, xq), s.Map.Keys(w, xk)
	out := Linear(fq, fk, v, LinearOptions{Causal: opt.Causal, KeyMask: opt.KeyMask, DenFloor: 1})
	gamma := scope.WithInitializer(initializer.One).VariableWithShape("post_sbn_gamma", shapes.Make(q.DType(), dv))
	out = Mul(out, Reshape(gamma.NodeValue(q.Graph()), 1, 1, 1, dv))
	var probs *Node
	if opt.WantProbs {
		probs = impliedProbs(fq, fk, nil, opt)
	}
	return out, probs
}

// ActivationBytes: the Maclaurin products of queries and keys and the linear-attention state.
func (s *SchoenbAt) ActivationBytes(batch, n, heads, headDim int) float64 {
	b, t, h, f, d := float64(batch), float64(n), float64(heads), float64(s.Map.M), float64(headDim)
	return 4 * b * t * h * (2*f*float64(s.Map.MaxDegree) + 2*(d+1))
}

// SizeParam is "features"; the reference is SchoenbAt's own kernel at 8192 features.
func (*SchoenbAt) SizeParam() string { return "features" }

func (*SchoenbAt) Reference() (string, params.Given, int) { return "schoenbat", nil, 8192 }

func init() {
	attention.Register(&attention.Spec{Name: "schoenbat", Doc: "random Maclaurin features with pre-SBN and post-SBN (Guo et al. 2025)",
		Params: []params.Param{
			{Name: "features", Default: 128, Min: 2, Max: 65536, Integer: true, Doc: "D, including the constant feature"},
			{Name: "dotf", Choices: features.DotNames, Doc: "dot-product kernel: exp, inverse, logi, trigh or sqrt"},
			{Name: "max_degree", Default: 20, Min: 1, Max: 64, Integer: true, Doc: "Maclaurin truncation"},
			{Name: "redraw", Default: 0, Min: 0, Max: 1 << 30, Integer: true, Doc: "redraw every N optimizer steps; 0 never (reference)"},
			{Name: "seed", Default: 0, Min: 0, Max: 1 << 52, Integer: true},
		},
		New: func(p params.Values) (attention.Mechanism, error) {
			m := features.Map{Kind: features.Maclaurin, M: p.Int("features"), Dot: features.DotKernel(p.Int("dotf")),
				MaxDegree: p.Int("max_degree"), Seed: uint64(p["seed"])}
			if err := m.Validate(); err != nil {
				return nil, fmt.Errorf("attention schoenbat: %w", err)
			}
			return &SchoenbAt{Map: m, Redraw: p.Int("redraw")}, nil
		}})
}
