package transformer_test

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestTokenLoss: the loss and the gradient of sum(w * loss) against float64 log-sum-exp and
// w (softmax - onehot), for odd shapes (one position, a vocabulary of one), logits of every
// scale up to 1e30 (a label far below the maximum, whose softmax underflows in float32), in
// float32 and float64: finite, never NaN.
func TestTokenLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 9))
	for _, c := range []struct{ b, n, v int }{{1, 1, 1}, {1, 1, 5}, {3, 7, 11}, {2, 5, 256}} {
		for _, scale := range []float64{1, 30, 1e4, 1e30} {
			rows := c.b * c.n
			logits := make([]float64, rows*c.v)
			for i := range logits {
				logits[i] = scale * rng.NormFloat64()
			}
			labels := make([]int32, rows)
			w := make([]float64, rows)
			for r := range rows {
				labels[r] = int32(rng.IntN(c.v))
				w[r] = rng.Float64() - 0.3
			}
			// The oracle in float64 from the float32-rounded logits, so both dtypes see the same input.
			for i := range logits {
				logits[i] = float64(float32(logits[i]))
			}
			want, dwant := make([]float64, rows), make([]float64, rows*c.v)
			for r := range rows {
				row := logits[r*c.v : (r+1)*c.v]
				m := math.Inf(-1)
				for _, x := range row {
					m = max(m, x)
				}
				s := 0.0
				for _, x := range row {
					s += math.Exp(x - m)
				}
				want[r] = m + math.Log(s) - row[labels[r]]
				for j, x := range row {
					dwant[r*c.v+j] = w[r] * math.Exp(x-m) / s
				}
				dwant[r*c.v+int(labels[r])] -= w[r]
			}
			for _, f32 := range []bool{true, false} {
				var lt, wt *tensors.Tensor
				if f32 {
					l32, w32 := make([]float32, len(logits)), make([]float32, len(w))
					for i, x := range logits {
						l32[i] = float32(x)
					}
					for i, x := range w {
						w32[i] = float32(x)
					}
					lt, wt = tensors.FromFlatDataAndDimensions(l32, c.b, c.n, c.v), tensors.FromFlatDataAndDimensions(w32, c.b, c.n)
				} else {
					lt, wt = tensors.FromFlatDataAndDimensions(logits, c.b, c.n, c.v), tensors.FromFlatDataAndDimensions(w, c.b, c.n)
				}
				lab := tensors.FromFlatDataAndDimensions(labels, c.b, c.n, 1)
				exec := MustNewExec(backend.MustShared(), func(l, lab, w *Node) []*Node {
					loss := transformer.TokenLoss(l, lab)
					return []*Node{loss, Gradient(ReduceAllSum(Mul(loss, w)), l)[0]}
				})
				res := exec.MustCall(lt, lab, wt)
				got, dgot := asFloat64(res[0]), asFloat64(res[1])
				tol := 1e-12
				if f32 {
					tol = 2e-6
				}
				for r := range rows {
					if !(math.Abs(got[r]-want[r]) <= tol*(1+math.Abs(want[r]))) {
						t.Errorf("%+v scale %g f32=%v: loss[%d] = %g, want %g", c, scale, f32, r, got[r], want[r])
					}
				}
				for i := range dwant {
					if !(math.Abs(dgot[i]-dwant[i]) <= 10*tol) {
						t.Errorf("%+v scale %g f32=%v: gradient[%d] = %g, want %g", c, scale, f32, i, dgot[i], dwant[i])
						break
					}
				}
			}
		}
	}
}

func asFloat64(t *tensors.Tensor) []float64 {
	if f, err := tensors.CopyFlatData[float32](t); err == nil {
		out := make([]float64, len(f))
		for i, v := range f {
			out[i] = float64(v)
		}
		return out
	}
	return tensors.MustCopyFlatData[float64](t)
}
