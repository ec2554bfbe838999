package kernelized_test

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/features"
	"github.com/attnbench/attnbench/gomlxattn/kernelized"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
	"github.com/attnbench/attnbench/internal/backend"
	"github.com/attnbench/attnbench/internal/memprobe"
)

var (
	benchMinN    = flag.Int("kern.minn", 512, "smallest sequence length of the kernelized benchmarks")
	benchMaxN    = flag.Int("kern.maxn", 2048, "largest sequence length of the kernelized benchmarks")
	benchF       = flag.Int("kern.f", 1024, "columns F of BenchmarkToeplitz")
	benchDenseN  = flag.Int("kern.densemaxn", 8192, "largest n for the dense Toeplitz product")
	benchSoftN   = flag.Int("kern.softmaxmaxn", 8192, "largest n for exact softmax (memory: about 12 G*n^2 bytes fwd+bwd)")
	benchVariant = flag.String("kern.only", "", "run only variants whose name contains this")
	benchBudget  = flag.Float64("kern.membudget", 22000, "skip a size whose predicted peak heap (from the previous size) exceeds this many MB")
)

// lastPeak holds the peak heap (MB) of each variant's previous size, for the memory budget.
var lastPeak = map[string]float64{}

// overBudget reports (and records as skipped) a cell whose predicted peak heap, growth times
// the peak at half the size (4.2 for O(n^2) methods, 2.2 otherwise), exceeds the budget.
func overBudget(b *testing.B, key string, growth float64) bool {
	if p, ok := lastPeak[key]; ok && growth*p > *benchBudget {
		b.Skipf("skipped: predicted peak heap %.0f MB (%.1f x %.0f MB at half the size) exceeds -kern.membudget %.0f MB", growth*p, growth, p, *benchBudget)
		return true
	}
	return false
}

func growth(quadratic bool) float64 {
	if quadratic {
		return 4.2
	}
	return 2.2
}

func tensorOf(rng *rand.Rand, std float64, dims ...int) *tensors.Tensor {
	size := 1
	for _, d := range dims {
		size *= d
	}
	x := make([]float32, size)
	for i := range x {
		x[i] = float32(std * rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(x, dims...)
}

// runTimed compiles exec with one call, then times b.N calls and reports the peak heap of one
// call; key names the variant for the memory budget.
func runTimed(b *testing.B, key string, exec *Exec, args ...any) {
	for _, t := range exec.MustCall(args...) {
		t.MustFinalizeAll()
	}
	peak := memprobe.Peak(func() {
		for _, t := range exec.MustCall(args...) {
			t.MustFinalizeAll()
		}
	})
	b.ResetTimer()
	for range b.N {
		for _, t := range exec.MustCall(args...) {
			t.MustFinalizeAll()
		}
	}
	lastPeak[key] = float64(peak) / (1 << 20)
	b.ReportMetric(float64(peak)/(1<<20), "peakMB")
}

// BenchmarkToeplitz times Y = T(c) X for G = 8 and F = kern.f columns: dense against the
// block-spectral method, forward and forward+backward (gradients of c and X).
func BenchmarkToeplitz(b *testing.B) {
	const g = 8
	f := *benchF
	be := backend.MustShared()
	for n := *benchMinN; n <= *benchMaxN; n *= 2 {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		c, x := tensorOf(rng, 1, g, 2*n-1), tensorOf(rng, 1, g, n, f)
		for _, meth := range []toeplitz.Method{toeplitz.Dense, toeplitz.BlockSpectral} {
			if meth == toeplitz.Dense && n > *benchDenseN {
				continue
			}
			for _, bwd := range []bool{false, true} {
				name := fmt.Sprintf("%s/n=%d/%s", meth, n, mode(bwd))
				if !selected(name) {
					continue
				}
				key := meth.String() + mode(bwd)
				b.Run(name, func(b *testing.B) {
					if overBudget(b, key, growth(meth == toeplitz.Dense)) {
						return
					}
					exec := MustNewExec(be, func(c, x *Node) []*Node {
						y := toeplitz.Apply(c, x, toeplitz.Options{Method: meth, Causal: true})
						if !bwd {
							return []*Node{y}
						}
						return Gradient(ReduceAllSum(Mul(y, y)), c, x)
					})
					runTimed(b, key, exec, c, x)
				})
			}
		}
	}
}

// BenchmarkAttentionRPE times one causal attention layer with a KERPLE-log relative encoding,
// G = batch*heads = 8, d = d_v = 64: exact softmax attention with the bias matrix, FFT-RPE
// kernelized attention (NPRF features, m = 16, 32, 64, block-spectral Toeplitz products) and
// Performer without RPE (m = 64), forward and forward+backward (gradients of q, k, v and the
// encoding's coefficients).
func BenchmarkAttentionRPE(b *testing.B) {
	const batch, heads, d = 1, 8, 64
	be := backend.MustShared()
	type variant struct {
		name string
		m    int
		rpe  bool
	}
	variants := []variant{{"softmax", 0, true}, {"fftrpe-m16", 16, true}, {"fftrpe-m32", 32, true}, {"fftrpe-m64", 64, true}, {"performer-m64", 64, false}}
	for n := *benchMinN; n <= *benchMaxN; n *= 2 {
		rng := rand.New(rand.NewPCG(2, uint64(n)))
		q, k, v := tensorOf(rng, 1, batch, n, heads, d), tensorOf(rng, 1, batch, n, heads, d), tensorOf(rng, 1, batch, n, heads, d)
		// b_k = -r1 log(1 + r2 |k|) per head (KERPLE-log shapes), causal offsets.
		bias := make([]float32, heads*(2*n-1))
		for h := range heads {
			for t := range 2*n - 1 {
				dist := float64(max(n-1-t, 0))
				bias[h*(2*n-1)+t] = float32(-(0.5 + 0.2*float64(h)) * logp1(0.1*dist))
			}
		}
		coef := tensors.FromFlatDataAndDimensions(bias, heads, 2*n-1)
		for _, vr := range variants {
			if vr.m == 0 && n > *benchSoftN {
				continue
			}
			for _, bwd := range []bool{false, true} {
				name := fmt.Sprintf("%s/n=%d/%s", vr.name, n, mode(bwd))
				if !selected(name) {
					continue
				}
				key := vr.name + mode(bwd)
				b.Run(name, func(b *testing.B) {
					if overBudget(b, key, growth(vr.m == 0)) {
						return
					}
					fm := features.Map{Kind: features.PRF, M: vr.m}
					var w *tensors.Tensor
					if vr.m > 0 {
						wf := features.DrawProjection(features.Rng(1, "bench", 0), features.Gaussian, vr.m, d, 0)
						w32 := make([]float32, len(wf))
						for i, x := range wf {
							w32[i] = float32(x)
						}
						w = tensors.FromFlatDataAndDimensions(w32, vr.m, d)
					} else {
						w = tensors.FromFlatDataAndDimensions([]float32{0}, 1, 1)
					}
					exec := MustNewExec(be, func(q, k, v, c, w *Node) []*Node {
						var out *Node
						switch {
						case vr.m == 0:
							out, _ = attention.Exact(q, k, v, attention.Options{Causal: true, Bias: &posenc.Bias{N: n, Coef: c}})
						default:
							rf := &kernelized.RandomFeatures{Map: fm, Normalize: true}
							xq, xk := rf.Inputs(q, k, 0)
							fq, fk := fm.Queries(w, xq), fm.Keys(w, xk)
							if vr.rpe {
								out = kernelized.RPE(fq, fk, v, c, kernelized.RPEOptions{Causal: true, Inference: !bwd})
							} else {
								out = kernelized.Linear(fq, fk, v, kernelized.LinearOptions{Causal: true})
							}
						}
						if !bwd {
							return []*Node{out}
						}
						return Gradient(ReduceAllSum(Mul(out, out)), q, k, v, c)
					})
					runTimed(b, key, exec, q, k, v, coef, w)
					b.ReportMetric(float64(batch*n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
				})
			}
		}
	}
}

func logp1(x float64) float64 { return math.Log1p(x) }

func mode(bwd bool) string {
	if bwd {
		return "fwdbwd"
	}
	return "fwd"
}

func selected(name string) bool {
	return *benchVariant == "" || strings.Contains(name, *benchVariant)
}
