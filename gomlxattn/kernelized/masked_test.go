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
	"github.com/attnbench/attnbench/gomlxattn/kernelized"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

// Query rows that see no key output exactly 0 with zero gradients on every Toeplitz path (the
// FFT paths used to return their rounding noise divided by it), the other rows match the
// float64 formula, and with a window the rows whose band holds only masked keys are 0 too. A
// future coefficient 200 above the visible maximum (exp overflows float32) gives no NaN.
func TestRPERowsWithoutKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const h, m, dv, masked = 2, 4, 3, 100
	for _, n := range []int{128, 201} {
		for _, window := range []int{0, 7} {
			fq, fk := uniform(rng, n*h*m, 0.05, 1), uniform(rng, n*h*m, 0.05, 1)
			v := normal(rng, n*h*dv, 1)
			logc := normal(rng, h*(2*n-1), 1)
			for t := range h * (2*n - 1) {
				if k := t%(2*n-1) - (n - 1); k > 0 {
					logc[t] = 200 // future offsets, far above the visible maximum
				} else if window > 0 && -k >= window {
					logc[t] = math.Inf(-1)
				}
			}
			// Valid keys: from masked on, except a gap of 30 that no window-7 band can bridge.
			mask := make([]bool, n)
			for j := masked; j < n; j++ {
				mask[j] = j < masked+10 || j >= masked+40
			}
			for j := range mask {
				if !mask[j] {
					for r := range h * m {
						fk[j*h*m+r] = fk[j*h*m+r] * 1e3 // masked keys must not count, however large
					}
				}
			}
			sees := func(i int) bool {
				for j := range i + 1 {
					if mask[j] && (window == 0 || i-j < window) {
						return true
					}
				}
				return false
			}
			// float64 oracle over the valid keys.
			c := make([]float64, len(logc))
			for i, x := range logc {
				c[i] = math.Exp(x)
			}
			fkm := append([]float64(nil), fk...)
			for j := range n {
				if !mask[j] {
					for r := range h * m {
						fkm[j*h*m+r] = 0
					}
				}
			}
			want := naiveRows(fq, fkm, v, c, 1, n, h, m, dv, true)
			for _, path := range []rpePath{pathDense, pathBlock, pathQuadratic, pathAuto} {
				name := fmt.Sprintf("n=%d/window=%d/%s", n, window, path)
				outs := MustNewExec(backend.MustShared(), func(fq, fk, v, lc, km *Node) []*Node {
					r := func(x *Node, d int) *Node { return ConvertDType(Reshape(x, 1, n, h, d), dtypes.Float32) }
					q, k, vv, l := r(fq, m), r(fk, m), r(v, dv), ConvertDType(Reshape(lc, h, 2*n-1), dtypes.Float32)
					o := kernelized.RPE(q, k, vv, l, path.with(kernelized.RPEOptions{Causal: true, KeyMask: Reshape(km, 1, n),
						Window: window}))
					g := Gradient(ReduceAllSum(Mul(o, o)), q, k, vv)
					return append([]*Node{o}, g...)
				}).MustCall(fq, fk, v, logc, mask)
				got := tensors.MustCopyFlatData[float32](outs[0])
				for i := range n {
					for e := range h * dv {
						x, w := float64(got[i*h*dv+e]), want[i*h*dv+e]
						if !sees(i) {
							if x != 0 {
								t.Fatalf("%s: row %d sees no key but outputs %g", name, i, x)
							}
							continue
						}
						if math.Abs(x-w) > 1e-3*math.Max(1, math.Abs(w)) {
							t.Fatalf("%s: row %d: %g, want %g", name, i, x, w)
						}
					}
				}
				for gi, gt := range outs[1:] {
					for _, x := range tensors.MustCopyFlatData[float32](gt) {
						if math.IsNaN(float64(x)) || math.Abs(float64(x)) > 100 {
							t.Fatalf("%s: gradient %d has %g", name, gi, x)
						}
					}
				}
			}
		}
	}
}

// kernelized_rpe without normalisation on large-norm queries and keys, where every PRF feature
// underflows: the default eps keeps outputs and value gradients non-zero (no dead layer).
func TestPlainRPELargeNormIsNotDead(t *testing.T) {
	const n, h, d = 32, 2, 16
	mech, err := attention.New("kernelized_rpe", params.Given{"m": 16, "normalize": 0})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	q, k, v := normal(rng, n*h*d, 30), normal(rng, n*h*d, 30), normal(rng, n*h*d, 1)
	coef := normal(rng, h*(2*n-1), 1)
	outs := model.MustNewExec(backend.MustShared(), model.NewStore(), func(s *model.Scope, q, k, v, c *Node) []*Node {
		r := func(x *Node) *Node { return ConvertDType(Reshape(x, 1, n, h, d), dtypes.Float32) }
		vv := r(v)
		o, _ := mech.Attend(s, r(q), r(k), vv, attention.Options{Causal: true,
			Bias: &posenc.Bias{N: n, Coef: ConvertDType(Reshape(c, h, 2*n-1), dtypes.Float32)}})
		return []*Node{o, Gradient(ReduceAllSum(o), vv)[0]}
	}).MustCall(q, k, v, coef)
	for i, name := range []string{"output", "value gradient"} {
		nonzero := 0
		for _, x := range tensors.MustCopyFlatData[float32](outs[i]) {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("%s has %v", name, x)
			}
			if x != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%s is all zero: a dead layer", name)
		}
	}
}
