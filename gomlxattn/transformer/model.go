package transformer

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
	_ "github.com/attnbench/attnbench/gomlxattn/mechanisms" // every registered mechanism
	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// Model is a validated Transformer. Its graph functions take the model's root scope.
type Model struct {
	Config    Config
	Layer     *attention.Layer // the attention of every block
	Mechanism attention.Mechanism
	Encoding  posenc.Encoding
	DType     dtypes.DType
}

// New validates cfg and returns the model with its mechanism and encoding; no graph is built.
func New(cfg Config) (*Model, error) {
	if err := cfg.checkFields(); err != nil {
		return nil, err
	}
	l, err := attention.NewLayer(cfg.LayerConfig()) // validates mechanism, encoding and their agreement once
	if err != nil {
		return nil, fmt.Errorf("transformer config: %w", err)
	}
	return &Model{Config: cfg, Layer: l, Mechanism: l.Mechanism, Encoding: l.Encoding, DType: dtypes.Float32}, nil
}

// ValidateSeqLen checks that sequences of length n can be fed to the model.
func (m *Model) ValidateSeqLen(n int) error {
	if n < 1 {
		return fmt.Errorf("transformer: sequence length = %d is invalid, want >= 1", n)
	}
	if b, ok := m.Encoding.(posenc.Bounded); ok && n > b.MaxSeqLen() {
		return fmt.Errorf("transformer: sequence length = %d exceeds the %s table, want <= %d (posenc max_len)", n, m.Encoding.Name(), b.MaxSeqLen())
	}
	return nil
}

// Output of a forward pass.
type Output struct {
	Hidden *Node   // final hidden states [B, T, D] after the last LayerNorm
	Probs  []*Node // per layer [B, H, T, T], when asked for and the mechanism provides them
}

// ForwardOptions of one forward pass.
type ForwardOptions struct {
	Mask      *Node // [B, T] Bool, true for real tokens (key padding mask); nil = all real
	WantProbs bool
	Window    int // overrides Config.Window when > 0 (windowed evaluation)
}

// Forward runs embeddings and blocks on tokens [B, T] (Int32) and returns the final hidden states.
func (m *Model) Forward(scope *model.Scope, tokens *Node, opt ForwardOptions) Output {
	c := m.Config
	g := tokens.Graph()
	if tokens.Rank() != 2 {
		panicf("transformer: tokens have shape %s, want [batch, seq]", tokens.Shape())
	}
	n := tokens.Shape().Dim(1)
	if err := m.ValidateSeqLen(n); err != nil {
		panic(err)
	}
	x := Gather(m.embeddings(scope, g), ExpandAxes(ConvertDType(tokens, dtypes.Int32), -1)) // [B, T, D]
	if abs, ok := m.Encoding.(posenc.Absolute); ok {
		x = abs.Embed(scope.In("posenc"), x)
	}
	x = layers.DropoutStatic(scope, x, c.Dropout)

	var shared *posenc.Bias
	if !c.PosEnc.PerLayer {
		shared = m.Layer.Bias(scope, g, n, m.DType)
	}
	window := c.Window
	if opt.Window > 0 {
		window = opt.Window
	}
	var out Output
	for l := range c.Layers {
		ls := scope.In("layer_%d", l)
		bias := shared
		if c.PosEnc.PerLayer {
			bias = m.Layer.Bias(ls, g, n, m.DType)
		}
		h := norm.LayerNorm(ls.In("ln_attn"), x, -1).Epsilon(1e-5).Done()
		h, probs := m.selfAttention(ls.In("attn"), h, bias, attention.Options{
			KeyMask: opt.Mask, Window: window, DropoutRate: c.AttnDropout, Scope: ls, WantProbs: opt.WantProbs,
		})
		if probs != nil {
			out.Probs = append(out.Probs, probs)
		}
		x = Add(x, layers.DropoutStatic(ls, h, c.Dropout))
		x = Add(x, layers.DropoutStatic(ls, m.mlp(ls, x), c.Dropout))
	}
	out.Hidden = norm.LayerNorm(scope.In("ln_final"), x, -1).Epsilon(1e-5).Done()
	return out
}

// selfAttention projects x [B, T, D] to q, k, v, runs the attention layer and projects back.
func (m *Model) selfAttention(scope *model.Scope, x *Node, bias *posenc.Bias, opt attention.Options) (*Node, *Node) {
	c := m.Config
	b, t := x.Shape().Dim(0), x.Shape().Dim(1)
	q, k, v := m.qkv(scope, x)
	out, probs := m.Layer.Attend(scope, q, k, v, bias, opt)
	out = Reshape(out, b, t, c.Width)
	return m.dense(scope.In("output"), out, c.Width, m.outStd()), probs
}

// qkv projects x [..., D] to queries, keys and values [..., H, Dh].
func (m *Model) qkv(scope *model.Scope, x *Node) (q, k, v *Node) {
	c := m.Config
	dims := append(x.Shape().Clone().Dimensions[:x.Rank()-1], c.Heads, c.HeadDim())
	split := func(y *Node) *Node { return Reshape(y, dims...) }
	return split(m.dense(scope.In("query"), x, c.Width, 0.02)), split(m.dense(scope.In("key"), x, c.Width, 0.02)),
		split(m.dense(scope.In("value"), x, c.Width, 0.02))
}

// mlp is a block's feed-forward branch on x [..., D]: LayerNorm, dense, GELU, dense.
func (m *Model) mlp(ls *model.Scope, x *Node) *Node {
	c := m.Config
	h := norm.LayerNorm(ls.In("ln_mlp"), x, -1).Epsilon(1e-5).Done()
	h = gelu(m.dense(ls.In("mlp_in"), h, c.MLPWidth(), 0.02))
	return m.dense(ls.In("mlp_out"), h, c.Width, m.outStd())
}

// embeddings returns the token table [Vocab, D], N(0, 0.02^2) at init; the tied output layer
// reads the same variable.
func (m *Model) embeddings(scope *model.Scope, g *Graph) *Node {
	return scope.At("embed").WithInitializer(initializer.RandomNormalFn(scope, 0.02)).
		VariableWithShape("embeddings", shapes.Make(m.DType, m.Config.Vocab, m.Config.Width)).NodeValue(g)
}

// outStd is the GPT-NeoX scaled init of the output projections: 0.02/sqrt(2L).
func (m *Model) outStd() float64 { return 0.02 / math.Sqrt(2*float64(m.Config.Layers)) }

// dense is x W + b over the last axis with W ~ N(0, std^2) and b = 0.
func (m *Model) dense(scope *model.Scope, x *Node, out int, std float64) *Node {
	g := x.Graph()
	w := scope.WithInitializer(initializer.RandomNormalFn(scope, std)).
		VariableWithShape("weights", shapes.Make(m.DType, x.Shape().Dim(-1), out))
	bias := scope.WithInitializer(initializer.Zero).VariableWithShape("biases", shapes.Make(m.DType, out))
	return vjp.AddTrailing(vjp.BatchMatMul(x, w.NodeValue(g), 0, 1), bias.NodeValue(g))
}

// Logits of the language model: tokens [B, T] -> [B, T, Vocab].
func (m *Model) Logits(scope *model.Scope, tokens *Node, opt ForwardOptions) (*Node, Output) {
	if m.Config.Classes > 0 {
		panicf("transformer: Logits needs a language model; this config is a classifier (Classes = %d)", m.Config.Classes)
	}
	out := m.Forward(scope, tokens, opt)
	return m.head(scope, out.Hidden), out
}

// head is the output layer on hidden states [..., D] -> [..., Vocab]: the embeddings
// transposed when tied, else lm_head.
func (m *Model) head(scope *model.Scope, hidden *Node) *Node {
	g := hidden.Graph()
	if m.Config.TiedOutput {
		return vjp.MatMulT(hidden, m.embeddings(scope, g))
	}
	s := scope.In("lm_head").WithInitializer(initializer.RandomNormalFn(scope, 0.02))
	w := s.VariableWithShape("weights", shapes.Make(m.DType, m.Config.Width, m.Config.Vocab))
	return vjp.BatchMatMul(hidden, w.NodeValue(g), 0, 1)
}

// ClassLogits of the encoder classifier: mean of the final hidden states over real tokens,
// then a dense layer: tokens [B, T] -> [B, Classes].
func (m *Model) ClassLogits(scope *model.Scope, tokens *Node, opt ForwardOptions) (*Node, Output) {
	if m.Config.Classes == 0 {
		panicf("transformer: ClassLogits needs Classes > 0")
	}
	out := m.Forward(scope, tokens, opt)
	h := out.Hidden
	var pooled *Node
	if opt.Mask == nil {
		pooled = ReduceMean(h, 1)
	} else {
		w := ConvertDType(ExpandAxes(opt.Mask, -1), h.DType()) // [B, T, 1]
		num := ReduceSum(Mul(h, w), 1)
		den := Max(ReduceSum(w, 1), OnesLike(ReduceSum(w, 1)))
		pooled = Div(num, den)
	}
	return m.dense(scope.In("classifier"), pooled, m.Config.Classes, 0.02), out
}
