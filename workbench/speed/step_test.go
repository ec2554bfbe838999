package speed

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/workbench/backend"
)

// Forward + backward is a training step: besides q, k and v it differentiates the encoding's
// parameters, as the peer does. Each parameter's gradient matches a central finite difference
// of the forward loss sum(out^2) in float64, for FFT-RPE (whose training graph has its own
// backward) and softmax, both with KERPLE-log, at an odd length past toeplitz.DenseMaxN.
func TestStepDifferentiatesTheEncoding(t *testing.T) {
	const heads, dh, n = 2, 4, 67
	b := backend.MustShared()
	kl := posenc.Config{Kind: "kerple_log"}
	rng := rand.New(rand.NewPCG(5, 6))
	rnd := func() *tensors.Tensor {
		x := make([]float64, n*heads*dh)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return tensors.FromFlatDataAndDimensions(x, 1, n, heads, dh)
	}
	for _, v := range []Variant{
		{Name: "fftrpe-m4", Attention: "kernelized_rpe", Params: params.Given{"m": 4}, PosEnc: kl},
		{Name: "softmax", Attention: "softmax", PosEnc: kl},
	} {
		l, err := NewLayer(v, Config{Heads: heads, HeadDim: dh, Causal: true})
		if err != nil {
			t.Fatal(err)
		}
		q, k, val := rnd(), rnd(), rnd()
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(3))
		var vars []*model.Variable
		step := model.MustNewExec(b, store, func(s *model.Scope, q, k, v *Node) []*Node {
			res := Step(l, s, q, k, v, true)
			vars = Trainable(s, q.Graph())
			return res
		})
		grads := step.MustExec(q, k, val)
		if len(vars) != 2 || len(grads) != 3+len(vars) {
			t.Fatalf("%s: %d outputs for the trainable variables %v, want q, k, v and KERPLE-log's r1, r2", v.Name, len(grads), vars)
		}
		loss := model.MustNewExec(b, store, func(s *model.Scope, q, k, v *Node) *Node {
			out := Step(l, s, q, k, v, false)[0]
			return ReduceAllSum(Mul(out, out))
		})
		at := func() float64 { return tensors.ToScalar[float64](loss.MustExec(q, k, val)[0]) }
		for i, vr := range vars {
			base := tensors.MustCopyFlatData[float64](vr.MustValue())
			got := tensors.MustCopyFlatData[float64](grads[3+i])
			for h := range base {
				const eps = 1e-5
				moved := func(d float64) float64 {
					x := append([]float64(nil), base...)
					x[h] += d
					vr.MustSetValue(tensors.FromFlatDataAndDimensions(x, len(x)))
					return at()
				}
				fd := (moved(eps) - moved(-eps)) / (2 * eps)
				vr.MustSetValue(tensors.FromFlatDataAndDimensions(base, len(base)))
				if math.Abs(got[h]-fd) > 1e-5*(1+math.Abs(fd)) {
					t.Errorf("%s: d/d %s[%d] = %.9g, finite difference %.9g", v.Name, vr.Name(), h, got[h], fd)
				}
			}
		}
	}
}
