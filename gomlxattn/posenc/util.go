package posenc

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }

// projectedParam returns a per-head parameter [H] initialised to scale*U(0,1) and projected to
// [lo, hi] before use. In training graphs the projected value is written back, so the optimizer
// steps from it and the gradient is the plain gradient at the projected point: the reference's
// in-place `param.data.clamp_` (KERPLE, Chi et al. 2022), not a softplus and not Max(v, eps).
func projectedParam(scope *model.Scope, g *Graph, name string, numHeads int, scale, lo, hi float64, dtype dtypes.DType) *Node {
	v := scope.WithInitializer(initializer.RandomUniformFn(scope, 0, scale)).
		VariableWithShape(name, shapes.Make(dtype, numHeads))
	p := ClipScalar(v.NodeValue(g), lo, hi)
	if scope.IsTraining(g) {
		v.SetNodeValue(p)
		return v.NodeValue(g)
	}
	return p
}

// powPositive returns d^p for d >= 0 with 0^p = 0 and a finite gradient w.r.t. p at d = 0
// (PyTorch masks 0^p*log(0) to 0; Pow(0, p) would give NaN). d: [H, m] or broadcastable; p: [H, 1].
func powPositive(d, p *Node) *Node {
	h, m := p.Shape().Dim(0), d.Shape().Dim(-1)
	d = BroadcastToDims(d, h, m)
	pos := GreaterThan(d, ZerosLike(d))
	logd := Log(Max(d, OnesLike(d)))
	return Where(pos, Exp(Mul(BroadcastToDims(p, h, m), logd)), ZerosLike(d))
}

// column reshapes a per-head vector [H] to [H, 1].
func column(x *Node) *Node { return ExpandAxes(x, -1) }

// row reshapes [m] to [1, m].
func row(x *Node) *Node { return ExpandAxes(x, 0) }

// constCoefficients builds [H, 2n-1] constants from a float64 function of (head, offset).
func constCoefficients(g *Graph, numHeads, n int, dtype dtypes.DType, f func(h, k int) float64) *Node {
	vals := make([]float64, numHeads*(2*n-1))
	for h := range numHeads {
		for t := range 2*n - 1 {
			vals[h*(2*n-1)+t] = f(h, t-(n-1))
		}
	}
	return ConvertDType(Reshape(Const(g, vals), numHeads, 2*n-1), dtype)
}

// distance is the float64 distance of offset k: max(-k, 0) when causal, |k| otherwise.
func distance(k int, causal bool) float64 {
	if causal {
		return float64(max(-k, 0))
	}
	return float64(max(k, -k))
}
