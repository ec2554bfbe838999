package attention

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// direct reports whether exact can use directExact: no probabilities, dropout, key mask, window
// or weighted logits, and as many queries as keys.
func direct(opt Options, sq, sk int) bool {
	switch {
	case opt.WantProbs, opt.KeyMask != nil, opt.Window > 0, opt.DropoutRate > 0 && opt.Scope != nil, sq != sk:
		return false
	case opt.Bias != nil && opt.Bias.WeightMatrix() != nil:
		return false
	}
	return true
}

// directExact is softmax attention with the causal mask folded into the additive bias
// (masked logits set to the lowest float, so their probabilities are exactly 0; the diagonal
// keeps every row visible), the backend's softmax, and the hand-written backward
//
//	dv = P^T dO,  dP = dO V^T,  dS = P (dP - rowsum(P dP)),  dq = scale dS K,  dk = scale dS^T Q,
//	dbias = sum over the batch of dS,
//
// with every product laid out for the Go backend's matmul: no [S, S] tensor is transposed, and
// the [T, S] probabilities are the right operand of the narrow products (V^T P^T, K^T dS^T).
// Causal attention runs by blocks of query rows that see only the keys up to their last row
// (QueryBlocks), so about half the [S, S] work is skipped; a Toeplitz bias is then built as
// the blocks' distinct [T, T] tiles, one per block diagonal, and each block row is their
// concatenation.
func directExact(q, k, v *Node, scale float64, opt Options) *Node {
	g := q.Graph()
	s := q.Shape().Dim(1)
	dt := q.DType()
	toep := opt.Bias == nil || opt.Bias.Coef != nil
	nb := 1
	if opt.Causal && toep {
		nb = QueryBlocks(s)
	}
	t := s / nb
	tiles := biasTiles(g, opt, s, nb, dt)                                   // tile d: keys d blocks before the queries, [H|1, T, T]
	heads := func(x *Node) *Node { return TransposeAllAxes(x, 0, 2, 1, 3) } // [B, S, H, D] <-> [B, H, S, D]
	rows := func(x *Node, lo, hi int) *Node {
		if lo == 0 && hi == x.Shape().Dim(2) {
			return x
		}
		return SliceAxis(x, 2, AxisRange(lo, hi))
	}
	cols := func(x *Node) *Node { return TransposeAllAxes(x, 0, 2, 3, 1) } // [B, S, H, D] -> [B, H, D, S]
	back := func(x *Node) *Node { return TransposeAllAxes(x, 0, 3, 1, 2) } // [B, H, D, S] -> [B, S, H, D]
	keys := func(x *Node, hi int) *Node {                                  // [B, H, D, 0:hi]
		if hi == x.Shape().Dim(3) {
			return x
		}
		return SliceAxis(x, 3, AxisRange(0, hi))
	}
	ps := make([]*Node, nb)
	var qt, kt, vt *Node
	return vjp.WithGradient(append([]*Node{q, k, v}, tiles...), func(in ...*Node) *Node {
		qt, kt, vt = heads(in[0]), heads(in[1]), heads(in[2])
		vc := cols(in[2])
		tin := in[3:]
		outs := make([]*Node, nb)
		for bi := range nb {
			lo, hi := bi*t, (bi+1)*t
			logits := MulScalar(DotGeneral(rows(qt, lo, hi), []int{3}, []int{0, 1}, rows(kt, 0, hi), []int{3}, []int{0, 1}), scale) // [B, H, T, hi]
			if len(tin) > 0 {
				row := make([]*Node, bi+1)
				for u := range row {
					row[u] = tin[bi-u]
				}
				logits = Add(logits, ExpandAxes(concat(row, 2), 0))
			}
			ps[bi] = Softmax(logits, -1)
			// V^T P^T: the Go backend packs a large left operand at a cost that a narrow right one
			// does not amortise.
			outs[bi] = DotGeneral(keys(vc, hi), []int{3}, []int{0, 1}, ps[bi], []int{3}, []int{0, 1}) // [B, H, Dv, T]
		}
		return back(concat(outs, 3)) // [B, S, H, Dv]
	}, func(do *Node) []*Node {
		dot := heads(do) // [B, H, S, Dv]
		kc := cols(k)
		swap := func(x *Node) *Node { return TransposeAllAxes(x, 0, 1, 3, 2) } // [B, H, S, D] <-> [B, H, D, S]
		toKeys := func(x *Node, hi int) *Node {                                // zeros after [.., hi) keys on the last axis, to all S
			if hi == s {
				return x
			}
			dims := x.Shape().Clone().Dimensions
			dims[len(dims)-1] = s - hi
			return Concatenate([]*Node{x, Zeros(g, shapes.Make(x.DType(), dims...))}, -1) // a block copy; Pad runs element by element
		}
		var dv, dk *Node
		dqs, dtiles := make([]*Node, nb), make([]*Node, len(tiles))
		for bi := range nb {
			lo, hi := bi*t, (bi+1)*t
			p, dob := ps[bi], rows(dot, lo, hi)
			dvb := toKeys(DotGeneral(swap(dob), []int{3}, []int{0, 1}, p, []int{2}, []int{0, 1}), hi) // P^T dO, [B, H, Dv, S]
			dp := DotGeneral(dob, []int{3}, []int{0, 1}, rows(vt, 0, hi), []int{3}, []int{0, 1})      // [B, H, T, hi]
			ds := Mul(p, Sub(dp, ReduceAndKeep(Mul(p, dp), ReduceSum, -1)))
			dqs[bi] = MulScalar(DotGeneral(keys(kc, hi), []int{3}, []int{0, 1}, ds, []int{3}, []int{0, 1}), scale) // (dS K)^T, [B, H, D, T]
			dkb := toKeys(MulScalar(DotGeneral(swap(rows(qt, lo, hi)), []int{3}, []int{0, 1}, ds, []int{2}, []int{0, 1}), scale), hi)
			if dv == nil {
				dv, dk = dvb, dkb
			} else {
				dv, dk = Add(dv, dvb), Add(dk, dkb)
			}
			if tiles == nil {
				continue
			}
			var da *Node // [H, T, hi]: ds summed over the batch
			if ds.Shape().Dim(0) == 1 {
				da = Reshape(ds, ds.Shape().Dimensions[1:]...)
			} else {
				da = ReduceSum(ds, 0)
			}
			if tiles[0].Shape().Dim(0) == 1 {
				da = ReduceAndKeep(da, ReduceSum, 0)
			}
			hd := da.Shape().Dim(0)
			da = Reshape(da, hd, t, bi+1, t) // key block u of this row is tile bi-u
			for u := range bi + 1 {
				du := Reshape(SliceAxis(da, 2, AxisElem(u)), hd, t, t)
				if d := bi - u; dtiles[d] == nil {
					dtiles[d] = du
				} else {
					dtiles[d] = Add(dtiles[d], du)
				}
			}
		}
		return append([]*Node{back(concat(dqs, 3)), back(dk), back(dv)}, dtiles...)
	})
}

// biasTiles returns the additive terms of directExact with nb query blocks of T = s/nb rows:
// tile d [H, T, T] (or [1, T, T] for the causal mask alone) is the bias of queries against
// the keys d blocks earlier, the causal mask applied to the Toeplitz coefficients before they
// are expanded (tile 0 holds the diagonal). With one block the tile is the whole [H, S, S]
// bias, also for a bias that is not Toeplitz. Nil when nothing is added.
func biasTiles(g *Graph, opt Options, s, nb int, dt dtypes.DType) []*Node {
	low := Scalar(g, dt, lowest(dt))
	var coef *Node // [H|1, 2s-1]
	switch {
	case opt.Bias != nil && opt.Bias.Coef == nil:
		m := ConvertDType(opt.Bias.Matrix(), dt)
		if opt.Causal {
			h := m.Shape().Dim(0)
			i := Iota(g, shapes.Make(dtypes.Int32, h, s, s), 1)
			j := Iota(g, shapes.Make(dtypes.Int32, h, s, s), 2)
			m = Where(GreaterOrEqual(i, j), m, BroadcastToDims(low, h, s, s))
		}
		return []*Node{m}
	case opt.Bias != nil:
		coef = ConvertDType(opt.Bias.Coef, dt)
	case opt.Causal:
		coef = ZerosLike(BroadcastToDims(low, 1, 2*s-1))
	default:
		return nil
	}
	hc := coef.Shape().Dim(0)
	if opt.Causal {
		k := Iota(g, shapes.Make(dtypes.Int32, hc, 2*s-1), 1)
		coef = Where(LessOrEqual(k, Scalar(g, dtypes.Int32, s-1)), coef, BroadcastToDims(low, hc, 2*s-1))
	}
	return toeplitz.Tiles(coef, nb)
}

// QueryBlocks is the number of causal query blocks for s positions: the most, up to 8, of at
// least 256 rows each that divide s evenly (1 below 512 positions).
func QueryBlocks(s int) int {
	for nb := 8; nb > 1; nb-- {
		if s%nb == 0 && s/nb >= 256 {
			return nb
		}
	}
	return 1
}

func concat(xs []*Node, axis int) *Node {
	if len(xs) == 1 {
		return xs[0]
	}
	return Concatenate(xs, axis)
}
