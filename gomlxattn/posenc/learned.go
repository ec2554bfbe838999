package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"fmt"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// Learned is a learned absolute position table [max_len, D], initialised N(0, 0.02^2) (GPT-NeoX).
type Learned struct {
	MaxLen, Width int
}

func (Learned) Name() string     { return "learned" }
func (l Learned) MaxSeqLen() int { return l.MaxLen }

// Embed adds rows 0..T-1 of the table to x [B, T, D].
func (l Learned) Embed(scope *model.Scope, x *Node) *Node {
	t := x.Shape().Dim(1)
	if t > l.MaxLen {
		panicf("posenc learned: sequence length %d exceeds max_len %d", t, l.MaxLen)
	}
	w := scope.WithInitializer(initializer.RandomNormalFn(scope, 0.02)).
		VariableWithShape("learned_positions", shapes.Make(x.DType(), l.MaxLen, l.Width))
	pe := Slice(w.NodeValue(x.Graph()), AxisRange(0, t))
	return Add(x, ExpandAxes(pe, 0))
}

func init() {
	Register(&Spec{Name: "learned", Doc: "learned absolute positions added to embeddings",
		Params: []params.Param{{Name: "max_len", Default: 512, Min: 1, Max: 1 << 20, Integer: true, Doc: "rows of the table"}},
		New: func(p params.Values, env Env) (Encoding, error) {
			if env.Width < 1 {
				return nil, fmt.Errorf("posenc learned: Width = %d is invalid, want >= 1", env.Width)
			}
			return Learned{MaxLen: p.Int("max_len"), Width: env.Width}, nil
		}})
}
