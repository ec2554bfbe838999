package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Sandwich is the parameter-free bias of Chi et al. 2023 (arXiv 2212.10356), NeMo form:
// b_h(d) = (sum_{i=1..D/2} cos(d * 10000^(-2i/D)) - D/2) / (8h/H), h = 1..H, D = Dim.
type Sandwich struct {
	NumHeads, Dim int
	Causal        bool
}

func (Sandwich) Name() string { return "sandwich" }

// Value returns b_h(d) in float64 for head h (0-based) and distance d.
func (s Sandwich) Value(h int, d float64) float64 {
	sum := 0.0
	for i := 1; i <= s.Dim/2; i++ {
		sum += math.Cos(d * math.Pow(10000, -2*float64(i)/float64(s.Dim)))
	}
	return (sum - float64(s.Dim/2)) / (8 * float64(h+1) / float64(s.NumHeads))
}

// Coefficients returns b_h(d(k)) as constants.
func (s Sandwich) Coefficients(_ *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	return constCoefficients(g, s.NumHeads, n, dtype, func(h, k int) float64 {
		return s.Value(h, distance(k, s.Causal))
	})
}

func init() {
	Register(&Spec{Name: "sandwich", Doc: "Sandwich parameter-free log-like bias",
		Params: []params.Param{{Name: "dim", Default: 0, Min: 0, Max: 1 << 16, Integer: true, Doc: "D of the sinusoids; 0 = head dimension"}},
		New: func(p params.Values, env Env) (Encoding, error) {
			d := p.Int("dim")
			if d == 0 {
				d = env.HeadDim
			}
			return Sandwich{NumHeads: env.NumHeads, Dim: d, Causal: env.Causal}, nil
		}})
}
