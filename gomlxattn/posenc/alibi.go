package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ALiBi is the fixed linear bias b_h(k) = -m_h * d(k) (Press et al. 2022): d = max(-k, 0) when
// causal (the reference's tril(i-j)), |k| when bidirectional.
type ALiBi struct {
	Slopes []float64
	Causal bool
}

func (ALiBi) Name() string { return "alibi" }

// ALiBiSlopes returns the reference get_slopes(n): 2^(-8h/n) for a power of two n, otherwise
// the slopes of the largest power of two c < n followed by every other slope of 2c.
func ALiBiSlopes(n int) []float64 {
	pow2 := func(n int) []float64 {
		start := math.Pow(2, -math.Pow(2, -(math.Log2(float64(n))-3)))
		s := make([]float64, n)
		for i := range s {
			s[i] = start * math.Pow(start, float64(i))
		}
		return s
	}
	if n&(n-1) == 0 {
		return pow2(n)
	}
	c := 1 << int(math.Floor(math.Log2(float64(n))))
	out := pow2(c)
	extra := ALiBiSlopes(2 * c)
	for i := 0; i < 2*c && len(out) < n; i += 2 {
		out = append(out, extra[i])
	}
	return out
}

// Coefficients returns -m_h * d(k).
func (a ALiBi) Coefficients(_ *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	return constCoefficients(g, len(a.Slopes), n, dtype, func(h, k int) float64 {
		return -a.Slopes[h] * distance(k, a.Causal)
	})
}

func init() {
	Register(&Spec{Name: "alibi", Doc: "ALiBi fixed linear biases",
		New: func(p params.Values, env Env) (Encoding, error) {
			return ALiBi{Slopes: ALiBiSlopes(env.NumHeads), Causal: env.Causal}, nil
		}})
}
