package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// KerpleLog is b_h(d) = -r1 * log(1 + r2 * d), r1 = bias_p ~ 2U(0,1), r2 = bias_a ~ U(0,1),
// both clamped to >= 0.01 (reference class ParallelKerpleLog).
type KerpleLog struct {
	NumHeads int
	Causal   bool
}

func (KerpleLog) Name() string { return "kerple_log" }

// Coefficients returns -r1 * log1p(r2 * d(k)).
func (e KerpleLog) Coefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	r1 := projectedParam(scope, g, "kerple_log_r1", e.NumHeads, 2, kerpleEps, 1e9, dtype)
	r2 := projectedParam(scope, g, "kerple_log_r2", e.NumHeads, 1, kerpleEps, 1e9, dtype)
	d := row(Distances(g, n, e.Causal, dtype))
	return Neg(Mul(column(r1), Log1p(Mul(column(r2), d))))
}

func init() {
	Register(&Spec{Name: "kerple_log", Doc: "KERPLE logarithmic kernel -r1*log(1+r2*d)",
		New: func(p params.Values, env Env) (Encoding, error) {
			return KerpleLog{NumHeads: env.NumHeads, Causal: env.Causal}, nil
		}})
}
