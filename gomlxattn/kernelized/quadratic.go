package kernelized

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// quadraticSums returns o [B, n, H, dv+1], o_i = sum_j c_{j-i} (phi(q_i).phi(k_j)) [v_j, 1], for
// c [H, 2n-1]: the two sums of RPE formed from the n x n weights W = S * T(c), S = phi(Q) phi(K)^T,
// instead of the Toeplitz product of the m (dv+1) outer products: n^2 (m+dv+1) multiply-adds
// against the product's m (dv+1) columns. Causal attention (c_k = 0 for k > 0 already) runs by
// nb blocks of T = n/nb query rows that see only the keys up to their last row, with the
// coefficients of a block row the concatenation of T(c)'s [T, T] tiles, one per block diagonal.
// The backward is written by hand:
//
//	dW = dO V1^T,  dS = dW * T(c),  dphi(Q) = dS phi(K),  dphi(K) = dS^T phi(Q),  dV1 = W^T dO,
//	dc_k = sum over the batch and the pairs with j-i = k of dW * S,
//
// laid out so that no [n, n] tensor is transposed, and with the [T, hi] weights as the right
// operand of the narrow products ([v, 1]^T W^T, phi(K)^T dS^T), whose outputs come transposed.
func quadraticSums(fq, fk, v1, c *Node, nb int) *Node {
	g := fq.Graph()
	n := fq.Shape().Dim(1)
	t := n / nb
	heads := func(x *Node) *Node { return TransposeAllAxes(x, 0, 2, 1, 3) } // [B, n, H, D] <-> [B, H, n, D]
	rows := func(x *Node, lo, hi int) *Node {
		if lo == 0 && hi == x.Shape().Dim(2) {
			return x
		}
		return SliceAxis(x, 2, AxisRange(lo, hi))
	}
	cols := func(x *Node) *Node { return TransposeAllAxes(x, 0, 2, 3, 1) } // [B, n, H, D] -> [B, H, D, n]
	back := func(x *Node) *Node { return TransposeAllAxes(x, 0, 3, 1, 2) } // [B, H, D, n] -> [B, n, H, D]
	keys := func(x *Node, hi int) *Node {                                  // [B, H, D, 0:hi]
		if hi == x.Shape().Dim(3) {
			return x
		}
		return SliceAxis(x, 3, AxisRange(0, hi))
	}
	ss, ws, cs := make([]*Node, nb), make([]*Node, nb), make([]*Node, nb)
	var qt, kt, vt *Node
	return vjp.WithGradient([]*Node{fq, fk, v1, c}, func(in ...*Node) *Node {
		qt, kt, vt = heads(in[0]), heads(in[1]), heads(in[2])
		vc := cols(in[2])
		tiles := toeplitz.Tiles(in[3], nb) // tile d: keys d blocks before the queries, [H, T, T]
		outs := make([]*Node, nb)
		for bi := range nb {
			lo, hi := bi*t, (bi+1)*t
			row := make([]*Node, bi+1)
			for u := range row {
				row[u] = tiles[bi-u]
			}
			cs[bi] = ExpandAxes(concatAxis(row, 2), 0)                                                           // [1, H, T, hi]
			ss[bi] = DotGeneral(rows(qt, lo, hi), []int{3}, []int{0, 1}, rows(kt, 0, hi), []int{3}, []int{0, 1}) // [B, H, T, hi]
			ws[bi] = Mul(ss[bi], cs[bi])
			// [v, 1]^T W^T: the Go backend packs a large left operand at a cost that a narrow
			// right one does not amortise (W [v, 1] takes 1.6x longer at T = 512, n = 4096).
			outs[bi] = DotGeneral(keys(vc, hi), []int{3}, []int{0, 1}, ws[bi], []int{3}, []int{0, 1}) // [B, H, dv+1, T]
		}
		return back(concatAxis(outs, 3))
	}, func(do *Node) []*Node {
		dot := heads(do)
		kc := cols(fk)
		swap := func(x *Node) *Node { return TransposeAllAxes(x, 0, 1, 3, 2) } // [B, H, T, D] -> [B, H, D, T]
		toKeys := func(x *Node, hi int) *Node {
			if hi == n {
				return x
			}
			dims := x.Shape().Clone().Dimensions
			dims[len(dims)-1] = n - hi
			return Concatenate([]*Node{x, Zeros(g, shapes.Make(x.DType(), dims...))}, -1)
		}
		var dk, dv, dc *Node
		dqs := make([]*Node, nb)
		for bi := range nb {
			lo, hi := bi*t, (bi+1)*t
			dob := rows(dot, lo, hi)
			dw := DotGeneral(dob, []int{3}, []int{0, 1}, rows(vt, 0, hi), []int{3}, []int{0, 1}) // [B, H, T, hi]
			ds := Mul(dw, cs[bi])
			dqs[bi] = DotGeneral(keys(kc, hi), []int{3}, []int{0, 1}, ds, []int{3}, []int{0, 1})                    // [B, H, m, T]
			dkb := toKeys(DotGeneral(swap(rows(qt, lo, hi)), []int{3}, []int{0, 1}, ds, []int{2}, []int{0, 1}), hi) // [B, H, m, n]
			dvb := toKeys(DotGeneral(swap(dob), []int{3}, []int{0, 1}, ws[bi], []int{2}, []int{0, 1}), hi)          // [B, H, dv+1, n]
			// Pairs of this block row: j - i = t - (T-1) - lo for diagonal t, c index t + n - hi.
			dcb := toeplitz.DiagonalSums(sumBatch(Mul(dw, ss[bi]))) // [H, T+hi-1]
			dcb = Pad(dcb, ScalarZero(g, dcb.DType()), PadAxis{}, PadAxis{Start: n - hi, End: n - t})
			if dk == nil {
				dk, dv, dc = dkb, dvb, dcb
			} else {
				dk, dv, dc = Add(dk, dkb), Add(dv, dvb), Add(dc, dcb)
			}
		}
		return []*Node{back(concatAxis(dqs, 3)), back(dk), back(dv), dc}
	})
}

// sumBatch is x [B, ...] summed over axis 0.
func sumBatch(x *Node) *Node {
	if x.Shape().Dim(0) == 1 {
		return Reshape(x, x.Shape().Dimensions[1:]...)
	}
	return ReduceSum(x, 0)
}

func concatAxis(xs []*Node, axis int) *Node {
	if len(xs) == 1 {
		return xs[0]
	}
	return Concatenate(xs, axis)
}
