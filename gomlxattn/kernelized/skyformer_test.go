package kernelized_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/kernelized"
	"github.com/attnbench/attnbench/internal/backend"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

// nsReference is the reference's iterative inverse in float64 plain Go for one l x l matrix.
func nsReference(m []float64, l, iters int) []float64 {
	mul := func(a, b []float64) []float64 {
		c := make([]float64, l*l)
		for i := range l {
			for k := range l {
				for j := range l {
					c[i*l+j] += a[i*l+k] * b[k*l+j]
				}
			}
		}
		return c
	}
	sub := func(s float64, a []float64) []float64 { // s I - a
		c := make([]float64, l*l)
		for i := range c {
			c[i] = -a[i]
			if i/l == i%l {
				c[i] += s
			}
		}
		return c
	}
	colMax := 0.0
	for j := range l {
		s := 0.0
		for i := range l {
			s += m[i*l+j]
		}
		colMax = math.Max(colMax, s)
	}
	v := make([]float64, l*l)
	for i := range l {
		for j := range l {
			v[i*l+j] = m[j*l+i] / colMax
		}
	}
	for range iters {
		kv := mul(m, v)
		in := sub(13, mul(kv, sub(15, mul(kv, sub(7, kv)))))
		v = mul(v, in)
		for i := range v {
			v[i] *= 0.25
		}
	}
	return v
}

// clustered returns a normalised Gaussian landmark kernel D^-1/2 (M + gamma I) D^-1/2 whose
// landmarks form two tight clusters (condition number of order 1e3), and a well-separated one.
func landmarkKernel(rng *rand.Rand, l, p int, spread float64) []float64 {
	pts := make([]float64, l*p)
	centers := [][]float64{normal(rng, p, 1), normal(rng, p, 1)}
	for i := range l {
		for j := range p {
			pts[i*p+j] = centers[i%2][j] + spread*rng.NormFloat64()
		}
	}
	m := make([]float64, l*l)
	for i := range l {
		for j := range l {
			d := 0.0
			for k := range p {
				x := pts[i*p+k] - pts[j*p+k]
				d += x * x
			}
			m[i*l+j] = math.Exp(-d / 2)
			if i == j {
				m[i*l+j] += 0.1
			}
		}
	}
	dinv := make([]float64, l)
	for i := range l {
		s := 0.0
		for j := range l {
			s += m[i*l+j]
		}
		dinv[i] = 1 / math.Sqrt(s)
	}
	for i := range l {
		for j := range l {
			m[i*l+j] *= dinv[i] * dinv[j]
		}
	}
	return m
}

func residual(m, v []float64, l int) float64 { // spectral-norm bound: Frobenius of I - m v
	s := 0.0
	for i := range l {
		for j := range l {
			x := 0.0
			for k := range l {
				x += m[i*l+k] * v[k*l+j]
			}
			if i == j {
				x -= 1
			}
			s += x * x
		}
	}
	return math.Sqrt(s)
}

// TestNewtonSchulz is oracle T10 (c) and the convergent option: the graph iteration equals the
// reference recurrence; with clustered landmarks 6 iterations stay far from the inverse while
// the convergent setting reaches it.
func TestNewtonSchulz(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const l, p = 16, 4
	for _, spread := range []float64{2, 0.01} {
		m := landmarkKernel(rng, l, p, spread)
		for _, iters := range []int{6, 40} {
			got := exec1(func(x *Node) *Node { return kernelized.NewtonSchulz(Reshape(x, 1, 1, l, l), iters) }, m)
			want := nsReference(m, l, iters)
			if e := globalError(got, want); e > 1e-10 {
				t.Errorf("spread %v, %d iterations: differs from the reference recurrence by %.3g", spread, iters, e)
			}
			r := residual(m, got, l)
			switch {
			case spread == 2 && r > 1e-8:
				t.Errorf("well-separated landmarks, %d iterations: residual %.3g, want ~0", iters, r)
			case spread < 1 && iters == 6 && r < 0.5:
				t.Errorf("clustered landmarks, 6 iterations: residual %.3g, want the reference's non-convergence (> 0.5)", r)
			case spread < 1 && iters == 40 && r > 1e-6:
				t.Errorf("clustered landmarks, 40 iterations: residual %.3g, want < 1e-6", r)
			}
		}
	}
}

// TestSkyformerAllLandmarks is oracle T10 (a)-(b): with every row of [Q; K] as a landmark,
// gamma = 0 and the convergent inverse, Skyformer equals C V with the Gaussian kernel
// C = exp(-|q - k|^2/2) = D_Q^{-1/2} exp(Q K^T) D_K^{-1/2}.
func TestSkyformerAllLandmarks(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	const n, p, dv = 5, 4, 3
	q, k, v := normal(rng, n*p, 1.5), normal(rng, n*p, 1.5), normal(rng, n*dv, 1)
	want := make([]float64, n*dv)
	for i := range n {
		for j := range n {
			d := 0.0
			for c := range p {
				x := q[i*p+c] - k[j*p+c]
				d += x * x
			}
			for e := range dv {
				want[i*dv+e] += math.Exp(-d/2) * v[j*dv+e]
			}
		}
	}
	sky := &kernelized.Skyformer{Gamma: 0, Pinv: 1, Iters: 100}
	got := exec1(func(q, k, v *Node) *Node {
		qq, kk := Reshape(q, 1, n, 1, p), Reshape(k, 1, n, 1, p)
		land := Concatenate([]*Node{qq, kk}, 1)
		o, _ := sky.Apply(qq, kk, Reshape(v, 1, n, 1, dv), land, attention.Options{})
		return o
	}, q, k, v)
	if e := globalError(got, want); e > 1e-6 {
		t.Errorf("relative error %.3g > 1e-6", e)
	}
}

// TestSchoenbAt covers oracle T11 (a), (d) and (e).
func TestSchoenbAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	const b, n, h, d = 2, 9, 2, 32
	x := normal(rng, b*n*h*d, 3)
	for i := range x {
		x[i] += 2
	}
	y := exec1(func(x *Node) *Node { return kernelized.PreSBN(Reshape(x, b, n, h, d)) }, x)
	for r := 0; r < len(y); r += d {
		mean, nn := 0.0, 0.0
		for _, v := range y[r : r+d] {
			mean += v / d
			nn += v * v
		}
		if math.Abs(mean) > 1e-6 || math.Abs(math.Sqrt(nn)-1) > 1e-5 {
			t.Fatalf("PreSBN row %d: mean %.3g, norm %.6f; want 0 and 1", r/d, mean, math.Sqrt(nn))
		}
	}

	// (d): causal attention with the clamp equals tril(phi(Q) phi(K)^T) V / max(row sum, 1).
	const m, dv = 7, 3
	fq, fk, v := normal(rng, b*n*h*m, 1), normal(rng, b*n*h*m, 1), normal(rng, b*n*h*dv, 1)
	got := exec1(func(fq, fk, v *Node) *Node {
		r := func(x *Node, dd int) *Node { return Reshape(x, b, n, h, dd) }
		return kernelized.Linear(r(fq, m), r(fk, m), r(v, dv), kernelized.LinearOptions{Causal: true, DenFloor: 1, Chunk: 4})
	}, fq, fk, v)
	for bb := range b {
		for hh := range h {
			for i := range n {
				den := 0.0
				num := make([]float64, dv)
				for j := 0; j <= i; j++ {
					w := 0.0
					for r := range m {
						w += fq[((bb*n+i)*h+hh)*m+r] * fk[((bb*n+j)*h+hh)*m+r]
					}
					den += w
					for e := range dv {
						num[e] += w * v[((bb*n+j)*h+hh)*dv+e]
					}
				}
				for e := range dv {
					want := num[e] / math.Max(den, 1)
					if g := got[((bb*n+i)*h+hh)*dv+e]; math.Abs(g-want) > 1e-12*math.Max(1, math.Abs(want)) {
						t.Fatalf("rfa (%d,%d,%d,%d) = %.15g, want %.15g", bb, i, hh, e, g, want)
					}
				}
			}
		}
	}
}

// TestMaclaurinKernelError is oracle T11 (e): after PreSBN and d^{-1/4}, the relative Frobenius
// error of the exp kernel matrix estimated with D random Maclaurin features is <= 0.05 at D = 64
// and <= 0.02 at D = 256 (10 draws).
func TestMaclaurinKernelError(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	const n, d = 40, 32
	q, k := normal(rng, n*d, 1), normal(rng, n*d, 1)
	for _, tc := range []struct {
		dim int
		tol float64
	}{{64, 0.05}, {256, 0.02}} {
		mean := 0.0
		for s := range 10 {
			sch, err := attention.New("schoenbat", params.Given{"features": float64(tc.dim), "seed": float64(s)})
			if err != nil {
				t.Fatal(err)
			}
			fm := sch.(*kernelized.SchoenbAt).Map
			w, err := fm.DrawWeights(uint64(s), d)
			if err != nil {
				t.Fatal(err)
			}
			res := MustNewExec(backend.MustShared(), func(w, q, k *Node) []*Node {
				w = Reshape(w, fm.MaxDegree, tc.dim-1, d+1)
				xq := MulScalar(kernelized.PreSBN(Reshape(q, n, d)), math.Pow(d, -0.25))
				xk := MulScalar(kernelized.PreSBN(Reshape(k, n, d)), math.Pow(d, -0.25))
				est := DotGeneral(fm.Queries(w, xq), []int{1}, nil, fm.Keys(w, xk), []int{1}, nil)
				exact := Exp(DotGeneral(xq, []int{1}, nil, xk, []int{1}, nil))
				return []*Node{ConvertDType(est, dtypes.Float64), ConvertDType(exact, dtypes.Float64)}
			}).MustCall(w, q, k)
			mean += globalError(flat(res[0]), flat(res[1])) / 10
		}
		if mean > tc.tol {
			t.Errorf("D=%d: kernel relative error %.4f > %.2f", tc.dim, mean, tc.tol)
		}
	}
}

// TestSkyformerLandmarksConverge is oracle T10 (d): on low-rank queries and keys the error of
// the Nystrom approximation against the exact Gaussian-kernel attention falls as landmarks grow.
func TestSkyformerLandmarksConverge(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	const n, p, r, dv = 96, 8, 2, 4
	lowRank := func() []float64 {
		u, a := normal(rng, n*r, 1), normal(rng, r*p, 0.7)
		x := make([]float64, n*p)
		for i := range n {
			for j := range p {
				for k := range r {
					x[i*p+j] += u[i*r+k] * a[k*p+j]
				}
			}
		}
		return x
	}
	q, k, v := lowRank(), lowRank(), normal(rng, n*dv, 1)
	exact := make([]float64, n*dv)
	for i := range n {
		for j := range n {
			d := 0.0
			for c := range p {
				x := q[i*p+c] - k[j*p+c]
				d += x * x
			}
			for e := range dv {
				exact[i*dv+e] += math.Exp(-d/2) * v[j*dv+e]
			}
		}
	}
	sky := &kernelized.Skyformer{Gamma: 1e-3, Pinv: 1, Iters: 60}
	var errs []float64
	for _, l := range []int{4, 16, 64} {
		idx := make([]float64, 0, l) // evenly spaced rows: half queries, half keys
		for i := range l / 2 {
			idx = append(idx, float64(i*n/(l/2)))
		}
		got := exec1(func(q, k, v *Node) *Node {
			qq, kk := Reshape(q, 1, n, 1, p), Reshape(k, 1, n, 1, p)
			var rows []*Node
			for _, i := range idx {
				rows = append(rows, Slice(qq, AxisRange(), AxisRange(int(i), int(i)+1)), Slice(kk, AxisRange(), AxisRange(int(i), int(i)+1)))
			}
			o, _ := sky.Apply(qq, kk, Reshape(v, 1, n, 1, dv), Concatenate(rows, 1), attention.Options{})
			return o
		}, q, k, v)
		errs = append(errs, globalError(got, exact))
	}
	t.Logf("relative error at 4, 16, 64 landmarks: %.3g", errs)
	if !(errs[1] < errs[0] && errs[2] < errs[1] && errs[2] < 0.1) {
		t.Errorf("errors %v do not fall with the number of landmarks to below 0.1", errs)
	}
}
