package attention

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// Mechanism computes attention from projected q, k, v [B, T, H, Dh]; it is what a model plugs in.
type Mechanism interface {
	Name() string
	// Attend returns out [B, T, H, Dv] and, if opt.WantProbs and the mechanism can, the
	// probabilities [B, H, T, T]. scope holds the mechanism's own variables (e.g. random features).
	Attend(scope *model.Scope, q, k, v *Node, opt Options) (out, probs *Node)
}

// Compatible is implemented by mechanisms that support only some positional encodings or
// only causal or only bidirectional attention; NewLayer calls it before building any graph.
type Compatible interface {
	CheckModel(enc posenc.Encoding, causal bool) error
}

// Redrawing is implemented by mechanisms whose random features are redrawn during training:
// every RedrawEvery() optimizer steps the trainer calls features.Redraw on the model's store.
type Redrawing interface {
	RedrawEvery() int
}

// MemoryEstimator is implemented by mechanisms whose activation memory is not the O(n^2) of
// exact attention; models use it to refuse sizes that cannot fit before building a graph.
type MemoryEstimator interface {
	// ActivationBytes estimates the bytes one layer keeps for the backward pass on q, k, v of
	// [batch, n, heads, headDim], in float32.
	ActivationBytes(batch, n, heads, headDim int) float64
}

// Sized is implemented by mechanisms whose accuracy is set by one size parameter (random
// features, Nystrom landmarks); the approximation study sweeps it against Reference.
type Sized interface {
	// SizeParam names the parameter that sets the size ("m", "features", "landmarks").
	SizeParam() string
	// Reference returns the mechanism this one approximates, and for a reference without a
	// closed form the size at which that mechanism is its own reference (0 otherwise).
	Reference() (name string, params params.Given, size int)
}

// Spec is a registered mechanism, shaped like posenc.Spec.
type Spec struct {
	Name   string
	Doc    string
	Params []params.Param
	// New builds the mechanism from validated parameters; it builds no graph.
	New func(p params.Values) (Mechanism, error)
}

var registry = params.NewRegistry[Spec]("attention")

// Register adds a mechanism; it is called from the init function of the mechanism's own file.
func Register(s *Spec) { registry.Register(s.Name, s) }

// Names lists the registered mechanisms, sorted.
func Names() []string { return registry.Names() }

// Lookup returns the spec of a registered mechanism.
func Lookup(name string) (*Spec, bool) { return registry.Lookup(name) }

// New validates the parameters and builds a registered mechanism; an unknown name is an error
// listing the valid ones, an empty name is "softmax".
func New(name string, given params.Given) (Mechanism, error) {
	if name == "" {
		name = "softmax"
	}
	s, err := registry.Get(name)
	if err != nil {
		return nil, err
	}
	p, err := params.Check("attention "+name, s.Params, given)
	if err != nil {
		return nil, err
	}
	return s.New(p)
}

// SoftmaxMechanism is exact softmax attention as a Mechanism.
type SoftmaxMechanism struct{}

func (SoftmaxMechanism) Name() string { return "softmax" }

func (SoftmaxMechanism) Attend(_ *model.Scope, q, k, v *Node, opt Options) (*Node, *Node) {
	return Exact(q, k, v, opt)
}

func init() {
	Register(&Spec{Name: "softmax", Doc: "exact softmax attention with any encoding, O(n^2)",
		New: func(params.Values) (Mechanism, error) { return SoftmaxMechanism{}, nil }})
}

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }
