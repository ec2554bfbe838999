package kernelized

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

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
}

// RPE is kernelized attention with relative positional encoding (Luo et al. 2021, Eq. 10-13):
//
//	z_i = phi(q_i) sum_j c_{j-i} phi(k_j)^T v_j / phi(q_i) sum_j c_{j-i} phi(k_j)^T,  c = exp(b),
//
// for fq, fk [B, n, H, m], v [B, n, H, dv] and b [H, 2n-1] (b[h, k+n-1] for offset k = j-i).
// Both sums are Toeplitz products along the sequence (toeplitz.Apply). c is computed as
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
	out := ratio(o, 0)
	if opt.KeyMask != nil {
		seen := BroadcastToShape(Reshape(rowsWithKeys(opt.KeyMask, opt.Causal, opt.Window), bb, n, 1, 1), out.Shape())
		out = Where(seen, out, ZerosLike(out))
	}
	return out
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
