package kernelized

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// RPEOptions configure RPE.
type RPEOptions struct {
	Causal  bool
	KeyMask *Node
	// Toeplitz selects the algorithm of the Toeplitz products (toeplitz.Auto by default).
	Toeplitz toeplitz.Options
	// FeatureChunk > 0 processes the m features in groups of this size, bounding the Toeplitz
	// operand to [H, n, B*FeatureChunk*(dv+1)]; 0 processes all at once.
	FeatureChunk int
	// Window > 0 is the band of windowed evaluation (the coefficients outside it are already
	// -inf); it is needed here only to find the query rows that see no key.
	Window int
	// Inference builds the plain forward graph: no hand-written backward and none of its extra
	// passes over the data. Gradients then come from GoMLX's default rules (correct, slower).
	Inference bool
	// Evaluation chooses between the Toeplitz products and the n x n weights (EvalAuto by cost).
	Evaluation Evaluation
}

// Evaluation is how RPE forms its two sums.
type Evaluation int

const (
	// EvalAuto is EvalQuadratic where it costs less than the Toeplitz products (QuadraticCost
	// against toeplitz.Cost) and, when training, the weights it keeps for the backward take no
	// more memory than the Toeplitz operands or fit QuadraticMaxElements; else EvalToeplitz.
	EvalAuto Evaluation = iota
	// EvalToeplitz is the Toeplitz product of the m (dv+1) outer products phi(k_j) [v_j, 1],
	// O(n log n) with FFTs (Luo et al. 2021).
	EvalToeplitz
	// EvalQuadratic forms W = (phi(Q) phi(K)^T) * T(c) by blocks of query rows: O(n^2 (m+dv)).
	EvalQuadratic
)

// EvaluationNames are the names of the evaluations, indexed by Evaluation.
var EvaluationNames = []string{"auto", "toeplitz", "quadratic"}

// QuadraticMaxElements is the number of weights (2 per query-key pair, batch and head) that
// EvalAuto always lets the quadratic evaluation keep: 1 GiB in float32.
const QuadraticMaxElements = 1 << 28

// quadraticPairs is the number of (query, key) weights formed per batch and head: n (n+T)/2
// for causal attention in query blocks of T rows, else n^2.
func quadraticPairs(n int, causal bool) float64 {
	if !causal {
		return float64(n) * float64(n)
	}
	t := n / attention.QueryBlocks(n)
	return float64(n) * float64(n+t) / 2
}

// QuadraticCost estimates the quadratic evaluation's work per head in the multiply-adds of
// toeplitz.Cost: per query-key pair and batch, m for phi(q).phi(k) and dv+1 for the product
// with [v, 1], weighted by the Go backend's measured rates (the first product has a short
// contraction), and the elementwise passes.
func QuadraticCost(batch, n, m, dv int, causal bool) float64 {
	return float64(batch) * quadraticPairs(n, causal) * (quadA*float64(m+dv+1) + quadB)
}

// useQuadratic resolves opt.Evaluation for features fq [B, n, H, m] and values v [B, n, H, dv].
func useQuadratic(opt RPEOptions, fq, v *Node) bool {
	switch opt.Evaluation {
	case EvalToeplitz:
		return false
	case EvalQuadratic:
		return true
	}
	b, n, h, m, dv := fq.Shape().Dim(0), fq.Shape().Dim(1), fq.Shape().Dim(2), fq.Shape().Dim(3), v.Shape().Dim(3)
	weights := 2 * float64(b*h) * quadraticPairs(n, opt.Causal)
	operands := 4 * float64(b*h*n*m*(dv+1))
	if !opt.Inference && weights > max(operands, QuadraticMaxElements) {
		return false
	}
	return QuadraticCost(b, n, m, dv, opt.Causal) < toeplitz.Cost(fq.Graph(), opt.Toeplitz.Method, n, b*m*(dv+1))
}

// RPE is kernelized attention with relative positional encoding (Luo et al. 2021, Eq. 10-13):
//
//	z_i = phi(q_i) sum_j c_{j-i} phi(k_j)^T v_j / phi(q_i) sum_j c_{j-i} phi(k_j)^T,  c = exp(b),
//
// for fq, fk [B, n, H, m], v [B, n, H, dv] and b [H, 2n-1] (b[h, k+n-1] for offset k = j-i).
// Both sums are Toeplitz products along the sequence (toeplitz.Apply), or, where it costs less
// (opt.Evaluation), the same sums from the n x n weights (phi(q_i).phi(k_j)) c_{j-i}. c is computed as
// exp(b - max b) over the visible offsets of each head; the common factor cancels in the ratio,
// so exp never overflows. Causal attention zeroes c_k for k > 0, selecting before the exp so
// that no future coefficient can overflow. A query row that sees no key (all its keys masked)
// outputs exactly 0, as exact attention does: its denominator would be the Toeplitz product's
// rounding noise, about 1e-7 of the largest coefficient, not 0.
func RPE(fq, fk, v, b *Node, opt RPEOptions) *Node {
	checkFeatures(fq, fk, v)
	bb, n, h, m := fq.Shape().Dim(0), fq.Shape().Dim(1), fq.Shape().Dim(2), fq.Shape().Dim(3)
	if b.Rank() != 2 || b.Shape().Dim(0) != h || b.Shape().Dim(1) != 2*n-1 {
		panicf("kernelized.RPE: coefficients have shape %s, want [%d, %d]", b.Shape(), h, 2*n-1)
	}
	b = ConvertDType(b, fq.DType())
	visible := b
	if opt.Causal {
		visible = Slice(b, AxisRange(), AxisRange(0, n)) // offsets k <= 0
		past := make([]bool, 2*n-1)
		for t := range n {
			past[t] = true
		}
		low := BroadcastToShape(Scalar(b.Graph(), b.DType(), -1e30), b.Shape())
		b = Where(BroadcastToShape(Reshape(Const(b.Graph(), past), 1, 2*n-1), b.Shape()), b, low)
	}
	c := Exp(Sub(b, StopGradient(ReduceAndKeep(visible, ReduceMax, 1))))
	fk = maskKeys(fk, opt.KeyMask)
	v1 := withOnes(v)
	if useQuadratic(opt, fq, v) {
		nb := 1
		if opt.Causal {
			nb = attention.QueryBlocks(n)
		}
		return rowsSeen(ratio(quadraticSums(fq, fk, v1, c, nb), 0), opt)
	}
	dv1 := v1.Shape().Dim(3)
	top := opt.Toeplitz
	top.Causal = opt.Causal
	group := opt.FeatureChunk
	if group <= 0 || group > m {
		group = m
	}
	var o *Node
	for start := 0; start < m; start += group {
		mg := min(group, m-start)
		fqg, fkg := fq, fk
		if mg < m {
			fqg = Slice(fq, AxisRange(), AxisRange(), AxisRange(), AxisRange(start, start+mg))
			fkg = Slice(fk, AxisRange(), AxisRange(), AxisRange(), AxisRange(start, start+mg))
		}
		// A[h, j, b, r, :] = phi(k_j)_r [v_j, 1]: the outer products as one matmul with no
		// contracted axis, laid out with the sequence in the middle for the Toeplitz product.
		var og *Node
		if opt.Inference {
			top.AutodiffBackward = true
			a := DotGeneral(fkg, nil, []int{2, 1, 0}, v1, nil, []int{2, 1, 0}) // [H, n, B, mg, dv+1]
			d := Reshape(toeplitz.Apply(c, Reshape(a, h, n, bb*mg*dv1), top), h, n, bb, mg, dv1)
			og = DotGeneral(fqg, []int{3}, []int{2, 1, 0}, d, []int{3}, []int{0, 1, 2}) // [H, n, B, dv+1]
		} else {
			a := outerFeatures(fkg, v1) // [H, n, B, mg, dv+1]
			d := toeplitz.Apply(c, Reshape(a, h, n, bb*mg*dv1), top)
			og = contractFeatures(fqg, Reshape(d, h, n, bb, mg, dv1))
		}
		if o == nil {
			o = og
		} else {
			o = Add(o, og)
		}
	}
	o = TransposeAllAxes(o, 2, 1, 0, 3) // [B, n, H, dv+1]
	return rowsSeen(ratio(o, 0), opt)
}

// rowsSeen zeroes the outputs [B, n, H, dv] of the query rows that see no valid key.
func rowsSeen(out *Node, opt RPEOptions) *Node {
	if opt.KeyMask == nil {
		return out
	}
	b, n := out.Shape().Dim(0), out.Shape().Dim(1)
	seen := BroadcastToShape(Reshape(rowsWithKeys(opt.KeyMask, opt.Causal, opt.Window), b, n, 1, 1), out.Shape())
	return Where(seen, out, ZerosLike(out))
}

// rowsWithKeys [B, n] is true for the queries that see at least one valid key: j <= i when
// causal, |i - j| < window when window > 0. Counts are prefix sums of the key mask.
func rowsWithKeys(mask *Node, causal bool, window int) *Node {
	b, n := mask.Shape().Dim(0), mask.Shape().Dim(1)
	g := mask.Graph()
	ones := ConvertDType(mask, dtypes.Int32)
	cum := Concatenate([]*Node{Zeros(g, shapes.Make(dtypes.Int32, b, 1)), CumSum(ones, 1)}, 1) // [B, n+1], cum[t] = #valid keys < t
	at := func(idx []int) *Node {                                                              // cum at clamped indices [n]
		ix := make([]int32, n)
		for i, t := range idx {
			ix[i] = int32(min(max(t, 0), n))
		}
		return Gather(Transpose(cum, 0, 1), Reshape(Const(g, ix), n, 1)) // [n, B]
	}
	hi, lo := make([]int, n), make([]int, n)
	for i := range n {
		hi[i], lo[i] = n, 0
		if causal {
			hi[i] = i + 1
		}
		if window > 0 {
			lo[i] = i - window + 1
			if !causal {
				hi[i] = i + window
			}
		}
	}
	count := Sub(at(hi), at(lo)) // [n, B]
	return Transpose(GreaterThan(count, ZerosLike(count)), 0, 1)
}

// Weights of QuadraticCost, fitted to the Go backend's times (2 cores, AVX-512) of m = 16 and
// 64 at n = 4096 and 8192, in units of the block-spectral multiply-add: 0.5 per multiply-add,
// and 115 per pair for the output-bound phi(q).phi(k) product and the elementwise passes.
const quadA, quadB = 0.5, 115
