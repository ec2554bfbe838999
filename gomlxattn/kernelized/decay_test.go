package kernelized_test

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
	"github.com/attnbench/attnbench/gomlxattn/kernelized"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

// decayCase evaluates kernelized.Decay for enc in float64 with the given variables and returns
// the output and the gradients of sum(out * wt) with respect to each named variable; shared
// passes the encoding's shared rates (DecayOptions.Rates).
func decayCase(t *testing.T, enc posenc.Encoding, fq, fk, v, wt []float64, b, n, h, m, dv, chunk int, causal, neighbours, shared bool, vars map[string][]float64, grads ...string) ([]float64, [][]float64) {
	t.Helper()
	store := model.NewStore()
	for name, x := range vars {
		store.RootScope().VariableWithValue(name, x)
	}
	exec := model.MustNewExec(backend.MustShared(), store, func(scope *model.Scope, fq, fk, v, wt *Node) []*Node {
		r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
		bias := posenc.ComputeBias(scope, fq.Graph(), enc, n, dtypes.Float64)
		lo := kernelized.DecayFar(n, chunk, neighbours)
		w, s, _, ok := bias.ExpTerms(lo)
		if !ok {
			t.Fatalf("%s has no exponential sum", enc.Name())
		}
		opt := kernelized.DecayOptions{Causal: causal, Chunk: chunk, Neighbours: neighbours}
		if shared {
			opt.Rates = bias.ExpRates(lo)
		}
		out := kernelized.Decay(r(fq, m), r(fk, m), r(v, dv), bias.Coef, w, s, opt)
		res := []*Node{out}
		loss := ReduceAllSum(Mul(out, r(wt, dv)))
		for _, name := range grads {
			res = append(res, Gradient(loss, scope.GetVariable(name).NodeValue(fq.Graph()))[0])
		}
		return res
	})
	res, err := exec.Call(fq, fk, v, wt)
	if err != nil {
		t.Fatal(err)
	}
	var gs [][]float64
	for _, g := range res[1:] {
		gs = append(gs, tensors.MustCopyFlatData[float64](g))
	}
	return flat(res[0]), gs
}

// kernel returns c [H][2n-1] = exp(b_{j-i}) of the exact formula, c at offset 0 equal to 1.
func kernel(h, n int, causal bool, f func(hh int, d float64) float64) []float64 {
	c := make([]float64, h*(2*n-1))
	for hh := range h {
		for k := -(n - 1); k < n; k++ {
			if causal && k > 0 {
				continue
			}
			c[hh*(2*n-1)+k+n-1] = f(hh, math.Abs(float64(k)))
		}
	}
	return c
}

// TestDecayMatchesNaive is kernelized attention by decayed recurrences against the float64
// O(n^2) oracle: exact for ALiBi, within the stated bound for KERPLE-log, for odd lengths and
// chunks, causal and bidirectional, with and without exact neighbouring chunks.
func TestDecayMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const b, h, m, dv = 2, 3, 5, 4
	for _, n := range []int{1, 7, 64, 100} {
		for _, chunk := range []int{0, 5, 16} {
			for _, causal := range []bool{true, false} {
				fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
				wt := normal(rng, b*n*h*dv, 1)
				alibi := posenc.ALiBi{Slopes: []float64{0.5, 0.05, 0.004}, Causal: causal}
				r1, r2 := []float64{0.3, 1.5, 4}, []float64{0.05, 0.8, 3}
				for _, c := range []struct {
					enc  posenc.Encoding
					vars map[string][]float64
					f    func(hh int, d float64) float64
					tol  float64
				}{
					{alibi, nil, func(hh int, d float64) float64 { return math.Exp(-alibi.Slopes[hh] * d) }, 1e-10},
					{posenc.KerpleLog{NumHeads: h, Causal: causal}, map[string][]float64{"kerple_log_r1": r1, "kerple_log_r2": r2},
						func(hh int, d float64) float64 { return math.Pow(1+r2[hh]*d, -r1[hh]) }, 1e-3},
				} {
					for _, nb := range []bool{false, true} {
						for _, shared := range []bool{false, true} {
							t.Run(fmt.Sprintf("%s/n=%d/chunk=%d/causal=%v/neighbours=%v/shared=%v", c.enc.Name(), n, chunk, causal, nb, shared), func(t *testing.T) {
								got, _ := decayCase(t, c.enc, fq, fk, v, wt, b, n, h, m, dv, chunk, causal, nb, shared, c.vars)
								want := naiveRows(fq, fk, v, kernel(h, n, causal, c.f), b, n, h, m, dv, causal)
								if e := rowErrors(got, want, dv); e > c.tol || math.IsNaN(e) {
									t.Errorf("relative error %.3g > %.g", e, c.tol)
								}
							})
						}
					}
				}
			}
		}
	}
}

// TestDecayGradients: the gradients of the KERPLE-log parameters through the recurrences
// against central differences of the float64 oracle with the exact kernel.
func TestDecayGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const b, n, h, m, dv, chunk = 1, 45, 2, 4, 3, 8
	for _, c := range []struct{ causal, neighbours, shared bool }{{true, false, false}, {true, true, false}, {false, false, false}, {false, true, false},
		{true, true, true}, {false, false, true}} {
		causal := c.causal
		fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
		wt := normal(rng, b*n*h*dv, 1)
		r1, r2 := []float64{0.7, 2.2}, []float64{0.3, 0.06}
		_, g := decayCase(t, posenc.KerpleLog{NumHeads: h, Causal: causal}, fq, fk, v, wt, b, n, h, m, dv, chunk, causal, c.neighbours, c.shared,
			map[string][]float64{"kerple_log_r1": r1, "kerple_log_r2": r2}, "kerple_log_r1", "kerple_log_r2")
		loss := func(r1, r2 []float64) float64 {
			out := naiveRows(fq, fk, v, kernel(h, n, causal, func(hh int, d float64) float64 { return math.Pow(1+r2[hh]*d, -r1[hh]) }), b, n, h, m, dv, causal)
			s := 0.0
			for i := range out {
				s += out[i] * wt[i]
			}
			return s
		}
		for pi, p := range [][]float64{r1, r2} {
			for hh := range h {
				const eps = 1e-5
				x := p[hh]
				p[hh] = x + eps
				up := loss(r1, r2)
				p[hh] = x - eps
				down := loss(r1, r2)
				p[hh] = x
				want := (up - down) / (2 * eps)
				if got := g[pi][hh]; math.Abs(got-want) > 0.02*math.Abs(want)+1e-6 {
					t.Errorf("%+v: d loss / d r%d[%d] = %.6g, finite differences of the oracle %.6g", c, pi+1, hh, got, want)
				}
			}
		}
	}
}

// TestDecayInputGradients: the gradients of the features and values through the chunk
// neighbours and the far recurrences (the scan's hand-written adjoint) against central
// differences of the float64 oracle, with ALiBi's exact sum.
func TestDecayInputGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	const b, n, h, m, dv, chunk = 1, 29, 2, 3, 2, 4
	slopes := []float64{0.3, 0.02}
	f := func(hh int, d float64) float64 { return math.Exp(-slopes[hh] * d) }
	for _, cs := range []struct{ causal, neighbours bool }{{true, false}, {true, true}, {false, false}, {false, true}} {
		causal := cs.causal
		fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
		wt := normal(rng, b*n*h*dv, 1)
		enc := posenc.ALiBi{Slopes: slopes, Causal: causal}
		exec := model.MustNewExec(backend.MustShared(), model.NewStore(), func(scope *model.Scope, fq, fk, v, wt *Node) []*Node {
			r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
			bias := posenc.ComputeBias(scope, fq.Graph(), enc, n, dtypes.Float64)
			w, s, _, _ := bias.ExpTerms(kernelized.DecayFar(n, chunk, cs.neighbours))
			out := kernelized.Decay(r(fq, m), r(fk, m), r(v, dv), bias.Coef, w, s, kernelized.DecayOptions{Causal: causal, Chunk: chunk, Neighbours: cs.neighbours})
			return Gradient(ReduceAllSum(Mul(out, r(wt, dv))), fq, fk, v)
		})
		res, err := exec.Call(fq, fk, v, wt)
		if err != nil {
			t.Fatal(err)
		}
		c := kernel(h, n, causal, f)
		loss := func() float64 {
			out := naiveRows(fq, fk, v, c, b, n, h, m, dv, causal)
			s := 0.0
			for i := range out {
				s += out[i] * wt[i]
			}
			return s
		}
		for xi, x := range [][]float64{fq, fk, v} {
			g := flat(res[xi])
			for range 25 {
				i := rng.IntN(len(x))
				want := naive.CentralDiff(x, i, 1e-6, loss)
				if math.Abs(g[i]-want) > 1e-6*(1+math.Abs(want)) {
					t.Errorf("%+v: gradient of input %d at %d = %.9g, finite differences %.9g", cs, xi, i, g[i], want)
				}
			}
		}
	}
}

// TestDecaySelection: kernelized_rpe with KERPLE-log takes the recurrences exactly where its
// parameters say (decay=on, or auto with decay_tol at or above the sum's bound) and the
// Toeplitz product otherwise; the output identifies the path.
func TestDecaySelection(t *testing.T) {
	const b, n, h, d, chunk = 1, 100, 2, 8, 16
	rng := rand.New(rand.NewPCG(27, 28))
	q, k, v := normal(rng, b*n*h*d, 1), normal(rng, b*n*h*d, 1), normal(rng, b*n*h*d, 1)
	for _, c := range []struct {
		given     params.Given
		wantDecay bool
	}{
		{params.Given{"decay": "auto"}, false},
		{params.Given{"decay": "auto", "decay_tol": posenc.KerpleLogBound / 2}, false},
		{params.Given{"decay": "auto", "decay_tol": posenc.KerpleLogBound}, true},
		{params.Given{"decay": "on"}, true},
		{params.Given{"decay": "off", "decay_tol": 1}, false},
	} {
		c.given["chunk"] = chunk // several chunks, so that the recurrences differ from the product
		mech, err := attention.New("kernelized_rpe", c.given)
		if err != nil {
			t.Fatal(err)
		}
		r := mech.(*kernelized.RandomFeatures)
		enc := posenc.KerpleLog{NumHeads: h, Causal: true}
		exec := model.MustNewExec(backend.MustShared(), model.NewStore(), func(scope *model.Scope, q, k, v *Node) []*Node {
			q, k, v = Reshape(q, b, n, h, d), Reshape(k, b, n, h, d), Reshape(v, b, n, h, d)
			bias := posenc.ComputeBias(scope, q.Graph(), enc, n, dtypes.Float64)
			out, _ := r.Attend(scope, q, k, v, attention.Options{Causal: true, Bias: bias})
			fq, fk := r.Features(scope, q, k, 0)
			lo := kernelized.DecayFar(n, chunk, true)
			w, s, _, _ := bias.ExpTerms(lo)
			dec := kernelized.Decay(fq, fk, v, bias.Coef, w, s, kernelized.DecayOptions{Causal: true, Chunk: chunk, Neighbours: true, Rates: bias.ExpRates(lo)})
			fft := kernelized.RPE(fq, fk, v, bias.Coef, kernelized.RPEOptions{Causal: true, Inference: true})
			return []*Node{out, dec, fft}
		})
		res, err := exec.Call(q, k, v)
		if err != nil {
			t.Fatal(err)
		}
		out, dec, fft := flat(res[0]), flat(res[1]), flat(res[2])
		eDec, eFFT := rowErrors(out, dec, d), rowErrors(out, fft, d)
		if took := eDec < 1e-10; took != c.wantDecay || min(eDec, eFFT) > 1e-10 || rowErrors(dec, fft, d) < 1e-9 {
			t.Errorf("%v: output against the recurrences %.3g, against the Toeplitz product %.3g; want the recurrences: %v", c.given, eDec, eFFT, c.wantDecay)
		}
	}
}

// TestDecaySharedRates: terms with shared host rates (DecayOptions.Rates) read through the
// low-rank basis, against the float64 O(n^2) oracle of the same sum of exponentials, with
// random positive weights per head over rates spanning five decades; the gradients of the
// features and values against central differences of that oracle.
func TestDecaySharedRates(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	const b, h, m, dv = 1, 2, 3, 2
	rates := make([]float64, 24)
	for i := range rates {
		rates[i] = 1e-4 * math.Pow(10, 5*float64(i)/float64(len(rates)-1))
	}
	for _, cs := range []struct {
		n, chunk           int
		causal, neighbours bool
	}{{1, 0, true, false}, {23, 4, true, false}, {23, 4, true, true}, {41, 6, false, false}, {41, 6, false, true}, {70, 16, true, true}} {
		n := cs.n
		wts := uniform(rng, h*len(rates), 0, 1)
		sum := func(hh int, d float64) float64 {
			c := 0.0
			for r, s := range rates {
				c += wts[hh*len(rates)+r] * math.Exp(-s*d)
			}
			return c
		}
		// b_d = log of the sum, with b_0 = 0: the exact coefficients near the diagonal agree
		// with the sum, so the oracle is one Toeplitz matrix.
		ck := kernel(h, n, cs.causal, func(hh int, d float64) float64 {
			if d == 0 {
				return 1
			}
			return sum(hh, d)
		})
		logc := make([]float64, len(ck))
		for i, c := range ck {
			logc[i] = math.Log(max(c, 1e-300))
		}
		fq, fk, v := uniform(rng, b*n*h*m, 0.1, 1), uniform(rng, b*n*h*m, 0.1, 1), normal(rng, b*n*h*dv, 1)
		wt := normal(rng, b*n*h*dv, 1)
		sv := make([]float64, 0, h*len(rates))
		for range h {
			sv = append(sv, rates...)
		}
		exec := model.MustNewExec(backend.MustShared(), model.NewStore(), func(scope *model.Scope, fq, fk, v, wt *Node) []*Node {
			g := fq.Graph()
			r := func(x *Node, d int) *Node { return Reshape(x, b, n, h, d) }
			w, s := Reshape(Const(g, wts), h, len(rates)), Reshape(Const(g, sv), h, len(rates))
			bc := Reshape(Const(g, logc), h, 2*n-1)
			out := kernelized.Decay(r(fq, m), r(fk, m), r(v, dv), bc, w, s,
				kernelized.DecayOptions{Causal: cs.causal, Chunk: cs.chunk, Neighbours: cs.neighbours, Rates: rates})
			return append([]*Node{out}, Gradient(ReduceAllSum(Mul(out, r(wt, dv))), fq, fk, v)...)
		})
		res, err := exec.Call(fq, fk, v, wt)
		if err != nil {
			t.Fatal(err)
		}
		oracle := func() []float64 { return naiveRows(fq, fk, v, ck, b, n, h, m, dv, cs.causal) }
		if e := rowErrors(flat(res[0]), oracle(), dv); e > 1e-6 || math.IsNaN(e) {
			t.Errorf("%+v: relative error %.3g > 1e-6", cs, e)
		}
		loss := func() float64 {
			s := 0.0
			for i, o := range oracle() {
				s += o * wt[i]
			}
			return s
		}
		for xi, x := range [][]float64{fq, fk, v} {
			g := flat(res[1+xi])
			for range 20 {
				i := rng.IntN(len(x))
				want := naive.CentralDiff(x, i, 1e-6, loss)
				if math.Abs(g[i]-want) > 1e-6*(1+math.Abs(want)) {
					t.Errorf("%+v: gradient of input %d at %d = %.9g, finite differences %.9g", cs, xi, i, g[i], want)
				}
			}
		}
	}
}
