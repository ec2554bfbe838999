package transformer

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/internal/backend"
)

// TestGeluFloat32: gelu's value and gradient in float32 against float64 math.Erf,
// x Phi(x) and Phi(x) + x phi(x), over random inputs of every scale, the clamp at |x/sqrt 2| = 4
// and the float32 extremes (finite, never NaN).
func TestGeluFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	xs := []float32{0, 1e-30, -1e-30, 4 * math.Sqrt2, -4 * math.Sqrt2, 5.6, -5.7, 30, -30, 1e4, -1e4,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}
	for range 5000 {
		xs = append(xs, float32(rng.NormFloat64()*math.Pow(10, 2*rng.Float64()-1)))
	}
	exec := MustNewExec(backend.MustShared(), func(x *Node) []*Node {
		y := gelu(x)
		return []*Node{y, Gradient(ReduceAllSum(y), x)[0]}
	})
	res := exec.MustCall(tensors.FromValue(xs))
	ys, ds := tensors.MustCopyFlatData[float32](res[0]), tensors.MustCopyFlatData[float32](res[1])
	for i, x32 := range xs {
		x := float64(x32)
		phi := 0.5 * (1 + math.Erf(x/math.Sqrt2))
		want := x * phi
		dwant := phi + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
		y, d := float64(ys[i]), float64(ds[i])
		if math.IsNaN(y) || math.IsInf(y, 0) || math.IsNaN(d) || math.IsInf(d, 0) {
			t.Fatalf("gelu(%g) = %g, gradient %g: not finite", x, y, d)
		}
		if math.Abs(y-want) > 4e-7*math.Max(1, math.Abs(x)) {
			t.Fatalf("gelu(%g) = %.9g, want %.9g", x, y, want)
		}
		if math.Abs(d-dwant) > 1e-6 {
			t.Fatalf("gelu'(%g) = %.9g, want %.9g", x, d, dwant)
		}
	}
}
