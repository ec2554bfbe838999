package kernelized_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/features"
	"github.com/attnbench/attnbench/gomlxattn/kernelized"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

func exec1[F ExecGraphFn](fn F, args ...any) []float64 {
	return flat(MustNewExec(backend.MustShared(), fn).MustCall1(args...))
}

// TestRPEReducesToLinear is oracle T3: b = const equals plain kernelized attention, and adding
// a constant to b changes nothing.
func TestRPEReducesToLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const b, n, h, m, dv = 2, 37, 2, 8, 4
	fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
	logc := normal(rng, h*(2*n-1), 1)
	for _, causal := range []bool{false, true} {
		lin := exec1(func(fq, fk, v *Node) *Node {
			r := func(x *Node, d int) *Node { return ConvertDType(Reshape(x, b, n, h, d), dtypes.Float32) }
			return ConvertDType(kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{Causal: causal}), dtypes.Float64)
		}, fq, fk, v)
		rpe := func(shift float64, lc []float64, path rpePath) []float64 {
			dt := dtypes.Float32
			if shift > 10 { // a large shift rounds b itself in float32: check the algebra in float64
				dt = dtypes.Float64
			}
			return exec1(func(fq, fk, v, lc *Node) *Node {
				r := func(x *Node, d int) *Node { return ConvertDType(Reshape(x, b, n, h, d), dt) }
				c := AddScalar(ConvertDType(Reshape(lc, h, 2*n-1), dt), shift)
				o := kernelized.RPE(r(fq, m), r(fk, m), r(v, dv), c, path.with(kernelized.RPEOptions{Causal: causal}))
				return ConvertDType(o, dtypes.Float64)
			}, fq, fk, v, lc)
		}
		zero := make([]float64, h*(2*n-1))
		for _, path := range []rpePath{pathDense, pathBlock, pathQuadratic} {
			for _, shift := range []float64{0, 3.5} {
				if e := globalError(rpe(shift, zero, path), lin); e > 1e-6 {
					t.Errorf("causal=%v %s: b = %v differs from linear attention by %.3g", causal, path, shift, e)
				}
			}
			if e := globalError(rpe(40, logc, path), rpe(40-40, logc, pathDense)); e > 1e-6 {
				t.Errorf("causal=%v %s: b + 40 changed the output by %.3g", causal, path, e)
			}
		}
	}
}

// TestCausality is oracle T4: changing k_j, v_j for j > i leaves z_i bit for bit unchanged in
// float64 (chunked linear attention, dense RPE, the quadratic weights) and to 1e-12 for the
// block-spectral path.
func TestCausality(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const b, n, h, m, dv, cut = 1, 50, 2, 6, 3, 21
	fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
	logc := normal(rng, h*(2*n-1), 1)
	fk2, v2 := append([]float64(nil), fk...), append([]float64(nil), v...)
	for i := cut * h * m; i < len(fk2); i++ {
		fk2[i] = 5 * rng.Float64()
	}
	for i := cut * h * dv; i < len(v2); i++ {
		v2[i] = 10 * rng.NormFloat64()
	}
	run := func(kind string, fk, v []float64) []float64 {
		return exec1(func(fq, fk, v, lc *Node) *Node {
			r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
			switch kind {
			case "linear":
				return kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{Causal: true, Chunk: 8})
			case "dense":
				return kernelized.RPE(r(fq, m), r(fk, m), r(v, dv), Reshape(lc, h, 2*n-1), pathDense.with(kernelized.RPEOptions{Causal: true}))
			case "quadratic":
				return kernelized.RPE(r(fq, m), r(fk, m), r(v, dv), Reshape(lc, h, 2*n-1), pathQuadratic.with(kernelized.RPEOptions{Causal: true}))
			}
			return kernelized.RPE(r(fq, m), r(fk, m), r(v, dv), Reshape(lc, h, 2*n-1), pathBlock.with(kernelized.RPEOptions{Causal: true}))
		}, fq, fk, v, logc)
	}
	for _, kind := range []string{"linear", "dense", "quadratic", "block"} {
		a, c := run(kind, fk, v), run(kind, fk2, v2)
		for i := range cut * h * dv {
			d := math.Abs(a[i] - c[i])
			if (kind != "block" && d != 0) || d > 1e-12 {
				t.Errorf("%s: output %d (position %d) changed by %.3g when only later keys changed", kind, i, i/(h*dv), d)
				break
			}
		}
		changed := false
		for i := cut * h * dv; i < len(a); i++ {
			changed = changed || a[i] != c[i]
		}
		if !changed {
			t.Errorf("%s: later outputs did not change either; the test is vacuous", kind)
		}
	}
}

// TestLinearRPEClosedForm is oracle T5: b_k = beta k factorises, C[i,j] = e^{beta j} e^{-beta i},
// so RPE equals linear attention with phi(k_j) scaled by e^{beta j}.
func TestLinearRPEClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const b, n, h, m, dv, beta = 2, 40, 1, 5, 3, 0.07
	fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
	logc := make([]float64, 2*n-1)
	for t := range logc {
		logc[t] = beta * float64(t-(n-1))
	}
	tilted := append([]float64(nil), fk...)
	for bb := range b {
		for j := range n {
			for r := range m {
				tilted[(bb*n+j)*m+r] *= math.Exp(beta * float64(j))
			}
		}
	}
	for _, causal := range []bool{false, true} {
		want := exec1(func(fq, fk, v *Node) *Node {
			r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
			return kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{Causal: causal})
		}, fq, tilted, v)
		for _, path := range []rpePath{pathBlock, pathQuadratic} {
			got := exec1(func(fq, fk, v, lc *Node) *Node {
				r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
				return kernelized.RPE(r(fq, m), r(fk, m), r(v, dv), Reshape(lc, h, 2*n-1), path.with(kernelized.RPEOptions{Causal: causal}))
			}, fq, fk, v, logc)
			if e := globalError(got, want); e > 1e-10 {
				t.Errorf("causal=%v %s: relative error %.3g > 1e-10", causal, path, e)
			}
		}
	}
}

// TestConvergenceToSoftmaxRPE is oracle T6: PRF attention with RPE on unit-norm q, k converges
// to exact softmax(q k^T + B) V as m grows, at the Monte-Carlo rate m^{-1/2}.
func TestConvergenceToSoftmaxRPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const n, d, dv, draws = 64, 16, 8, 20
	unit := func() []float64 {
		x := make([]float64, n*d)
		for i := range n {
			copy(x[i*d:], randUnit(rng, d))
		}
		return x
	}
	q, k, v := unit(), unit(), normal(rng, n*dv, 1)
	logc := normal(rng, 2*n-1, 1)
	exact := exec1(func(q, k, v, lc *Node) *Node {
		bias := &posenc.Bias{N: n, Coef: Reshape(lc, 1, 2*n-1)}
		o, _ := attention.Exact(Reshape(q, 1, n, 1, d), Reshape(k, 1, n, 1, d), Reshape(v, 1, n, 1, dv), attention.Options{Scale: 1, Bias: bias})
		return o
	}, q, k, v, logc)
	ms := []int{16, 64, 256, 1024, 4096}
	errs := map[features.Projection][]float64{}
	for _, proj := range []features.Projection{features.Gaussian, features.Orthogonal} {
		for _, m := range ms {
			fm := features.Map{Kind: features.PRF, Projection: proj, M: m}
			exec := MustNewExec(backend.MustShared(), func(w, q, k, v, lc *Node) *Node {
				w = Reshape(w, m, d)
				fq := fm.Queries(w, Reshape(q, 1, n, 1, d))
				fk := fm.Keys(w, Reshape(k, 1, n, 1, d))
				return kernelized.RPE(fq, fk, Reshape(v, 1, n, 1, dv), Reshape(lc, 1, 2*n-1), kernelized.RPEOptions{})
			})
			mean := 0.0
			for s := range draws {
				w := features.DrawProjection(features.Rng(uint64(s), "t6", int64(m)), proj, m, d, 0)
				got := flat(exec.MustCall1(w, q, k, v, logc))
				worst := 0.0
				for i := range got {
					worst = math.Max(worst, math.Abs(got[i]-exact[i]))
				}
				mean += worst / draws
			}
			errs[proj] = append(errs[proj], mean)
		}
	}
	iid := errs[features.Gaussian]
	t.Logf("mean max-abs error at m = %v: iid %.3g, orf %.3g", ms, iid, errs[features.Orthogonal])
	for i := 1; i < len(ms); i++ {
		if r := iid[i] / iid[i-1]; r < 0.35 || r > 0.75 {
			t.Errorf("err(%d)/err(%d) = %.3f, want in [0.35, 0.75] (rate m^-1/2)", ms[i], ms[i-1], r)
		}
	}
	// least-squares slope of log err against log m
	var sx, sy, sxx, sxy float64
	for i, m := range ms {
		x, y := math.Log(float64(m)), math.Log(iid[i])
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	k5 := float64(len(ms))
	slope := (k5*sxy - sx*sy) / (k5*sxx - sx*sx)
	if slope < -0.65 || slope > -0.35 {
		t.Errorf("log-log slope %.3f, want about -0.5", slope)
	}
	if iid[len(iid)-1] >= 0.05 {
		t.Errorf("err(4096) = %.3g, want < 0.05", iid[len(iid)-1])
	}
	if errs[features.Orthogonal][0] > iid[0] {
		t.Errorf("ORF error %.3g > iid error %.3g at m = d", errs[features.Orthogonal][0], iid[0])
	}
}

func randUnit(rng *rand.Rand, d int) []float64 {
	x := normal(rng, d, 1)
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	for i := range x {
		x[i] /= math.Sqrt(s)
	}
	return x
}

// TestLuoFigure1b reproduces Luo et al. Fig. 1b: with q and keys on the sphere of radius R,
// d = 64 and 1024 keys, the L1 error of a PRF attention row is small at R = 1, m = 1024, and
// stays near its maximum 2 at R = 4 for every m <= 1024.
func TestLuoFigure1b(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	const d, nk = 64, 1024
	row := func(r float64, m int, seed uint64) float64 {
		q := randUnit(rng, d)
		ks := make([]float64, nk*d)
		for j := range nk {
			copy(ks[j*d:], randUnit(rng, d))
		}
		for i := range q {
			q[i] *= r
		}
		for i := range ks {
			ks[i] *= r
		}
		exact := make([]float64, nk)
		s := 0.0
		for j := range nk {
			dot := 0.0
			for i := range d {
				dot += q[i] * ks[j*d+i]
			}
			exact[j] = dot
		}
		mx := math.Inf(-1)
		for _, x := range exact {
			mx = math.Max(mx, x)
		}
		for j := range exact {
			exact[j] = math.Exp(exact[j] - mx)
			s += exact[j]
		}
		fm := features.Map{Kind: features.PRF, M: m, Stabilize: true}
		w := features.DrawProjection(features.Rng(seed, "fig1b", 0), features.Gaussian, m, d, 0)
		res := MustNewExec(backend.MustShared(), func(w, q, k *Node) []*Node {
			w = Reshape(w, m, d)
			return []*Node{fm.Queries(w, Reshape(q, 1, 1, 1, d)), fm.Keys(w, Reshape(k, 1, nk, 1, d))}
		}).MustCall(w, q, ks)
		fq, fk := flat(res[0]), flat(res[1])
		est := make([]float64, nk)
		tot := 0.0
		for j := range nk {
			for r := range m {
				est[j] += fq[r] * fk[j*m+r]
			}
			tot += est[j]
		}
		l1 := 0.0
		for j := range nk {
			l1 += math.Abs(est[j]/tot - exact[j]/s)
		}
		return l1
	}
	avg := func(r float64, m int) float64 {
		e := 0.0
		for s := range 5 {
			e += row(r, m, uint64(s)) / 5
		}
		return e
	}
	if e := avg(1, 1024); e < 0.03 || e > 0.07 {
		t.Errorf("R=1, m=1024: L1 error %.3f, want in [0.03, 0.07]", e)
	}
	for _, m := range []int{16, 256, 1024} {
		if e := avg(4, m); e <= 1.4 {
			t.Errorf("R=4, m=%d: L1 error %.3f, want > 1.4", m, e)
		}
	}
}

// TestRPEGradients is oracle T8: gradients through the block-spectral path equal those of the
// dense path (float32, 1e-4) and central finite differences (float64, 1e-6).
func TestRPEGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const b, n, h, d, dv, m = 1, 70, 2, 4, 3, 8
	q, k, v := normal(rng, b*n*h*d, 0.5), normal(rng, b*n*h*d, 0.5), normal(rng, b*n*h*dv, 1)
	logc, r := normal(rng, h*(2*n-1), 1), normal(rng, b*n*h*dv, 1)
	fm := features.Map{Kind: features.PRF, M: m}
	w := features.DrawProjection(features.Rng(1, "t8", 0), features.Gaussian, m, d, 0)
	inference := false
	loss := func(dt dtypes.DType, path rpePath, causal bool) func(w, q, k, v, lc, r *Node) *Node {
		return func(w, q, k, v, lc, r *Node) *Node {
			cv := func(x *Node, dims ...int) *Node { return ConvertDType(Reshape(x, dims...), dt) }
			wq, wk := cv(q, b, n, h, d), cv(k, b, n, h, d)
			ww := cv(w, m, d)
			o := kernelized.RPE(fm.Queries(ww, wq), fm.Keys(ww, wk), cv(v, b, n, h, dv), cv(lc, h, 2*n-1),
				path.with(kernelized.RPEOptions{Causal: causal, Inference: inference}))
			return ReduceAllSum(Mul(o, cv(r, b, n, h, dv)))
		}
	}
	grads := func(dt dtypes.DType, path rpePath, causal bool) [][]float64 {
		lf := loss(dt, path, causal)
		res := MustNewExec(backend.MustShared(), func(w, q, k, v, lc, r *Node) []*Node {
			l := lf(w, q, k, v, lc, r)
			gs := Gradient(l, q, k, v, lc)
			out := make([]*Node, len(gs))
			for i, g := range gs {
				out[i] = ConvertDType(g, dtypes.Float64)
			}
			return out
		}).MustCall(w, q, k, v, logc, r)
		out := make([][]float64, len(res))
		for i, x := range res {
			out[i] = tensors.MustCopyFlatData[float64](x)
		}
		return out
	}
	names := []string{"dQ", "dK", "dV", "db"}
	for _, causal := range []bool{false, true} {
		dense, block := grads(dtypes.Float64, pathDense, causal), grads(dtypes.Float32, pathBlock, causal)
		quad32, quad64 := grads(dtypes.Float32, pathQuadratic, causal), grads(dtypes.Float64, pathQuadratic, causal)
		for i := range dense {
			if e := globalError(block[i], dense[i]); e > 1e-4 {
				t.Errorf("causal=%v %s: float32 block vs float64 dense relative error %.3g > 1e-4", causal, names[i], e)
			}
			if e := globalError(quad32[i], dense[i]); e > 1e-4 {
				t.Errorf("causal=%v %s: float32 quadratic vs float64 dense relative error %.3g > 1e-4", causal, names[i], e)
			}
			if e := globalError(quad64[i], dense[i]); e > 1e-10 {
				t.Errorf("causal=%v %s: float64 quadratic vs float64 dense relative error %.3g > 1e-10", causal, names[i], e)
			}
		}
		inference = true // the plain forward graph with GoMLX's default gradients
		plain := grads(dtypes.Float32, pathBlock, causal)
		inference = false
		for i := range dense {
			if e := globalError(plain[i], dense[i]); e > 1e-4 {
				t.Errorf("causal=%v %s: float32 block (default gradients) vs float64 dense relative error %.3g > 1e-4", causal, names[i], e)
			}
		}
		g64 := grads(dtypes.Float64, pathBlock, causal)
		lexec := MustNewExec(backend.MustShared(), loss(dtypes.Float64, pathBlock, causal))
		inputs := [][]float64{q, k, v, logc}
		for which, in := range inputs {
			for probe := range 4 {
				idx := rng.IntN(len(in))
				const eps = 1e-5
				orig := in[idx]
				eval := func(x float64) float64 {
					in[idx] = x
					args := []any{w, q, k, v, logc, r}
					return flat(lexec.MustCall1(args...))[0]
				}
				fd := (eval(orig+eps) - eval(orig-eps)) / (2 * eps)
				in[idx] = orig
				if g := g64[which][idx]; math.Abs(g-fd) > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Errorf("causal=%v %s[%d] = %.9g, finite difference %.9g (probe %d)", causal, names[which], idx, g, fd, probe)
				}
			}
		}
	}
}

// TestStabilizerInvariance is oracle T9: with eps = 0, PRF features with and without the max
// subtraction give the same attention.
func TestStabilizerInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const b, n, h, d, dv, m = 2, 30, 2, 8, 4, 32
	q, k, v := normal(rng, b*n*h*d, 0.7), normal(rng, b*n*h*d, 0.7), normal(rng, b*n*h*dv, 1)
	logc := normal(rng, h*(2*n-1), 1)
	w := features.DrawProjection(features.Rng(2, "t9", 0), features.Gaussian, m, d, 0)
	for _, kind := range []features.Kind{features.PRF, features.TRF} {
		for _, causal := range []bool{false, true} {
			run := func(stab bool) []float64 {
				fm := features.Map{Kind: kind, M: m, Stabilize: stab}
				return exec1(func(w, q, k, v, lc *Node) *Node {
					ww := Reshape(w, m, d)
					fq, fk := fm.Queries(ww, Reshape(q, b, n, h, d)), fm.Keys(ww, Reshape(k, b, n, h, d))
					if kind == features.TRF { // signed features: the ratio without RPE
						return kernelized.Linear(fq, fk, Reshape(v, b, n, h, dv), kernelized.LinearOptions{Causal: causal})
					}
					return kernelized.RPE(fq, fk, Reshape(v, b, n, h, dv), Reshape(lc, h, 2*n-1), kernelized.RPEOptions{Causal: causal})
				}, w, q, k, v, logc)
			}
			if e := globalError(run(true), run(false)); e > 1e-6 {
				t.Errorf("%s causal=%v: stabiliser changed the output by %.3g", kind, causal, e)
			}
		}
	}
}

// TestKeyMaskAndBatchIndependence is oracle T12: masked keys add nothing, and permuting the
// batch permutes the output.
func TestKeyMaskAndBatchIndependence(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	const b, n, h, m, dv = 2, 12, 1, 5, 3
	fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
	mask := make([]bool, b*n)
	for i := range mask {
		mask[i] = rng.IntN(3) > 0
	}
	got := exec1(func(fq, fk, v, mk *Node) *Node {
		r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
		return kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{KeyMask: Reshape(mk, b, n)})
	}, fq, fk, v, mask)
	fk0 := append([]float64(nil), fk...)
	for i, ok := range mask {
		if !ok {
			for r := range m {
				fk0[i*m+r] = 0
			}
		}
	}
	want := naiveRows(fq, fk0, v, nil, b, n, h, m, dv, false)
	if e := rowErrors(got, want, dv); e > 1e-12 {
		t.Errorf("key mask: row error %.3g", e)
	}
	swap := func(x []float64, per int) []float64 { return append(append([]float64(nil), x[per:]...), x[:per]...) }
	perm := exec1(func(fq, fk, v *Node) *Node {
		r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
		fm := features.Map{Kind: features.PRF, M: m, Stabilize: true, Eps: 1e-6}
		_ = fm
		return kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{Causal: true})
	}, swap(fq, n*h*m), swap(fk, n*h*m), swap(v, n*h*dv))
	orig := exec1(func(fq, fk, v *Node) *Node {
		r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
		return kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{Causal: true})
	}, fq, fk, v)
	if e := globalError(perm, swap(orig, n*h*dv)); e != 0 {
		t.Errorf("batch permutation changed outputs by %.3g", e)
	}
}

// Gradients stay finite in float32 when a causal row sees only keys far below the stabilizer's
// maximum (one late key with a large norm makes the early denominators tiny): the regime in
// which unnormalized PRF attention with RPE produced NaN gradients in training.
func TestGradientsFiniteForTinyDenominators(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const b, n, h, d, dv, m = 1, 24, 2, 8, 4, 16
	w := features.DrawProjection(features.Rng(3, "tiny-den", 0), features.Gaussian, m, d, 0)
	w32 := make([]float32, len(w))
	for i, x := range w {
		w32[i] = float32(x)
	}
	fm := features.Map{Kind: features.PRF, M: m, Stabilize: true}
	exec := MustNewExec(backend.MustShared(), func(w, q, k, v, lc *Node) []*Node {
		fq, fk := fm.Queries(w, q), fm.Keys(w, k)
		out := kernelized.RPE(fq, fk, v, lc, kernelized.RPEOptions{Causal: true})
		return append([]*Node{out}, Gradient(ReduceAllSum(Mul(out, out)), q, k, v, lc)...)
	})
	for _, scale := range []float64{1, 3, 6, 10, 15, 20, 30, 45} {
		q := normal(rng, b*n*h*d, 1)
		k := normal(rng, b*n*h*d, 1)
		for i := (n - 1) * h * d; i < n*h*d; i++ {
			k[i] *= scale // the last key dominates every stabilizer maximum
		}
		f32 := func(x []float64, dims ...int) *tensors.Tensor {
			y := make([]float32, len(x))
			for i, v := range x {
				y[i] = float32(v)
			}
			return tensors.FromFlatDataAndDimensions(y, dims...)
		}
		res := exec.MustCall(tensors.FromFlatDataAndDimensions(w32, m, d), f32(q, b, n, h, d), f32(k, b, n, h, d),
			f32(normal(rng, b*n*h*dv, 1), b, n, h, dv), f32(normal(rng, h*(2*n-1), 2), h, 2*n-1))
		for i, r := range res {
			for _, x := range tensors.MustCopyFlatData[float32](r) {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("scale %g: output %d has %v", scale, i, x)
				}
			}
		}
	}
}
