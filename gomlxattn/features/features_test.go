package features_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/features"
	"github.com/attnbench/attnbench/internal/backend"
)

func randVec(rng *rand.Rand, d int, norm float64) []float64 {
	x := make([]float64, d)
	s := 0.0
	for i := range x {
		x[i] = rng.NormFloat64()
		s += x[i] * x[i]
	}
	for i := range x {
		x[i] *= norm / math.Sqrt(s)
	}
	return x
}

// featurePair evaluates phi(x) and phi(y) with projection w in float64.
func featurePair(t *testing.T, m features.Map, w []float64, wshape []int, x, y []float64) (fx, fy []float64) {
	t.Helper()
	d := len(x)
	res := MustNewExec(backend.MustShared(), func(wn, xn, yn *Node) []*Node {
		wn = Reshape(wn, wshape...)
		return []*Node{m.Queries(wn, Reshape(xn, 1, d)), m.Keys(wn, Reshape(yn, 1, d))}
	}).MustCall(w, x, y)
	return tensors.MustCopyFlatData[float64](res[0]), tensors.MustCopyFlatData[float64](res[1])
}

// TestUnbiased is oracle T7: the mean of phi(x).phi(y) over many features lies within 4
// standard errors of the kernel (exp(x.y) for PRF and TRF, the truncated Maclaurin series).
// Sphere-PRF is unbiased only as d grows, so it is not tested here.
func TestUnbiased(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const d, m = 8, 40000
	for _, tc := range []struct {
		name string
		m    features.Map
	}{
		{"prf-gaussian", features.Map{Kind: features.PRF, Projection: features.Gaussian, M: m}},
		{"trf-gaussian", features.Map{Kind: features.TRF, Projection: features.Gaussian, M: m}},
		{"maclaurin-exp", features.Map{Kind: features.Maclaurin, M: m, Dot: features.DotExp, MaxDegree: 20}},
		{"maclaurin-inverse", features.Map{Kind: features.Maclaurin, M: m, Dot: features.DotInverse, MaxDegree: 20}},
		{"maclaurin-sqrt", features.Map{Kind: features.Maclaurin, M: m, Dot: features.DotSqrt, MaxDegree: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			norm := 0.8
			if tc.m.Kind == features.Maclaurin {
				norm = 0.6 // inside the radius of convergence of 1/(1-t)
			}
			x, y := randVec(rng, d, norm), randVec(rng, d, norm)
			dot := 0.0
			for i := range x {
				dot += x[i] * y[i]
			}
			want := math.Exp(dot)
			var w []float64
			var shape []int
			r := features.Rng(7, tc.name, 0)
			if tc.m.Kind == features.Maclaurin {
				var err error
				w, err = features.DrawMaclaurin(r, tc.m.Dot, m, d, 20)
				if err != nil {
					t.Fatal(err)
				}
				shape = []int{20, m - 1, d + 1}
				want = tc.m.Dot.Eval(dot, 20)
			} else {
				w, shape = features.DrawProjection(r, tc.m.Projection, m, d, 0), []int{m, d}
			}
			fx, fy := featurePair(t, tc.m, w, shape, x, y)
			// terms t_r = D phi_r(x) phi_r(y): their mean is the estimate.
			terms := make([]float64, 0, len(fx))
			for i := range fx {
				terms = append(terms, float64(len(fx))*fx[i]*fy[i])
			}
			if tc.m.Kind == features.Maclaurin { // the constant feature is exact: a_0
				terms = terms[1:]
				for i := range terms {
					terms[i] = terms[i] * float64(m-1) / float64(m)
				}
				want -= tc.m.Dot.Coefficients(0)[0]
			}
			mean, sq := 0.0, 0.0
			for _, v := range terms {
				mean += v
			}
			mean /= float64(len(terms))
			for _, v := range terms {
				sq += (v - mean) * (v - mean)
			}
			se := math.Sqrt(sq/float64(len(terms)-1)) / math.Sqrt(float64(len(terms)))
			if math.Abs(mean-want) > 4*se {
				t.Errorf("estimate %.6f, kernel %.6f: off by %.2f standard errors (se %.3g)", mean, want, math.Abs(mean-want)/se, se)
			}
		})
	}
}

func TestOrthogonalProjection(t *testing.T) {
	const d, m = 16, 40
	for scaling := range 2 {
		w := features.DrawProjection(features.Rng(3, "orf", 0), features.Orthogonal, m, d, scaling)
		row := func(r int) []float64 { return w[r*d : (r+1)*d] }
		dot := func(a, b []float64) float64 {
			s := 0.0
			for i := range a {
				s += a[i] * b[i]
			}
			return s
		}
		for r := range m {
			nr := math.Sqrt(dot(row(r), row(r)))
			if scaling == 1 && math.Abs(nr-4) > 1e-9 {
				t.Errorf("scaling 1: row %d norm %.6f, want sqrt(d) = 4", r, nr)
			}
			for s := range r {
				if r/d == s/d { // rows of one block are orthogonal
					if c := dot(row(r), row(s)) / nr / math.Sqrt(dot(row(s), row(s))); math.Abs(c) > 1e-9 {
						t.Errorf("scaling %d: rows %d and %d have cosine %.3g, want 0", scaling, s, r, c)
					}
				}
			}
		}
	}
}

// TestMaclaurinDistribution covers oracle T11 (b) and (c).
func TestMaclaurinDistribution(t *testing.T) {
	exp, trigh := features.DotExp.Coefficients(20), features.DotTrigh.Coefficients(20)
	fact := 1.0
	for n := range exp {
		if n > 0 {
			fact *= float64(n)
		}
		if exp[n] != trigh[n] || math.Abs(exp[n]-1/fact) > 1e-15/fact {
			t.Errorf("a_%d: exp %.6g trigh %.6g, want 1/%d! = %.6g", n, exp[n], trigh[n], n, 1/fact)
		}
	}
	sq := features.DotSqrt.Coefficients(4) // 2 - sqrt(1-t) = 1 + t/2 + t^2/8 + t^3/16 + 5t^4/128
	for i, want := range []float64{1, 0.5, 0.125, 0.0625, 5.0 / 128} {
		if math.Abs(sq[i]-want) > 1e-15 {
			t.Errorf("sqrt a_%d = %v, want %v", i, sq[i], want)
		}
	}
	probs := features.DegreeProbs(20)
	rng := rand.New(rand.NewPCG(5, 5))
	const draws = 100000
	hist := make([]float64, 21)
	for range draws {
		hist[features.DrawDegree(rng, probs)]++
	}
	for n := 1; n <= 20; n++ {
		if math.Abs(hist[n]/draws-probs[n]) > 0.01 {
			t.Errorf("degree %d: frequency %.4f, want %.4f +- 0.01", n, hist[n]/draws, probs[n])
		}
	}
}

// TestRedraw checks that projections are variables drawn from (seed, scope, draw), that
// Redraw moves every projection to the next draw, and that a store restores the same draw.
func TestRedraw(t *testing.T) {
	m := features.Map{Kind: features.PRF, Projection: features.Orthogonal, M: 12, Seed: 9}
	s1, s2 := model.NewStore(), model.NewStore()
	w1 := weights(t, m, s1)
	w2 := weights(t, m, s2)
	if !equal(w1, w2) {
		t.Fatal("same seed and scope gave different projections")
	}
	n, err := features.Redraw(s1)
	if err != nil || n != 1 {
		t.Fatalf("Redraw = %d, %v; want 1 projection redrawn", n, err)
	}
	w1b := weights(t, m, s1)
	if equal(w1, w1b) {
		t.Fatal("Redraw left the projection unchanged")
	}
	if _, err := features.Redraw(s2); err != nil {
		t.Fatal(err)
	}
	if !equal(w1b, weights(t, m, s2)) {
		t.Fatal("the same redraw of two stores differs")
	}
	want := features.DrawProjection(features.Rng(9, "/layer_0", 1), features.Orthogonal, 12, 4, 0)
	for i := range want {
		if math.Abs(want[i]-w1b[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("redrawn projection[%d] = %v, want draw 1 = %v", i, w1b[i], want[i])
		}
	}
}

func weights(t *testing.T, m features.Map, store *model.Store) []float64 {
	t.Helper()
	exec := model.MustNewExec1(backend.MustShared(), store, func(scope *model.Scope, g *Graph) *Node {
		return ConvertDType(m.Weights(scope.In("layer_0"), g, 4, dtypes.Float32), dtypes.Float64)
	})
	return tensors.MustCopyFlatData[float64](exec.MustCall())
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestReLUFeatures checks Performer-ReLU features relu(W x/sqrt(m)) + 1e-3 against plain Go.
func TestReLUFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const d, m = 6, 10
	fm := features.Map{Kind: features.ReLU, M: m}
	w := features.DrawProjection(rng, features.Gaussian, m, d, 0)
	x := randVec(rng, d, 2)
	fx, _ := featurePair(t, fm, w, []int{m, d}, x, x)
	for r := range m {
		dot := 0.0
		for i := range d {
			dot += w[r*d+i] * x[i]
		}
		want := math.Max(dot/math.Sqrt(m), 0) + 1e-3
		if math.Abs(fx[r]-want) > 1e-12 {
			t.Errorf("feature %d = %v, want %v", r, fx[r], want)
		}
	}
}
