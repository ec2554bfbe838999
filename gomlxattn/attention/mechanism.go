package attention

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

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
// only causal or only bidirectional attention; models call it before building any graph.
type Compatible interface {
	CheckModel(enc posenc.Encoding, causal bool) error
}

// Redrawing is implemented by mechanisms whose random features are redrawn during training:
// every RedrawEvery() optimizer steps the trainer calls features.Redraw on the model's store.
type Redrawing interface {
	RedrawEvery() int
}

// Factory builds a mechanism from its parameters; it validates them without building a graph.
type Factory func(params map[string]float64) (Mechanism, error)

var mechanisms = map[string]Factory{}

// Register adds a mechanism by name; called from the init function of the mechanism's file.
func Register(name string, f Factory) {
	if _, dup := mechanisms[name]; dup {
		panic(fmt.Sprintf("attention: mechanism %q registered twice", name))
	}
	mechanisms[name] = f
}

// Kinds lists the registered mechanisms, sorted.
func Kinds() []string {
	return slices.Sorted(maps.Keys(mechanisms))
}

// New builds a registered mechanism; an unknown name is an error listing the valid ones.
func New(name string, params map[string]float64) (Mechanism, error) {
	f, ok := mechanisms[name]
	if !ok {
		return nil, fmt.Errorf("attention: kind %q is unknown, valid kinds: %s", name, strings.Join(Kinds(), ", "))
	}
	return f(params)
}

// SoftmaxMechanism is exact softmax attention as a Mechanism.
type SoftmaxMechanism struct{}

func (SoftmaxMechanism) Name() string { return "softmax" }

func (SoftmaxMechanism) Attend(_ *model.Scope, q, k, v *Node, opt Options) (*Node, *Node) {
	return Exact(q, k, v, opt)
}

func init() {
	Register("softmax", func(params map[string]float64) (Mechanism, error) {
		for k := range params {
			return nil, fmt.Errorf("attention softmax: parameter %q is unknown, softmax takes no parameters", k)
		}
		return SoftmaxMechanism{}, nil
	})
}

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }
