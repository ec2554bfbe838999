package transformer

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
)

// gelu is the exact GELU x Phi(x), Phi(x) = (1 + erf(x/sqrt 2))/2 (Hendrycks and Gimpel 2016),
// with d/dx = Phi(x) + x exp(-x^2/2)/sqrt(2 pi). In float32 erf is the rational form below,
// elementwise ops that the Go backend runs in a few fast passes (its Erf and fused GELU take
// float64 math.Erf per element, several times slower); other dtypes use activation.Gelu.
func gelu(x *Node) *Node {
	if x.DType() != dtypes.Float32 {
		return activation.Gelu(x)
	}
	var xs, phi *Node
	return vjp.WithGradient([]*Node{x}, func(in ...*Node) *Node {
		xs = in[0]
		phi = MulScalar(AddScalar(erf32(MulScalar(xs, 1/math.Sqrt2)), 1), 0.5)
		return Mul(xs, phi)
	}, func(v *Node) []*Node {
		// exp(-x^2/2) underflows to 0 for large |x|, never Inf: no Inf * 0.
		density := MulScalar(Exp(MulScalar(Square(xs), -0.5)), 1/math.Sqrt(2*math.Pi))
		return []*Node{Mul(v, Add(phi, Mul(xs, density)))}
	})
}

// erf32 is erf(x) = x P(x^2) / Q(x^2) on x clamped to [-4, 4], the float32 rational
// approximation of Eigen and XLA (absolute error below 2e-7; |erf(4)| = 1 - 1.5e-8).
func erf32(x *Node) *Node {
	x = ClipScalar(x, -4, 4)
	x2 := Square(x)
	horner := func(cs ...float64) *Node {
		p := AddScalar(MulScalar(x2, cs[0]), cs[1])
		for _, c := range cs[2:] {
			p = AddScalar(Mul(x2, p), c)
		}
		return p
	}
	p := horner(-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
		-5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
	q := horner(-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
		-7.37332916720468e-03, -1.42647390514189e-02)
	return Div(Mul(x, p), q)
}
