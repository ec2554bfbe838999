package kernelized_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/features"
	"github.com/attnbench/attnbench/gomlxattn/kernelized"
	"github.com/attnbench/attnbench/internal/backend"
)

// naiveRows evaluates z_i = sum_j w_ij v_j / sum_j w_ij with w_ij = (fq_i . fk_j) c_{j-i} over
// visible keys in float64; c == nil means c = 1. Layouts: fq, fk [B][n][H][m], v [B][n][H][dv].
func naiveRows(fq, fk, v []float64, c []float64, b, n, h, m, dv int, causal bool) []float64 {
	out := make([]float64, b*n*h*dv)
	for bb := range b {
		for hh := range h {
			for i := range n {
				num := make([]float64, dv)
				den := 0.0
				for j := range n {
					if causal && j > i {
						continue
					}
					w := 0.0
					for r := range m {
						w += fq[((bb*n+i)*h+hh)*m+r] * fk[((bb*n+j)*h+hh)*m+r]
					}
					if c != nil {
						w *= c[hh*(2*n-1)+j-i+n-1]
					}
					den += w
					for e := range dv {
						num[e] += w * v[((bb*n+j)*h+hh)*dv+e]
					}
				}
				for e := range dv {
					out[((bb*n+i)*h+hh)*dv+e] = num[e] / den
				}
			}
		}
	}
	return out
}

func uniform(rng *rand.Rand, size int, lo, hi float64) []float64 {
	x := make([]float64, size)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float64()
	}
	return x
}

func normal(rng *rand.Rand, size int, std float64) []float64 {
	x := make([]float64, size)
	for i := range x {
		x[i] = std * rng.NormFloat64()
	}
	return x
}

// rowErrors returns the maximum over rows (b, i, h) of the relative L2 error of the row.
func rowErrors(got, want []float64, dv int) float64 {
	worst := 0.0
	for s := 0; s < len(want); s += dv {
		var num, den float64
		for e := range dv {
			d := got[s+e] - want[s+e]
			num += d * d
			den += want[s+e] * want[s+e]
		}
		worst = math.Max(worst, math.Sqrt(num/math.Max(den, 1e-300)))
	}
	if math.IsNaN(worst) {
		return math.Inf(1)
	}
	return worst
}

func flat(t *tensors.Tensor) []float64 { return tensors.MustCopyFlatData[float64](t) }

func TestLinearMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 5, 33, 100} {
		for _, causal := range []bool{false, true} {
			for _, chunk := range []int{0, 1, 7, 16} {
				if !causal && chunk > 0 {
					continue
				}
				b, h, m, dv := 2, 3, 8, 5
				fq, fk := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1)
				v := normal(rng, b*n*h*dv, 1)
				want := naiveRows(fq, fk, v, nil, b, n, h, m, dv, causal)
				got := flat(MustNewExec(backend.MustShared(), func(fq, fk, v *Node) *Node {
					r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
					return kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{Causal: causal, Chunk: chunk})
				}).MustCall1(fq, fk, v))
				if err := rowErrors(got, want, dv); err > 1e-12 {
					t.Errorf("n=%d causal=%v chunk=%d: max row error %.3g > 1e-12", n, causal, chunk, err)
				}
			}
		}
	}
}

// globalError is the relative Frobenius error.
func globalError(got, want []float64) float64 {
	var num, den float64
	for i := range want {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	r := math.Sqrt(num / den)
	if math.IsNaN(r) {
		return math.Inf(1)
	}
	return r
}

// rpeKernels are the relative biases b [H*(2n-1)] the FFT tests use: random b ~ N(0, 5^2)
// (checked globally), random b ~ N(0, 1) and a steep ALiBi-like decay -0.5|k| (checked per row).
func rpeKernels(rng *rand.Rand, h, n int) map[string][]float64 {
	decay := make([]float64, h*(2*n-1))
	for hh := range h {
		for t := range 2*n - 1 {
			decay[hh*(2*n-1)+t] = -0.5 * float64(hh+1) * math.Abs(float64(t-(n-1)))
		}
	}
	return map[string][]float64{"normal5": normal(rng, h*(2*n-1), 5), "normal1": normal(rng, h*(2*n-1), 1), "decay": decay}
}

// scaledRowErrors is the largest row error divided by the row's conditioning
// R_i = max_k c_k / max_{k visible from i} c_k: FFT products have an absolute error of order
// eps * max c, so a row that sees only coefficients far below the head's largest one keeps
// proportionally fewer digits. R_i = 1 for kernels that peak at offset 0 (ALiBi, KERPLE, T5).
func scaledRowErrors(got, want, logc []float64, b, n, h, dv int, causal bool) float64 {
	worst := 0.0
	for bb := range b {
		for i := range n {
			for hh := range h {
				row := logc[hh*(2*n-1) : (hh+1)*(2*n-1)]
				all, vis := math.Inf(-1), math.Inf(-1)
				for t, x := range row {
					all = math.Max(all, x)
					if !causal || t <= n-1 {
						if k := t - (n - 1); k >= -i && k <= n-1-i {
							vis = math.Max(vis, x)
						}
					}
				}
				s := ((bb*n+i)*h + hh) * dv
				e := rowErrors(got[s:s+dv], want[s:s+dv], dv) / math.Exp(all-vis)
				worst = math.Max(worst, e)
			}
		}
	}
	return worst
}

// TestRPEMatchesNaive is oracle T2: the FFT path against the naive O(n^2) evaluation of the
// same formula: per-row error (scaled by the row's conditioning) <= 1e-3 in float32 and 1e-10
// in float64, and non-causal global relative error <= 1e-5 in float32.
func TestRPEMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	sizes := []int{1, 5, 64, 1000}
	if !testing.Short() {
		sizes = append(sizes, 4096)
	}
	for _, n := range sizes {
		for _, causal := range []bool{false, true} {
			paths := []rpePath{pathAuto, pathDense, pathBlock, pathQuadratic}
			if n > 1000 {
				paths = []rpePath{pathAuto, pathBlock}
			}
			b, h, m, dv := 1, 2, 6, 3
			if n <= 64 {
				b = 2
			}
			fq, fk := uniform(rng, b*n*h*m, 0.05, 1), uniform(rng, b*n*h*m, 0.05, 1)
			v := normal(rng, b*n*h*dv, 1)
			for kname, logc := range rpeKernels(rng, h, n) {
				c := make([]float64, len(logc))
				for i, x := range logc {
					c[i] = math.Exp(x)
				}
				want := naiveRows(fq, fk, v, c, b, n, h, m, dv, causal)
				for _, path := range paths {
					for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
						if n > 1000 && dt == dtypes.Float64 {
							continue
						}
						name := fmt.Sprintf("n=%d/causal=%v/%s/%s/%s", n, causal, kname, path, dt)
						got := flat(MustNewExec(backend.MustShared(), func(fq, fk, v, lc *Node) *Node {
							r := func(x *Node, d int) *Node { return ConvertDType(Reshape(x, b, n, h, d), dt) }
							o := kernelized.RPE(r(fq, m), r(fk, m), r(v, dv), ConvertDType(Reshape(lc, h, 2*n-1), dt),
								path.with(kernelized.RPEOptions{Causal: causal, FeatureChunk: 4,
									Inference: dt == dtypes.Float64})) // both graph forms
							return ConvertDType(o, dtypes.Float64)
						}).MustCall1(fq, fk, v, logc))
						tol := 1e-3
						if dt == dtypes.Float64 {
							tol = 1e-10
						}
						if err := scaledRowErrors(got, want, logc, b, n, h, dv, causal); !(err <= tol) {
							t.Errorf("%s: max scaled row error %.3g > %g", name, err, tol)
						}
						if dt == dtypes.Float32 && !causal && n >= 64 { // most rows see the head's largest coefficients
							if err := globalError(got, want); !(err <= 1e-5) {
								t.Errorf("%s: relative error %.3g > 1e-5", name, err)
							}
						}
					}
				}
			}
		}
	}
}

// TestRPEStableLongLargeNorm: float32 FFT-RPE at n = 16384 with large-norm queries and keys (PRF
// features of the plain variant) and biases whose exp overflows float32 gives finite outputs
// inside the convex hull of the values (PRF weights are positive).
func TestRPEStableLongLargeNorm(t *testing.T) {
	if testing.Short() {
		t.Skip("n = 16384")
	}
	rng := rand.New(rand.NewPCG(41, 42))
	const b, n, h, d, dv, m = 1, 16384, 2, 8, 2, 8
	q, k, v := normal(rng, b*n*h*d, 5), normal(rng, b*n*h*d, 5), normal(rng, b*n*h*dv, 1)
	logc := make([]float64, h*(2*n-1))
	for i := range logc {
		logc[i] = 120 + 60*rng.Float64() // exp(b) > MaxFloat32 everywhere
	}
	vmin, vmax := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		vmin, vmax = math.Min(vmin, x), math.Max(vmax, x)
	}
	rf := &kernelized.RandomFeatures{Map: features.Map{Kind: features.PRF, M: m, Stabilize: true, Eps: 1e-6}}
	w := features.DrawProjection(features.Rng(4, "stable", 0), features.Gaussian, m, d, 0)
	for _, causal := range []bool{false, true} {
		got := exec1(func(w, q, k, v, lc *Node) *Node {
			f32 := func(x *Node, dims ...int) *Node { return ConvertDType(Reshape(x, dims...), dtypes.Float32) }
			xq, xk := rf.Inputs(f32(q, b, n, h, d), f32(k, b, n, h, d), 0)
			ww := f32(w, m, d)
			o := kernelized.RPE(rf.Map.Queries(ww, xq), rf.Map.Keys(ww, xk), f32(v, b, n, h, dv), f32(lc, h, 2*n-1),
				kernelized.RPEOptions{Causal: causal})
			return ConvertDType(o, dtypes.Float64)
		}, w, q, k, v, logc)
		for i, x := range got {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < vmin-1e-3 || x > vmax+1e-3 {
				t.Fatalf("causal=%v: output %d = %v, want finite and in [%.3f, %.3f]", causal, i, x, vmin, vmax)
			}
		}
	}
}
