package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// KerplePower is b_h(d) = -r1 * d^r2, r1 = bias_a ~ U(0,1) clamped >= 0.01, r2 = bias_p ~ 2U(0,1)
// clamped to [0.01, 2] (reference class ParallelKerplePower, pos-emb kerple_power_ap_).
type KerplePower struct {
	NumHeads int
	Causal   bool
}

func (KerplePower) Name() string { return "kerple_power" }

// Coefficients returns -r1 * d(k)^r2 with a finite gradient at d = 0.
func (e KerplePower) Coefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	r1 := projectedParam(scope, g, "kerple_power_r1", e.NumHeads, 1, kerpleEps, 1e9, dtype)
	r2 := projectedParam(scope, g, "kerple_power_r2", e.NumHeads, 2, kerpleEps, 2, dtype)
	d := row(Distances(g, n, e.Causal, dtype))
	return Neg(Mul(column(r1), powPositive(d, column(r2))))
}

func init() {
	Register(&Spec{Name: "kerple_power", Doc: "KERPLE power kernel -r1*d^r2",
		New: func(p params.Values, env Env) (Encoding, error) {
			return KerplePower{NumHeads: env.NumHeads, Causal: env.Causal}, nil
		}})
}
