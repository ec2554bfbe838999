package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// KerpleBiasWeight is KERPLE bias+wht (pos-emb kerple_power_ap_ap, Chi et al. 2022 section 5.3):
// logit' = logit * exp(-r3 * d^r4) - r1 * d^r2, with r1, r3 ~ U(0,1) clamped >= 0.01 and
// r2, r4 ~ 2U(0,1) clamped to [0.01, 2]; logit is the scaled q.k/sqrt(d_h).
type KerpleBiasWeight struct {
	NumHeads int
	Causal   bool
}

func (KerpleBiasWeight) Name() string { return "kerple_biaswht" }

// Coefficients returns the bias -r1 * d^r2.
func (e KerpleBiasWeight) Coefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	r1 := projectedParam(scope, g, "kerple_bias_r1", e.NumHeads, 1, kerpleEps, 1e9, dtype)
	r2 := projectedParam(scope, g, "kerple_bias_r2", e.NumHeads, 2, kerpleEps, 2, dtype)
	d := row(Distances(g, n, e.Causal, dtype))
	return Neg(Mul(column(r1), powPositive(d, column(r2))))
}

// WeightCoefficients returns the logit weight exp(-r3 * d^r4).
func (e KerpleBiasWeight) WeightCoefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	r3 := projectedParam(scope, g, "kerple_wht_r3", e.NumHeads, 1, kerpleEps, 1e9, dtype)
	r4 := projectedParam(scope, g, "kerple_wht_r4", e.NumHeads, 2, kerpleEps, 2, dtype)
	d := row(Distances(g, n, e.Causal, dtype))
	return Exp(Neg(Mul(column(r3), powPositive(d, column(r4)))))
}

func init() {
	Register(&Spec{Name: "kerple_biaswht", Doc: "KERPLE bias+wht: logit*exp(-r3*d^r4) - r1*d^r2",
		New: func(p params.Values, env Env) (Encoding, error) {
			return KerpleBiasWeight{NumHeads: env.NumHeads, Causal: env.Causal}, nil
		}})
}
