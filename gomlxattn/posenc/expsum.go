package posenc

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ExpSum is implemented by Toeplitz encodings whose coefficients, relative to offset 0, are a
// sum of decaying exponentials of the distance d >= 1:
//
//	exp(b(d) - b(0)) = sum_r w_{h,r} exp(-s_{h,r} d),   w, s >= 0,
//
// exactly (ALiBi's geometric exp(-m_h d)) or within a stated bound (the completely monotone
// KERPLE-log kernel). Kernelized attention then needs no FFT: each term is a decayed
// linear-attention recurrence, O(n) in the length (kernelized.Decay).
type ExpSum interface {
	Toeplitz
	// ExpTerms returns w and s, [H, R], of a sum that holds at the distances lo..hi (1 <= lo
	// <= hi); gradients flow to the encoding's parameters.
	ExpTerms(scope *model.Scope, g *Graph, lo, hi int, dtype dtypes.DType) (w, s *Node)
	// ExpBound is the relative error of the sum over its distances, for every parameter value
	// in the encoding's range: 0 when exact.
	ExpBound() float64
	// ExpCount is R of ExpTerms for the distances lo..hi.
	ExpCount(lo, hi int) int
}

// SharedRates is implemented by ExpSum encodings whose last terms have rates that are the same
// for every head and fixed on the host (KERPLE-log's grid); kernelized.Decay then reads those
// terms through a low-rank basis.
type SharedRates interface {
	// ExpRates returns the rates of the last terms of ExpTerms(lo, hi).
	ExpRates(lo, hi int) []float64
}

// ExpTerms of ALiBi: one term per head, w = 1, s = m_h. Exact.
func (a ALiBi) ExpTerms(_ *model.Scope, g *Graph, _, _ int, dtype dtypes.DType) (w, s *Node) {
	h := len(a.Slopes)
	s = ConvertDType(Reshape(Const(g, a.Slopes), h, 1), dtype)
	return OnesLike(s), s
}

func (ALiBi) ExpBound() float64 { return 0 }

func (ALiBi) ExpCount(_, _ int) int { return 1 }

// KerpleLogStep is the spacing h in log-rate of KerpleLog's exponential sum.
const KerpleLogStep = 0.4

// ExpTerms of KERPLE-log: (1 + r2 d)^(-r1) is completely monotone, the Laplace transform
//
//	(1 + r2 d)^(-r1) = 1/Gamma(r1) int exp(r1 u - e^u) exp(-r2 e^u d) du,
//
// discretised by the trapezoid rule in u (exponentially convergent for this integrand) on the
// fixed rates s_r = e^{v_r}, v_r = min(log(1/(16 hi)), log 1e-4) + r h up to rate 40/lo
// (faster terms are below e^-40 at d >= lo), with u_r = v_r - log r2: 42 terms for d in
// [1, 8192], 28 for [129, 8192]. The rates below the grid are one more term, of their mass
// and mean rate (an incomplete gamma function). With h = KerpleLogStep, for d in [lo, hi],
// r1 in [0.01, 8] and r2 in [0.01, 10], the relative error is below 1e-3 where the
// coefficient is above 1e-6 (below it the absolute error is under 1e-9), and the gradients'
// below 2% (TestKerpleLogExpSum).
func (e KerpleLog) ExpTerms(scope *model.Scope, g *Graph, lo, hi int, dtype dtypes.DType) (w, s *Node) {
	r1 := column(projectedParam(scope, g, "kerple_log_r1", e.NumHeads, 2, kerpleEps, 1e9, dtype)) // [H, 1]
	r2 := column(projectedParam(scope, g, "kerple_log_r2", e.NumHeads, 1, kerpleEps, 1e9, dtype))
	v := kerpleLogGrid(lo, hi)
	vr := row(ConvertDType(Const(g, v), dtype)) // [1, R]
	u := Sub(vr, Log(r2))                       // [H, R]
	lg := lgamma(r1)
	h := KerpleLogStep
	w = Exp(AddScalar(Sub(Sub(Mul(r1, u), Exp(u)), lg), math.Log(h)))
	s = BroadcastToShape(ConvertDType(Exp(vr), dtype), w.Shape())
	// Below the grid (rates under s_0 e^{-h/2}, x = e^u < X): int_0^X x^{r1-1} e^{-x} e^{-r2 x d} dx,
	// with r2 x d <= 1/16 there, is one term of weight P(r1, X) (regularised incomplete gamma)
	// and rate r2 times its mean x, r2 (r1 - X^{r1} e^{-X} / gamma(r1, X)).
	x := Div(Scalar(g, dtype, math.Exp(v[0]-h/2)), r2) // [H, 1]
	p, lead := lowerGammaP(r1, x, lg)
	wLow := p
	sLow := Mul(r2, Sub(r1, Div(lead, Max(p, Scalar(g, dtype, 1e-30)))))
	return Concatenate([]*Node{wLow, w}, 1), Concatenate([]*Node{Max(sLow, ZerosLike(sLow)), s}, 1)
}

// lowerGammaP returns P(a, x) = gamma(a, x) / Gamma(a) by its series
// x^a e^{-x} / Gamma(a+1) sum_k x^k / ((a+1)...(a+k)), for 0 < x <= 7 (48 terms reach 1e-12),
// and x^a e^{-x} / Gamma(a); lg is log Gamma(a).
func lowerGammaP(a, x, lg *Node) (p, lead *Node) {
	logLead := Sub(Sub(Mul(a, Log(x)), x), lg) // log(x^a e^{-x} / Gamma(a))
	lead = Exp(logLead)
	term := OnesLike(x)
	sum := OnesLike(x)
	for k := 1; k <= 48; k++ {
		term = Mul(term, Div(x, AddScalar(a, float64(k))))
		sum = Add(sum, term)
	}
	return Div(Mul(lead, sum), a), lead // Gamma(a+1) = a Gamma(a)
}

// KerpleLogBound is the relative error bound of KerpleLog.ExpTerms.
const KerpleLogBound = 1e-3

func (KerpleLog) ExpBound() float64 { return KerpleLogBound }

// ExpCount is the grid's rates and the term below them.
func (KerpleLog) ExpCount(lo, hi int) int { return len(kerpleLogGrid(lo, hi)) + 1 }

// ExpRates returns the grid's rates e^{v_r}: every term of ExpTerms but the first.
func (KerpleLog) ExpRates(lo, hi int) []float64 {
	v := kerpleLogGrid(lo, hi)
	for i := range v {
		v[i] = math.Exp(v[i])
	}
	return v
}

// kerpleLogGrid returns the log-rates v_r of KerpleLog.ExpTerms for the distances lo..hi.
func kerpleLogGrid(lo, hi int) []float64 {
	lo, hi = max(lo, 1), max(hi, lo, 1)
	first, last := math.Log(min(1/(16*float64(hi)), 1e-4)), math.Log(40/float64(lo))
	var v []float64
	for x := first; x <= last+1e-9; x += KerpleLogStep {
		v = append(v, x)
	}
	return v
}

// lgamma is log Gamma(x) for x > 0: Stirling's series at x + 8, shifted back by the recurrence
// Gamma(x + 1) = x Gamma(x) (absolute error below 1e-10 in float64).
func lgamma(x *Node) *Node {
	z := AddScalar(x, 8)
	shift := Log(x)
	for i := 1; i < 8; i++ {
		shift = Add(shift, Log(AddScalar(x, float64(i))))
	}
	inv := Inverse(z)
	inv2 := Mul(inv, inv)
	series := Mul(inv, AddScalar(Mul(inv2, AddScalar(MulScalar(inv2, 1.0/1260), -1.0/360)), 1.0/12))
	st := Add(Sub(Mul(AddScalar(z, -0.5), Log(z)), z), AddScalar(series, 0.5*math.Log(2*math.Pi)))
	return Sub(st, shift)
}
