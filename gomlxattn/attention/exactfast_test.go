package attention_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/internal/naive"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestDirectExactMatchesOracle checks Exact's direct path (causal mask folded into the bias,
// hand-written backward) in float64 against the float64 oracle: outputs, and gradients of q, k,
// v and the bias coefficients against central differences of the oracle, causal and not, with
// and without a bias, at odd lengths, n = 1 and lengths of several causal query blocks.
func TestDirectExactMatchesOracle(t *testing.T) {
	be := backend.MustShared()
	const b, h, d = 2, 3, 5
	for _, causal := range []bool{false, true} {
		for _, withBias := range []bool{false, true} {
			for _, n := range []int{1, 2, 7, 33, 512, 768} { // 512 and 768: two and three causal query blocks
				if n >= 512 && !causal {
					continue // one block, as at n = 33
				}
				t.Run(fmt.Sprintf("causal=%v/bias=%v/n=%d", causal, withBias, n), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(n), 13))
					f64 := func(x naive.Tensor4) naive.Tensor4 { // values float32 holds exactly, as fed
						for i, f := range x.Data {
							x.Data[i] = float64(float32(f))
						}
						return x
					}
					q, k, v, w := f64(randn(rng, 1, b, n, h, d)), f64(randn(rng, 1, b, n, h, d)), f64(randn(rng, 1, b, n, h, d)), f64(randn(rng, 1, b, n, h, d))
					coef := make([]float64, h*(2*n-1))
					for i := range coef {
						coef[i] = float64(float32(rng.NormFloat64()))
					}
					exec := MustNewExec(be, func(q, k, v, w, c *Node) []*Node {
						x := func(n *Node) *Node { return ConvertDType(n, dtypes.Float64) }
						opt := attention.Options{Causal: causal}
						if withBias {
							opt.Bias = &posenc.Bias{N: n, Coef: x(c)}
						}
						out, _ := attention.Exact(x(q), x(k), x(v), opt)
						loss := ReduceAllSum(Mul(out, x(w)))
						return append([]*Node{out}, Gradient(loss, q, k, v, c)...)
					})
					res, err := exec.Call(toTensor(q), toTensor(k), toTensor(v), toTensor(w), tensors.FromFlatDataAndDimensions(f32(coef), h, 2*n-1))
					if err != nil {
						t.Fatal(err)
					}
					opts := func(c []float64) naive.Options {
						o := naive.Options{Causal: causal}
						if withBias {
							o.Bias = func(hh, i, j int) float64 { return c[hh*(2*n-1)+j-i+n-1] }
						}
						return o
					}
					oracle := func() float64 {
						out, _ := naive.Attention(q, k, v, opts(coef))
						s := 0.0
						for i := range out.Data {
							s += out.Data[i] * w.Data[i]
						}
						return s
					}
					want, _ := naive.Attention(q, k, v, opts(coef))
					if e := naive.MaxRelErr(f32(tensors.MustCopyFlatData[float64](res[0])), want.Data); e > 1e-6 {
						t.Errorf("output relative error %.3g", e)
					}
					inputs := [][]float64{q.Data, k.Data, v.Data, coef}
					for gi, name := range []string{"q", "k", "v", "bias"} {
						got := tensors.MustCopyFlatData[float32](res[1+gi])
						x := inputs[gi]
						samples := 12
						if n >= 512 {
							samples = 3
						}
						for range samples {
							i := rng.IntN(len(x))
							want := naive.CentralDiff(x, i, 1e-5, oracle)
							if !withBias && gi == 3 {
								want = 0
							}
							if diff := math.Abs(float64(got[i]) - want); diff > 1e-5*(1+math.Abs(want)) {
								t.Errorf("d loss / d %s[%d] = %.7g, finite differences %.7g", name, i, got[i], want)
							}
						}
					}
				})
			}
		}
	}
}
