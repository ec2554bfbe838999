package features

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// DotKernel is a dot-product kernel f(t) = sum_N a_N t^N with a_N >= 0 (Schoenberg).
type DotKernel int

const (
	DotExp     DotKernel = iota // e^t
	DotInverse                  // 1/(1-t)
	DotLogi                     // 1 - log(1-t)
	DotTrigh                    // cosh t + sinh t (= e^t)
	DotSqrt                     // 2 - sqrt(1-t)
)

// DotNames are the names of the dot-product kernels, indexed by DotKernel.
var DotNames = []string{"exp", "inverse", "logi", "trigh", "sqrt"}

func (k DotKernel) String() string { return DotNames[k] }

// Coefficients returns a_0..a_maxDeg, a_N = f^(N)(0)/N!.
func (k DotKernel) Coefficients(maxDeg int) []float64 {
	a := make([]float64, maxDeg+1)
	switch k {
	case DotExp, DotTrigh:
		a[0] = 1
		for n := 1; n <= maxDeg; n++ {
			a[n] = a[n-1] / float64(n)
		}
	case DotInverse:
		for n := range a {
			a[n] = 1
		}
	case DotLogi:
		a[0] = 1
		for n := 1; n <= maxDeg; n++ {
			a[n] = 1 / float64(n)
		}
	case DotSqrt:
		// sqrt(1-t) = sum binom(1/2, N) (-t)^N, so a_0 = 1, a_N = -binom(1/2, N) (-1)^N.
		a[0] = 1
		b := 1.0
		for n := 1; n <= maxDeg; n++ {
			b *= (0.5 - float64(n-1)) / float64(n)
			a[n] = -b * math.Pow(-1, float64(n))
		}
	}
	return a
}

// Eval returns sum_{N <= maxDeg} a_N t^N, the kernel the features estimate without bias.
func (k DotKernel) Eval(t float64, maxDeg int) float64 {
	s, p := 0.0, 1.0
	for _, a := range k.Coefficients(maxDeg) {
		s += a * p
		p *= t
	}
	return s
}

// DegreeProbs returns p(N) = 2^-(N+1)/Z on N = 1..maxDeg (index N; p[0] = 0).
func DegreeProbs(maxDeg int) []float64 {
	p := make([]float64, maxDeg+1)
	z := 0.0
	for n := 1; n <= maxDeg; n++ {
		p[n] = math.Pow(2, -float64(n+1))
		z += p[n]
	}
	for n := range p {
		p[n] /= z
	}
	return p
}

// DrawDegree samples N ~ p(N).
func DrawDegree(rng *rand.Rand, probs []float64) int {
	u := rng.Float64()
	for n := 1; n < len(probs); n++ {
		u -= probs[n]
		if u < 0 {
			return n
		}
	}
	return len(probs) - 1
}

// DrawMaclaurin returns the Maclaurin projection [L, D-1, d+1] flattened, L = maxDeg, for
// D features: feature r >= 1 has a degree N_r ~ p(N), sorted ascending as the reference, and
// phi_r(x) = prod_{l < L} (w_{l,r} . [x, 1]) with Rademacher w_{l,r} for l < N_r, the
// constant e_{d+1} for l >= N_r, and the scale sqrt(a_N / p(N)) / sqrt(D-1) folded into l = 0.
// Feature 0 is the constant sqrt(a_0), added by the graph code.
func DrawMaclaurin(rng *rand.Rand, k DotKernel, nFeatures, d, maxDeg int) ([]float64, error) {
	if nFeatures < 2 {
		return nil, fmt.Errorf("features: Maclaurin features = %d is invalid, want >= 2", nFeatures)
	}
	probs := DegreeProbs(maxDeg)
	coef := k.Coefficients(maxDeg)
	r := nFeatures - 1
	deg := make([]int, r)
	for i := range deg {
		deg[i] = DrawDegree(rng, probs)
	}
	slices.Sort(deg)
	w := make([]float64, maxDeg*r*(d+1))
	at := func(l, f, i int) *float64 { return &w[(l*r+f)*(d+1)+i] }
	for f, n := range deg {
		scale := math.Sqrt(coef[n]/probs[n]) / math.Sqrt(float64(r))
		for l := range maxDeg {
			if l >= n {
				*at(l, f, d) = 1
				continue
			}
			s := 1.0
			if l == 0 {
				s = scale
			}
			for i := range d {
				if rng.IntN(2) == 0 {
					*at(l, f, i) = s
				} else {
					*at(l, f, i) = -s
				}
			}
		}
	}
	return w, nil
}
