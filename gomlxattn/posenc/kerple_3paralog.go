package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Kerple3ParaLog is b_h(d) = -r1 * log(1 + r2 * d^r3) (Chi et al. 2022 section 5.3; not in the
// released code): r1 ~ 2U(0,1) >= 0.01, r2 ~ U(0,1) >= 0.01, r3 ~ 2U(0,1) in [0.01, 2].
type Kerple3ParaLog struct {
	NumHeads int
	Causal   bool
}

func (Kerple3ParaLog) Name() string { return "kerple_3paralog" }

// Coefficients returns -r1 * log1p(r2 * d(k)^r3).
func (e Kerple3ParaLog) Coefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	r1 := projectedParam(scope, g, "kerple_3log_r1", e.NumHeads, 2, kerpleEps, 1e9, dtype)
	r2 := projectedParam(scope, g, "kerple_3log_r2", e.NumHeads, 1, kerpleEps, 1e9, dtype)
	r3 := projectedParam(scope, g, "kerple_3log_r3", e.NumHeads, 2, kerpleEps, 2, dtype)
	d := row(Distances(g, n, e.Causal, dtype))
	return Neg(Mul(column(r1), Log1p(Mul(column(r2), powPositive(d, column(r3))))))
}

func init() {
	Register(&Spec{Name: "kerple_3paralog", Doc: "KERPLE 3-parameter log kernel -r1*log(1+r2*d^r3)",
		New: func(p params.Values, env Env) (Encoding, error) {
			return Kerple3ParaLog{NumHeads: env.NumHeads, Causal: env.Causal}, nil
		}})
}
