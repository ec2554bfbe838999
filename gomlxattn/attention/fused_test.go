package attention_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/internal/naive"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestFusedAttentionMatchesOracle checks the backend's fused attention (cuDNN flash attention on
// CUDA) with a Toeplitz bias against the float64 oracle: outputs, and gradients of q, k, v and
// the bias coefficients against central differences of the oracle. It runs where the backend
// reports the op.
func TestFusedAttentionMatchesOracle(t *testing.T) {
	be := backend.MustShared()
	if !be.Capabilities().Operations[compute.OpTypeFusedScaledDotProductAttention] {
		t.Skipf("backend %s reports no fused scaled-dot-product attention", be.Name())
	}
	const b, h, d = 2, 2, 64
	anyFused := false
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16, dtypes.Float16} {
		tol := 2e-3
		if dt != dtypes.Float32 {
			tol = 4e-2
		}
		for _, causal := range []bool{false, true} {
			for _, n := range []int{1, 7, 64, 130} {
				t.Run(fmt.Sprintf("%s/causal=%v/n=%d", dt, causal, n), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(n), 11))
					q, k, v := randn(rng, 1, b, n, h, d), randn(rng, 1, b, n, h, d), randn(rng, 1, b, n, h, d)
					w := randn(rng, 1, b, n, h, d)
					coef := make([]float64, h*(2*n-1))
					for i := range coef {
						coef[i] = rng.NormFloat64()
					}
					// Inputs rounded to dt, so that the oracle sees what the backend sees.
					for _, x := range []naive.Tensor4{q, k, v} {
						for i, f := range x.Data {
							x.Data[i] = roundTo(dt, f)
						}
					}
					for i, f := range coef {
						coef[i] = roundTo(dt, f)
					}
					fused := false
					exec := MustNewExec(be, func(q, k, v, w, c *Node) []*Node {
						cast := func(x *Node) *Node { return ConvertDType(x, dt) }
						out, ok := attention.FusedExact(cast(q), cast(k), cast(v), attention.Options{Causal: causal, Bias: &posenc.Bias{N: n, Coef: c}})
						fused = ok
						out = ConvertDType(out, dtypes.Float32)
						loss := ReduceAllSum(Mul(out, w))
						return append([]*Node{out}, Gradient(loss, q, k, v, c)...)
					})
					res, err := exec.Call(toTensor(q), toTensor(k), toTensor(v), toTensor(w), tensors.FromFlatDataAndDimensions(f32(coef), h, 2*n-1))
					if err != nil {
						t.Fatal(err)
					}
					anyFused = anyFused || fused
					t.Logf("fused op taken: %v", fused)
					bias := func(c []float64) func(hh, i, j int) float64 {
						return func(hh, i, j int) float64 { return c[hh*(2*n-1)+j-i+n-1] }
					}
					oracle := func(q, k, v naive.Tensor4, c []float64) float64 {
						out, _ := naive.Attention(q, k, v, naive.Options{Causal: causal, Bias: bias(c)})
						s := 0.0
						for i := range out.Data {
							s += out.Data[i] * w.Data[i]
						}
						return s
					}
					wantOut, _ := naive.Attention(q, k, v, naive.Options{Causal: causal, Bias: bias(coef)})
					if e := naive.MaxRelErr(tensors.MustCopyFlatData[float32](res[0]), wantOut.Data); e > tol {
						t.Errorf("output relative error %.3g > %.g", e, tol)
					}
					inputs := [][]float64{q.Data, k.Data, v.Data, coef}
					for gi, name := range []string{"q", "k", "v", "bias"} {
						got := tensors.MustCopyFlatData[float32](res[1+gi])
						x := inputs[gi]
						scale := 0.0
						for _, g := range got {
							scale = math.Max(scale, math.Abs(float64(g)))
						}
						for range 4 {
							i := rng.IntN(len(x))
							const eps = 1e-4
							x0 := x[i]
							x[i] = x0 + eps
							up := oracle(q, k, v, coef)
							x[i] = x0 - eps
							down := oracle(q, k, v, coef)
							x[i] = x0
							want := (up - down) / (2 * eps)
							if diff := math.Abs(float64(got[i]) - want); diff > tol*math.Max(scale, 1) {
								t.Errorf("d loss / d %s[%d] = %.5g, finite differences %.5g", name, i, got[i], want)
							}
						}
					}
				})
			}
		}
	}
	if !anyFused {
		t.Errorf("backend %s reports fused attention, but it took none of the configurations", be.Name())
	}
}

func roundTo(dt dtypes.DType, x float64) float64 {
	switch dt {
	case dtypes.BFloat16:
		b := math.Float32bits(float32(x))
		b += 0x7fff + (b>>16)&1 // round to nearest even
		return float64(math.Float32frombits(b &^ 0xffff))
	case dtypes.Float16:
		return float64(float32(x)) // the backend rounds; the tolerance covers float16's 11 bits
	}
	return float64(float32(x))
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}
