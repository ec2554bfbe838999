package attention_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/internal/naive"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

func randn(rng *rand.Rand, scale float64, dims ...int) naive.Tensor4 {
	t := naive.New4(dims[0], dims[1], dims[2], dims[3])
	for i := range t.Data {
		t.Data[i] = scale * rng.NormFloat64()
	}
	return t
}

func toTensor(t naive.Tensor4) *tensors.Tensor {
	f := make([]float32, len(t.Data))
	for i, v := range t.Data {
		f[i] = float32(v)
	}
	return tensors.FromFlatDataAndDimensions(f, t.Dims[:]...)
}

func round32(t naive.Tensor4) naive.Tensor4 {
	out := naive.Tensor4{Dims: t.Dims, Data: make([]float64, len(t.Data))}
	for i, v := range t.Data {
		out.Data[i] = float64(float32(v))
	}
	return out
}

func vars(store *model.Store) map[string][]float64 {
	out := map[string][]float64{}
	for v := range store.IterVariables() {
		if v.Shape().DType == dtypes.Float32 {
			t := tensors.MustCopyFlatData[float32](v.MustValue())
			f := make([]float64, len(t))
			for i, x := range t {
				f[i] = float64(x)
			}
			out[v.Name()] = f
		}
	}
	return out
}

// refBias is the spec formula of each relative encoding in float64, from the variable values.
func refBias(t *testing.T, enc posenc.Encoding, p map[string][]float64, causal bool, dh int) (bias, weight func(h, i, j int) float64) {
	dist := func(i, j int) float64 {
		if causal {
			return math.Max(float64(i-j), 0)
		}
		return math.Abs(float64(i - j))
	}
	clip := func(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }
	pw := func(d, e float64) float64 {
		if d == 0 {
			return 0
		}
		return math.Pow(d, e)
	}
	switch e := enc.(type) {
	case posenc.LuoRPE:
		w := p["luo_rpe_table"]
		return func(h, i, j int) float64 {
			k := min(max(j-i, -(e.MaxLen-1)), e.MaxLen-1)
			return w[(k+e.MaxLen-1)*e.NumHeads+h]
		}, nil
	case posenc.ALiBi:
		sl := posenc.ALiBiSlopes(len(e.Slopes))
		return func(h, i, j int) float64 { return -sl[h] * dist(i, j) }, nil
	case posenc.T5:
		w := p["t5_buckets"]
		return func(h, i, j int) float64 {
			return w[posenc.T5Bucket(i-j, e.Buckets, e.MaxDistance, e.Bidirectional)*e.NumHeads+h] * math.Sqrt(float64(dh))
		}, nil
	case posenc.KerpleLog:
		r1, r2 := p["kerple_log_r1"], p["kerple_log_r2"]
		return func(h, i, j int) float64 {
			return -clip(r1[h], 0.01, 1e9) * math.Log(1+clip(r2[h], 0.01, 1e9)*dist(i, j))
		}, nil
	case posenc.KerplePower:
		r1, r2 := p["kerple_power_r1"], p["kerple_power_r2"]
		return func(h, i, j int) float64 { return -clip(r1[h], 0.01, 1e9) * pw(dist(i, j), clip(r2[h], 0.01, 2)) }, nil
	case posenc.Kerple3ParaLog:
		r1, r2, r3 := p["kerple_3log_r1"], p["kerple_3log_r2"], p["kerple_3log_r3"]
		return func(h, i, j int) float64 {
			return -clip(r1[h], 0.01, 1e9) * math.Log(1+clip(r2[h], 0.01, 1e9)*pw(dist(i, j), clip(r3[h], 0.01, 2)))
		}, nil
	case posenc.KerpleBiasWeight:
		r1, r2, r3, r4 := p["kerple_bias_r1"], p["kerple_bias_r2"], p["kerple_wht_r3"], p["kerple_wht_r4"]
		return func(h, i, j int) float64 {
				return -clip(r1[h], 0.01, 1e9) * pw(dist(i, j), clip(r2[h], 0.01, 2))
			}, func(h, i, j int) float64 {
				return math.Exp(-clip(r3[h], 0.01, 1e9) * pw(dist(i, j), clip(r4[h], 0.01, 2)))
			}
	case posenc.Sandwich:
		return func(h, i, j int) float64 {
			s := 0.0
			for k := 1; k <= e.Dim/2; k++ {
				s += math.Cos(dist(i, j) * math.Pow(10000, -2*float64(k)/float64(e.Dim)))
			}
			return (s - float64(e.Dim/2)) / (8 * float64(h+1) / float64(e.NumHeads))
		}, nil
	case posenc.FIRE:
		c, lm := p["fire_c"][0], p["fire_l_mult"][0]
		w1, b1, w2, b2 := p["fire_w1"], p["fire_b1"], p["fire_w2"], p["fire_b2"]
		psi := func(x float64) float64 { return math.Log(math.Abs(c*x) + 1) }
		return func(h, i, j int) float64 {
			x := psi(dist(i, j)) / (psi(math.Max(float64(i), math.Abs(lm)*e.InitL)) + 1e-6)
			out := b2[h]
			for u := range e.Width {
				out += math.Max(x*w1[u]+b1[u], 0) * w2[u*e.NumHeads+h]
			}
			return out
		}, nil
	}
	t.Fatalf("no reference for %s", enc.Name())
	return nil, nil
}

// TestExactMatchesReference checks attention with every relative and QK encoding against the
// float64 plain-Go reference, causal and bidirectional, for odd and even n.
func TestExactMatchesReference(t *testing.T) {
	const b, h, dh = 2, 3, 8
	be := backend.MustShared()
	for _, name := range posenc.Names() {
		probe, err := posenc.New(posenc.Config{Kind: name}, posenc.Env{NumHeads: h, HeadDim: dh, Width: h * dh})
		if err != nil {
			t.Fatal(err)
		}
		if fam, _ := posenc.FamilyOf(probe); fam == posenc.FamilyAbsolute {
			continue
		}
		for _, causal := range []bool{true, false} {
			for _, n := range []int{1, 7, 64, 100} {
				t.Run(fmt.Sprintf("%s/causal=%v/n=%d", name, causal, n), func(t *testing.T) {
					env := posenc.Env{NumHeads: h, HeadDim: dh, Width: h * dh, Causal: causal}
					enc, err := posenc.New(posenc.Config{Kind: name}, env)
					if err != nil {
						t.Fatal(err)
					}
					rng := rand.New(rand.NewPCG(uint64(n), 3))
					q, k, v := round32(randn(rng, 1, b, n, h, dh)), round32(randn(rng, 1, b, n, h, dh)), round32(randn(rng, 1, b, n, h, dh))
					store := model.NewStore()
					store.SetParam(model.ParamInitialSeed, int64(n+1))
					if le, ok := enc.(posenc.LuoRPE); ok { // zero at init: set a random table, short enough to clip
						le.MaxLen = 5
						enc = le
						tab := make([]float32, (2*le.MaxLen-1)*h)
						for i := range tab {
							tab[i] = float32(rng.NormFloat64())
						}
						store.RootScope().VariableWithValue("luo_rpe_table", tensors.FromFlatDataAndDimensions(tab, 2*le.MaxLen-1, h))
					}
					exec := model.MustNewExec(be, store, func(scope *model.Scope, q, k, v *Node) []*Node {
						bias := posenc.ComputeBias(scope, q.Graph(), enc, n, dtypes.Float32)
						if qk, ok := enc.(posenc.QK); ok {
							q, k = qk.EncodeQK(q, k)
						}
						out, probs := attention.Exact(q, k, v, attention.Options{Causal: causal, Bias: bias, WantProbs: true})
						return []*Node{out, probs}
					})
					res, err := exec.Call(toTensor(q), toTensor(k), toTensor(v))
					if err != nil {
						t.Fatal(err)
					}
					o := naive.Options{Causal: causal}
					switch e := enc.(type) {
					case posenc.Rotary:
						q, k = naive.Rotate(q, e.RotDim, e.Base, e.Interleaved, nil), naive.Rotate(k, e.RotDim, e.Base, e.Interleaved, nil)
					case posenc.XPos:
						z := e.Zeta()
						up := func(t, i int) float64 { return math.Pow(z[i], (float64(t)-float64(n/2))/e.ScaleBase) }
						down := func(t, i int) float64 { return 1 / up(t, i) }
						q, k = naive.Rotate(q, e.RotDim, e.Base, e.Interleaved, up), naive.Rotate(k, e.RotDim, e.Base, e.Interleaved, down)
					case posenc.NoPE:
					default:
						o.Bias, o.Weight = refBias(t, enc, vars(store), causal, dh)
					}
					wantOut, wantProbs := naive.Attention(q, k, v, o)
					if e := naive.MaxRelErr(tensors.MustCopyFlatData[float32](res[0]), wantOut.Data); e > 1e-5 {
						t.Errorf("output relative error %.3g > 1e-5", e)
					}
					if e := naive.MaxRelErr(tensors.MustCopyFlatData[float32](res[1]), wantProbs.Data); e > 1e-5 {
						t.Errorf("probabilities relative error %.3g > 1e-5", e)
					}
				})
			}
		}
	}
}
