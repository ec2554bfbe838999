package kernelized

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// DecayOptions configure Decay.
type DecayOptions struct {
	Causal bool
	// Chunk is the block length; 0 chooses about sqrt(n) (ChunkFor), or NeighbourChunk with
	// Neighbours.
	Chunk   int
	KeyMask *Node
	// Neighbours also gives the pairs in neighbouring chunks the exact coefficients, so that
	// the sum need only hold from distance C+1 (fewer terms for KERPLE-log; DecayFar).
	Neighbours bool
	// Rates are the host values of the last len(Rates) columns of s, the same for every head
	// (posenc.SharedRates). Those terms then read the decays inside a chunk through a rank-K
	// basis (rateBasis), K about 10 for any number of rates; no gradient flows to their s.
	Rates []float64
}

// Decay is kernelized attention with RPE (Luo et al. 2021, Eq. 10-13) without an FFT, for
// coefficients that are a sum of decaying exponentials of the distance d = |i - j|:
//
//	c_d = exp(b_d - b_0) = sum_r w_r exp(-s_r d)  (d >= DecayFar(n, Chunk, Neighbours)),
//
// exactly for ALiBi, within a bound for KERPLE-log (posenc.ExpSum). Pairs inside a chunk of C
// positions (and in neighbouring chunks with Neighbours) use the exact coefficients
// exp(b - b_0); farther pairs are, per term, a decayed linear-attention recurrence in
// chunkwise form (as RetNet, Sun et al. 2023), per head, with L = 1 (2 with Neighbours):
//
//	S_c = e^{-s C} S_{c-1} + e^{-s C (L-1)} sum_{j in chunk c-L} e^{-s (C-1-j)} phi(k_j) [v_j, 1]^T,
//	z_i += w e^{-s (i+1)} phi(q_i) S_c   (i in chunk c),
//
// O(n (C + R dv) m) time (3C with Neighbours), linear in n for a fixed C. Bidirectional attention adds the same
// recurrence in the other direction. b [H, 2n-1] must have its maximum at offset 0 (true of
// every ExpSum encoding); w, s [H, R], s >= 0. Gradients flow to b, w and s by GoMLX's rules.
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
	k := newChunking(n, decayChunk(opt.Chunk, opt.Neighbours))
	c, nc := k.c, k.nc
	fk = maskKeys(fk, opt.KeyMask)
	fq5, fk5, v5 := k.split(fq), k.split(fk), k.split(withOnes(v))

	// Inside a chunk (and with the neighbouring chunks): the exact coefficients, as [H, C, C]
	// matrices M[h, i, j] = c_{j-i} of offsets -(C-1)..C-1 (shifted by -C and C).
	b0 := Slice(b, AxisRange(), AxisRange(n-1, n)) // [H, 1]
	coef := func(offset int) *Node { return toeplitz.Expand(nearCoefficients(b, b0, n, offset, c), c) }
	intra := coef(0)
	if opt.Causal {
		intra = Mul(intra, ConvertDType(Reshape(lowerTriangle(g, c, true), 1, c, c), dt))
	}
	// The exact blocks in head-major chunks [B, nc, H, C, .]: the matmuls' batch axes lead.
	qh, kh, vh := headsFirst(fq5), headsFirst(fk5), headsFirst(v5)
	near := chunkBlock(qh, kh, vh, intra)
	lag := 1
	if opt.Neighbours && nc > 1 {
		lag = 2
		near = Add(near, chunkBlock(qh, shiftChunks(kh, 1), shiftChunks(vh, 1), coef(-c)))
		if !opt.Causal {
			near = Add(near, chunkBlock(qh, shiftChunks(kh, -1), shiftChunks(vh, -1), coef(c)))
		}
	}
	o := headsFirst(near)
	if nc > lag {
		r, f := w.Shape().Dim(1), len(opt.Rates)
		if f > r {
			panicf("kernelized.Decay: %d shared rates for %d terms", f, r)
		}
		if f > 0 {
			if basis := newRateBasis(opt.Rates, c); basis.rank() < f {
				wb, sb := Slice(w, AxisRange(), AxisRange(r-f, r)), Slice(s, AxisRange(), AxisRange(r-f, r))
				sb = StopGradient(sb)
				o = Add(o, basisChunks(fq5, fk5, v5, wb, sb, basis, lag, false))
				if !opt.Causal {
					o = Add(o, basisChunks(fq5, fk5, v5, wb, sb, basis, lag, true))
				}
				if r == f {
					w, s = nil, nil
				} else {
					w, s = Slice(w, AxisRange(), AxisRange(0, r-f)), Slice(s, AxisRange(), AxisRange(0, r-f))
				}
			}
		}
		if w != nil {
			for _, t := range termGroups(w, s) {
				o = Add(o, otherChunks(fq5, fk5, v5, t[0], t[1], lag, false))
				if !opt.Causal {
					o = Add(o, otherChunks(fq5, fk5, v5, t[0], t[1], lag, true))
				}
			}
		}
	}
	out := ratio(k.join(o), 0)
	if opt.KeyMask != nil {
		seen := BroadcastToShape(Reshape(rowsWithKeys(opt.KeyMask, opt.Causal, 0), bb, n, 1, 1), out.Shape())
		out = Where(seen, out, ZerosLike(out))
	}
	return out
}

// DecayFar is the smallest distance at which Decay reads the exponential sum for n positions
// in chunks of chunk (0: Decay's default): C + 1 with neighbours (they use the exact
// coefficients), else 1.
func DecayFar(n, chunk int, neighbours bool) int {
	if neighbours {
		return newChunking(n, decayChunk(chunk, neighbours)).c + 1
	}
	return 1
}

// NeighbourChunk is Decay's default chunk with Neighbours: each far term carries a state per
// chunk, so with many terms (KERPLE-log) longer chunks of exact coefficients cost less than
// more states. At n = 1024 to 8192 (m = 64, causal, 2 cores) it is 10% to 60% faster forward
// and backward than about sqrt(n), and faster than 128 or 512.
const NeighbourChunk = 256

// decayChunk is the chunk Decay uses for a requested chunk (0: its default; newChunking caps it at n).
func decayChunk(chunk int, neighbours bool) int {
	if chunk == 0 && neighbours {
		return NeighbourChunk
	}
	return chunk
}

// nearCoefficients returns exp(b - b0) at the 2C-1 offsets centred on offset, [H, 2C-1],
// zero where an offset is beyond +-(n-1) (only padded positions meet those).
func nearCoefficients(b, b0 *Node, n, offset, c int) *Node {
	lo, hi := n-1+offset-(c-1), n-1+offset+c // indices into b's 2n-1 offsets
	x := Exp(Sub(Slice(b, AxisRange(), AxisRange(max(lo, 0), min(hi, 2*n-1))), b0))
	var parts []*Node
	h := b.Shape().Dim(0)
	if lo < 0 {
		parts = append(parts, Zeros(b.Graph(), shapes.Make(x.DType(), h, -lo)))
	}
	parts = append(parts, x)
	if hi > 2*n-1 {
		parts = append(parts, Zeros(b.Graph(), shapes.Make(x.DType(), h, hi-(2*n-1))))
	}
	if len(parts) == 1 {
		return x
	}
	return Concatenate(parts, 1)
}

// chunkBlock is sum_j M[h, i, j] phi(q_i).phi(k_j) [v_j, 1] within chunk pairs, for qh [B, nc,
// H, C, m] against kh and vh of the same chunks (shifted for a neighbour), [B, nc, H, C, dv+1].
func chunkBlock(qh, kh, vh, mat *Node) *Node {
	a := vjp.BatchMatMulT(qh, kh, 3, 1) // [B, nc, H, C, C]
	a = Mul(a, tileRows(mat, a.Shape()))
	return vjp.BatchMatMul(a, vh, 3, 1)
}

// headsFirst swaps axes 2 and 3: chunks [B, nc, C, H, .] <-> [B, nc, H, C, .].
func headsFirst(x *Node) *Node { return TransposeAllAxes(x, 0, 1, 3, 2, 4) }

// tileRows repeats x along the leading axes of shape (x's shape is its trailing axes) by
// concatenation, with the gradient sum_r v[r] (vjp.SumLeading): the Go backend broadcasts
// elementwise operands through an index iterator, several times slower than equal shapes.
func tileRows(x *Node, shape shapes.Shape) *Node {
	size := x.Shape().Size()
	r := shape.Size() / size
	if r == 1 {
		return Reshape(x, shape.Dimensions...)
	}
	return withGradient([]*Node{x}, func(in ...*Node) *Node {
		row := Reshape(in[0], 1, size)
		rows := make([]*Node, r)
		for i := range rows {
			rows[i] = row
		}
		return Reshape(Concatenate(rows, 0), shape.Dimensions...)
	}, func(v *Node) []*Node {
		return []*Node{Reshape(vjp.SumLeading(Reshape(v, r, size), 1), x.Shape().Dimensions...)}
	})
}

// shiftChunks moves x [B, nc, ...] by k chunks along axis 1 (chunk c then holds chunk c-k),
// zero-filled.
func shiftChunks(x *Node, k int) *Node {
	nc := x.Shape().Dim(1)
	dims := x.Shape().Clone().Dimensions
	dims[1] = abs(k)
	z := Zeros(x.Graph(), shapes.Make(x.DType(), dims...))
	if k > 0 {
		return Concatenate([]*Node{z, Slice(x, AxisRange(), AxisRange(0, nc-k))}, 1)
	}
	return Concatenate([]*Node{Slice(x, AxisRange(), AxisRange(-k, nc)), z}, 1)
}

// chunkScan returns the states S [H, B, nc, ...] of the chunks, axis 2, from their summaries P
// of the same shape and the per-term decay a, of P's rank, broadcast along B, nc and the
// features ([H, 1, 1, R, 1, 1] for P [H, B, nc, R, m, e]), for lag L >= 1:
//
//	S_c = 0 (c < L),   S_c = a S_{c-1} + a^{L-1} P_{c-L},
//
// in reverse chunk order when future. Its gradient is the adjoint recurrence
// G_c = dS_c + a G_{c+1}, dP_{c-L} = a^{L-1} G_c,
// da = sum_c G_c (S_{c-1} + (L-1) a^{L-2} P_{c-L}): O(nc) chunk-sized ops, where the default
// gradient of the slices would pad each back to the whole of P.
func chunkScan(p, a *Node, lag int, future bool) *Node {
	nc := p.Shape().Dim(2)
	ord := make([]int, nc) // chunks in scan order
	for k := range ord {
		ord[k] = k
		if future {
			ord[k] = nc - 1 - k
		}
	}
	at := func(x *Node, i int) *Node { return Slice(x, AxisRange(), AxisRange(), AxisElem(i)) }
	var sumAxes []int // the axes a is broadcast along
	for i := range a.Rank() {
		if a.Shape().Dim(i) == 1 {
			sumAxes = append(sumAxes, i)
		}
	}
	var ps, zero, as, dlag *Node
	var st []*Node
	lagged := func(x *Node) *Node { return x } // a^{L-1} x
	return withGradient([]*Node{p, a}, func(in ...*Node) *Node {
		var a0 *Node
		ps, a0 = in[0], in[1]
		zero = ZerosLike(at(ps, 0))
		// The decays at a chunk state's shape, once: the Go backend multiplies equal shapes in one
		// pass, broadcast ones by an index iterator at several times the cost.
		as = BroadcastToShape(a0, zero.Shape())
		if lag > 1 {
			pw := BroadcastToShape(Pow(a0, ConstAs(a0, float64(lag-1))), zero.Shape())
			dlag = BroadcastToShape(MulScalar(Pow(a0, ConstAs(a0, float64(lag-2))), float64(lag-1)), zero.Shape())
			lagged = func(x *Node) *Node { return Mul(x, pw) }
		}
		st = make([]*Node, nc)
		for k := range nc {
			switch {
			case k < lag:
				st[ord[k]] = zero
			case k == lag:
				st[ord[k]] = lagged(at(ps, ord[k-lag]))
			default:
				st[ord[k]] = Add(Mul(st[ord[k-1]], as), lagged(at(ps, ord[k-lag])))
			}
		}
		return Concatenate(st, 2)
	}, func(v *Node) []*Node {
		dp := make([]*Node, nc)
		var g, da *Node
		for k := nc - 1; k >= 0; k-- {
			if k >= nc-lag {
				dp[ord[k]] = zero
			}
			if k < lag {
				continue
			}
			if g == nil {
				g = at(v, ord[k])
			} else {
				g = Add(at(v, ord[k]), Mul(g, as))
			}
			dp[ord[k-lag]] = lagged(g)
			prev := st[ord[k-1]]
			if dlag != nil {
				prev = Add(prev, Mul(at(ps, ord[k-lag]), dlag))
			}
			t := ReduceAndKeep(Mul(g, prev), ReduceSum, sumAxes...)
			if da == nil {
				da = t
			} else {
				da = Add(da, t)
			}
		}
		if da == nil {
			da = ZerosLike(a)
		}
		return []*Node{Concatenate(dp, 2), da}
	})
}

// decayGroups is how many independent groups the terms of a long sum are split into: the Go
// backend runs independent ops at once, so the groups' elementwise work, single-threaded per
// op, keeps two cores busy. A constant, so that the graph and its rounding do not depend on the
// machine.
const decayGroups = 2

// termGroups splits w and s [H, R] along the terms into at most decayGroups parts.
func termGroups(w, s *Node) [][2]*Node {
	r := w.Shape().Dim(1)
	k := min(decayGroups, r)
	groups := make([][2]*Node, 0, k)
	for i := range k {
		lo, hi := i*r/k, (i+1)*r/k
		groups = append(groups, [2]*Node{Slice(w, AxisRange(), AxisRange(lo, hi)), Slice(s, AxisRange(), AxisRange(lo, hi))})
	}
	return groups
}

// otherChunks is the contribution of the earlier chunks (later ones when future) to every
// query, [B, nc, C, H, dv+1]: sum_r w_r e^{-s_r d} phi(q_i).phi(k_j) [v_j, 1] over those keys.
// The chunks c' are those at least lag away, |c - c'| >= lag. The distance d from query i of
// chunk c to key j of chunk c' splits into the query's part, the whole chunks between and the
// key's part: (i+1) + C(c-1-c') + (C-1-j) for the past, (C-i) + C(c'-c-1) + j for the future.
// Every product is laid out [H, B, nc, ...] with its contracted axis where the Go backend's
// matmul reads it, so no [.., R, m, ..] tensor is transposed; the chunk states are one scan.
func otherChunks(fq5, fk5, v5, w, s *Node, lag int, future bool) *Node {
	g := fq5.Graph()
	dt := fq5.DType()
	bb, nc, c, h, m := fq5.Shape().Dim(0), fq5.Shape().Dim(1), fq5.Shape().Dim(2), fq5.Shape().Dim(3), fq5.Shape().Dim(4)
	r := w.Shape().Dim(1)
	pos := Iota(g, shapes.Make(dt, c), 0) // 0..C-1
	kpart, qpart := Sub(ConstAs(pos, float64(c-1)), pos), AddScalar(pos, 1)
	if future {
		kpart, qpart = pos, Sub(ConstAs(pos, float64(c)), pos)
	}
	sr := Reshape(s, h, r, 1) // [H, R, 1]
	// P_c' = sum_j e^{-s kpart_j} phi(k_j) [v_j, 1]^T, [H, B, nc, R, m, dv+1].
	kdec := Exp(Neg(Mul(sr, Reshape(kpart, 1, 1, c))))                                                             // [H, R, C]
	fkr := Mul(Reshape(TransposeAllAxes(fk5, 3, 0, 1, 4, 2), h, bb, nc, 1, m, c), Reshape(kdec, h, 1, 1, r, 1, c)) // [H, B, nc, R, m, C]
	vt := TransposeAllAxes(v5, 3, 0, 1, 2, 4)                                                                      // [H, B, nc, C, dv+1]
	p := vjp.BatchMatMul(fkr, vt, 3, 1)
	// The state each chunk sees, S_c = sum over c' <= c-lag of e^{-s C (c-1-c')} P_c' (the
	// mirror image for the future).
	step := Reshape(Exp(Neg(MulScalar(s, float64(c)))), h, 1, 1, r, 1, 1)
	st := chunkScan(p, step, lag, future) // [H, B, nc, R, m, dv+1]
	// Queries decayed from their chunk's edge, times the weight.
	qdec := Mul(Exp(Neg(Mul(sr, Reshape(qpart, 1, 1, c)))), Reshape(w, h, r, 1))                                                    // [H, R, C]
	fqr := Mul(Reshape(TransposeAllAxes(fq5, 3, 0, 1, 2, 4), h, bb, nc, c, 1, m), Reshape(Transpose(qdec, 1, 2), h, 1, 1, c, r, 1)) // [H, B, nc, C, R, m]
	o := vjp.BatchMatMul(fqr, st, 3, 2)                                                                                             // [H, B, nc, C, dv+1]
	return TransposeAllAxes(o, 1, 2, 3, 0, 4)
}
