package attention

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// BiasScope is the sub-scope that holds a relative encoding's variables: under the model's root
// scope when the encoding is shared across layers, under a layer's scope otherwise.
const BiasScope = "relpos"

// LayerConfig selects the parts of an attention layer.
type LayerConfig struct {
	Attention       string        // mechanism; "" is softmax
	AttentionParams params.Given  // the mechanism's parameters
	PosEnc          posenc.Config // positional encoding
	Heads, HeadDim  int
	Width           int  // model width, for absolute encodings; 0 is Heads*HeadDim
	Causal          bool // causal (decoder) or bidirectional (encoder)
}

// Layer is the attention of a Transformer block on projected queries, keys and values: the
// mechanism, the positional encoding (a QK transform or a relative bias) and their agreement,
// validated once. The transformer, the speed harness and the approximation study build their
// attention through it, so they measure the same computation.
type Layer struct {
	Mechanism Mechanism
	Encoding  posenc.Encoding
	Family    posenc.Family
	Causal    bool
}

// NewLayer validates c and returns the layer; errors name the field, the value and the valid
// range, and no graph is built.
func NewLayer(c LayerConfig) (*Layer, error) {
	if c.Heads < 1 || c.HeadDim < 1 {
		return nil, fmt.Errorf("attention layer: heads = %d and head dim = %d are invalid, want >= 1", c.Heads, c.HeadDim)
	}
	mech, err := New(c.Attention, c.AttentionParams)
	if err != nil {
		return nil, fmt.Errorf("Attention: %w", err)
	}
	width := c.Width
	if width == 0 {
		width = c.Heads * c.HeadDim
	}
	enc, err := posenc.New(c.PosEnc, posenc.Env{NumHeads: c.Heads, HeadDim: c.HeadDim, Width: width, Causal: c.Causal})
	if err != nil {
		return nil, fmt.Errorf("PosEnc: %w", err)
	}
	fam, err := posenc.FamilyOf(enc)
	if err != nil {
		return nil, err
	}
	if cm, ok := mech.(Compatible); ok {
		if err := cm.CheckModel(enc, c.Causal); err != nil {
			return nil, fmt.Errorf("attention %s with posenc %s: %w", mech.Name(), enc.Name(), err)
		}
	}
	return &Layer{Mechanism: mech, Encoding: enc, Family: fam, Causal: c.Causal}, nil
}

// Bias evaluates the relative encoding for length n in scope.In(BiasScope); nil for encodings
// that are not relative.
func (l *Layer) Bias(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *posenc.Bias {
	if l.Family != posenc.FamilyRelative {
		return nil
	}
	return posenc.ComputeBias(scope.In(BiasScope), g, l.Encoding, n, dtype)
}

// Attend applies the QK encoding to q, k [B, T, H, Dh] and runs the mechanism in
// scope.In(mechanism name) with bias and the layer's causality; opt.Causal and opt.Bias are set
// here. It returns out [B, T, H, Dv] and, when asked and available, probabilities [B, H, T, T].
func (l *Layer) Attend(scope *model.Scope, q, k, v *Node, bias *posenc.Bias, opt Options) (out, probs *Node) {
	if qk, ok := l.Encoding.(posenc.QK); ok {
		q, k = qk.EncodeQK(q, k)
	}
	opt.Causal, opt.Bias = l.Causal, bias
	return l.Mechanism.Attend(scope.In("%s", l.Mechanism.Name()), q, k, v, opt)
}
