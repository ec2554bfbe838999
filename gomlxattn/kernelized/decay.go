package kernelized

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// DecayOptions configure Decay.
type DecayOptions struct {
	Causal bool
	// Chunk is the block length; 0 chooses about sqrt(n) (ChunkFor).
	Chunk   int
	KeyMask *Node
}

// Decay is kernelized attention with RPE (Luo et al. 2021, Eq. 10-13) without an FFT, for
// coefficients that are a sum of decaying exponentials of the distance d = |i - j|:
//
//	c_d = exp(b_d - b_0) = sum_r w_r exp(-s_r d)  (d >= 1),
//
// exactly for ALiBi, within a bound for KERPLE-log (posenc.ExpSum). Pairs inside a chunk of C
// positions use the exact coefficients exp(b - b_0); across chunks each term is a decayed
// linear-attention recurrence in chunkwise form (as RetNet, Sun et al. 2023), per head:
//
//	S_c = e^{-s C} S_{c-1} + sum_{j in chunk c} e^{-s (C-1-j)} phi(k_j) [v_j, 1]^T,
//	z_i += w e^{-s (i+1)} phi(q_i) S_{c-1}   (i in chunk c),
//
// with all S_c at once by a [n/C, n/C] matrix of e^{-s C (c-1-c')}: O(n (C + R dv) m) time,
// linear in n for a fixed C. Bidirectional attention adds the same recurrence in the
// other direction. b [H, 2n-1] must have its maximum at offset 0 (true of every ExpSum encoding);
// w, s [H, R], s >= 0. Gradients flow to b, w and s by GoMLX's rules.
func Decay(fq, fk, v, b, w, s *Node, opt DecayOptions) *Node {
	checkFeatures(fq, fk, v)
	g := fq.Graph()
	bb, n, h := fq.Shape().Dim(0), fq.Shape().Dim(1), fq.Shape().Dim(2)
	if b.Rank() != 2 || b.Shape().Dim(0) != h || b.Shape().Dim(1) != 2*n-1 {
		panicf("kernelized.Decay: coefficients have shape %s, want [%d, %d]", b.Shape(), h, 2*n-1)
	}
	if w.Rank() != 2 || w.Shape().Dim(0) != h || !s.Shape().Equal(w.Shape()) {
		panicf("kernelized.Decay: terms have shapes %s and %s, want [%d, R] both", w.Shape(), s.Shape(), h)
	}
	dt := fq.DType()
	b, w, s = ConvertDType(b, dt), ConvertDType(w, dt), ConvertDType(s, dt)
	k := newChunking(n, opt.Chunk)
	c, nc := k.c, k.nc
	fk = maskKeys(fk, opt.KeyMask)
	fq5, fk5, v5 := k.split(fq), k.split(fk), k.split(withOnes(v))

	// Inside a chunk: the exact coefficients of offsets -(C-1)..C-1, as [H, C, C].
	b0 := Slice(b, AxisRange(), AxisRange(n-1, n)) // [H, 1]
	near := Exp(Sub(Slice(b, AxisRange(), AxisRange(n-c, n+c-1)), b0))
	intra := toeplitz.Expand(near, c) // M[h, i, j] = c_{j-i}
	if opt.Causal {
		intra = Mul(intra, ConvertDType(Reshape(lowerTriangle(g, c, true), 1, c, c), dt))
	}
	a := DotGeneral(fq5, []int{4}, []int{0, 1, 3}, fk5, []int{4}, []int{0, 1, 3}) // [B, nc, H, C, C]
	a = Mul(a, Reshape(intra, 1, 1, h, c, c))
	o := DotGeneral(a, []int{4}, []int{0, 1, 2}, v5, []int{2}, []int{0, 1, 3}) // [B, nc, H, C, dv+1]
	o = TransposeAllAxes(o, 0, 1, 3, 2, 4)                                     // [B, nc, C, H, dv+1]
	if nc > 1 {
		o = Add(o, otherChunks(fq5, fk5, v5, w, s, false))
		if !opt.Causal {
			o = Add(o, otherChunks(fq5, fk5, v5, w, s, true))
		}
	}
	out := ratio(k.join(o), 0)
	if opt.KeyMask != nil {
		seen := BroadcastToShape(Reshape(rowsWithKeys(opt.KeyMask, opt.Causal, 0), bb, n, 1, 1), out.Shape())
		out = Where(seen, out, ZerosLike(out))
	}
	return out
}

// otherChunks is the contribution of the earlier chunks (later ones when future) to every
// query, [B, nc, C, H, dv+1]: sum_r w_r e^{-s_r d} phi(q_i).phi(k_j) [v_j, 1] over those keys.
// The distance d from query i of chunk c to key j of chunk c' splits into the query's part, the
// whole chunks between and the key's part: (i+1) + C(c-1-c') + (C-1-j) for the past,
// (C-i) + C(c'-c-1) + j for the future.
func otherChunks(fq5, fk5, v5, w, s *Node, future bool) *Node {
	g := fq5.Graph()
	dt := fq5.DType()
	bb, nc, c, h, m := fq5.Shape().Dim(0), fq5.Shape().Dim(1), fq5.Shape().Dim(2), fq5.Shape().Dim(3), fq5.Shape().Dim(4)
	r := w.Shape().Dim(1)
	pos := Iota(g, shapes.Make(dt, c), 0) // 0..C-1
	kpart, qpart := Sub(ConstAs(pos, float64(c-1)), pos), AddScalar(pos, 1)
	if future {
		kpart, qpart = pos, Sub(ConstAs(pos, float64(c)), pos)
	}
	sr := Reshape(s, 1, h, r) // [1, H, R]
	// Keys decayed to their chunk's edge, [C, H, R].
	kdec := Exp(Neg(Mul(sr, Reshape(kpart, c, 1, 1))))
	fkr := Mul(Reshape(fk5, bb, nc, c, h, 1, m), Reshape(kdec, 1, 1, c, h, r, 1)) // [B, nc, C, H, R, m]
	p := DotGeneral(fkr, []int{2}, []int{0, 1, 3}, v5, []int{2}, []int{0, 1, 3})  // [B, nc, H, R, m, dv+1]
	// The state each chunk sees: sum over the other chunks c' of e^{-s C lag} p_{c'}, [H, R, nc, nc].
	ci := Iota(g, shapes.Make(dt, nc, nc), 0)
	cj := Iota(g, shapes.Make(dt, nc, nc), 1)
	lag, seen := Sub(AddScalar(ci, -1), cj), lowerTriangle(g, nc, false) // c - 1 - c', c' < c
	if future {
		lag, seen = Sub(AddScalar(cj, -1), ci), Transpose(seen, 0, 1) // c' - 1 - c, c' > c
	}
	lag = Reshape(Max(lag, ZerosLike(lag)), 1, 1, nc, nc)
	trans := Mul(Exp(Neg(Mul(Reshape(MulScalar(s, float64(c)), h, r, 1, 1), lag))), Reshape(ConvertDType(seen, dt), 1, 1, nc, nc))
	st := DotGeneral(trans, []int{3}, []int{0, 1}, p, []int{1}, []int{2, 3}) // [H, R, nc, B, m, dv+1]
	// Queries decayed from their chunk's edge, times the weight, [C, H, R].
	qdec := Mul(Exp(Neg(Mul(sr, Reshape(qpart, c, 1, 1)))), Reshape(w, 1, h, r))
	fqr := Mul(Reshape(fq5, bb, nc, c, h, 1, m), Reshape(qdec, 1, 1, c, h, r, 1))      // [B, nc, C, H, R, m]
	o := DotGeneral(fqr, []int{4, 5}, []int{3, 1, 0}, st, []int{1, 4}, []int{0, 2, 3}) // [H, nc, B, C, dv+1]
	return TransposeAllAxes(o, 2, 1, 3, 0, 4)
}
