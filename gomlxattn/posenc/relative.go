package posenc

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// Toeplitz is a relative encoding that depends on the offset k = j - i alone.
type Toeplitz interface {
	Encoding
	// Coefficients returns b with shape [H, 2n-1], b[h, k+n-1] = b_h(k) for k in [-(n-1), n-1],
	// in O(n) memory.
	Coefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node
}

// WeightedToeplitz also scales the logits: logit'_ij = logit_ij * w_{j-i} + b_{j-i}
// (KERPLE bias+wht, Chi et al. 2022 section 5.3).
type WeightedToeplitz interface {
	Toeplitz
	// WeightCoefficients returns w [H, 2n-1], indexed as Coefficients.
	WeightCoefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node
}

// Matrix is a relative encoding that also depends on the query position (FIRE), so it has no
// Toeplitz coefficients.
type Matrix interface {
	Encoding
	// BiasMatrix returns the [H, n, n] bias for queries i and keys j at positions 0..n-1.
	BiasMatrix(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node
}

// Offsets returns the offsets k = j - i for index t = k + n - 1 as float constants [2n-1].
func Offsets(g *Graph, n int, dtype dtypes.DType) *Node {
	return AddScalar(Iota(g, shapes.Make(dtype, 2*n-1), 0), -float64(n-1))
}

// Distances returns the distance used by causal and bidirectional kernels for each offset
// index [2n-1]: max(-k, 0) (the reference's tril(i-j)) when causal, |k| otherwise.
func Distances(g *Graph, n int, causal bool, dtype dtypes.DType) *Node {
	k := Offsets(g, n, dtype)
	if causal {
		return Max(Neg(k), ZerosLike(k))
	}
	return Abs(k)
}

// Bias is the relative encoding of one forward pass, computed once and shared by the layers
// that use it. Softmax attention reads Matrix; kernelized attention reads Coef.
type Bias struct {
	Encoding Encoding
	N        int
	Coef     *Node // [H, 2n-1] Toeplitz coefficients; nil for Matrix encodings
	Weight   *Node // [H, 2n-1] multiplicative coefficients; nil when absent
	matrix   *Node
	wmatrix  *Node
	expSum   func(lo int) (w, s *Node)
	expBound float64
	expRates func(lo int) []float64
	expTerms map[int][2]*Node
}

// ComputeBias evaluates a Relative-family encoding for sequence length n in scope.
// It returns nil for encodings of other families.
func ComputeBias(scope *model.Scope, g *Graph, enc Encoding, n int, dtype dtypes.DType) *Bias {
	b := &Bias{Encoding: enc, N: n}
	switch e := enc.(type) {
	case WeightedToeplitz:
		b.Coef = e.Coefficients(scope, g, n, dtype)
		b.Weight = e.WeightCoefficients(scope, g, n, dtype)
	case Toeplitz:
		b.Coef = e.Coefficients(scope, g, n, dtype)
		if es, ok := enc.(ExpSum); ok {
			b.expSum = func(lo int) (w, s *Node) { return es.ExpTerms(scope, g, lo, max(n-1, lo), dtype) }
			b.expBound = es.ExpBound()
			if sr, ok := enc.(SharedRates); ok {
				b.expRates = func(lo int) []float64 { return sr.ExpRates(lo, max(n-1, lo)) }
			}
		}
	case Matrix:
		b.matrix = e.BiasMatrix(scope, g, n, dtype)
	default:
		return nil
	}
	return b
}

// ExpTerms returns the encoding's exponential sum exp(b(d) - b(0)) = sum_r w_r exp(-s_r d)
// for the distances lo..N-1, w and s [H, R] (built on the first call for lo), its relative
// error bound (0 when exact), and ok = false when the encoding has none (ExpSum).
func (b *Bias) ExpTerms(lo int) (w, s *Node, bound float64, ok bool) {
	if b.expSum == nil {
		return nil, nil, 0, false
	}
	lo = max(lo, 1)
	t, found := b.expTerms[lo]
	if !found {
		if b.expTerms == nil {
			b.expTerms = map[int][2]*Node{}
		}
		t[0], t[1] = b.expSum(lo)
		b.expTerms[lo] = t
	}
	return t[0], t[1], b.expBound, true
}

// ExpRates returns the host values of the last terms' rates of ExpTerms(lo), shared by every
// head, or nil (posenc.SharedRates).
func (b *Bias) ExpRates(lo int) []float64 {
	if b.expRates == nil {
		return nil
	}
	return b.expRates(max(lo, 1))
}

// HasExpTerms reports whether the encoding has an exponential sum, and its relative error bound.
func (b *Bias) HasExpTerms() (has bool, bound float64) {
	if b == nil {
		return false, 0
	}
	return b.expSum != nil, b.expBound
}

// IsToeplitz reports whether the bias has coefficients b_k (a kernelized FFT path can use it).
func (b *Bias) IsToeplitz() bool { return b.Coef != nil }

// Matrix returns the [H, n, n] additive bias.
func (b *Bias) Matrix() *Node {
	if b.matrix == nil {
		b.matrix = toeplitz.Expand(b.Coef, b.N)
	}
	return b.matrix
}

// WeightMatrix returns the [H, n, n] multiplicative weight, or nil.
func (b *Bias) WeightMatrix() *Node {
	if b.Weight == nil {
		return nil
	}
	if b.wmatrix == nil {
		b.wmatrix = toeplitz.Expand(b.Weight, b.N)
	}
	return b.wmatrix
}
