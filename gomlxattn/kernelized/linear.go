package kernelized

import (
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// LinearOptions configure Linear.
type LinearOptions struct {
	Causal bool
	// Chunk is the block length of the causal form; 0 chooses about sqrt(n).
	Chunk int
	// KeyMask [B, n] Bool marks valid keys; masked keys add nothing to numerator or denominator.
	KeyMask *Node
	// DenFloor > 0 divides by max(den, DenFloor) (SchoenbAt's clamp for signed features);
	// 0 returns 0 where den <= 0 or underflows, and num/den elsewhere.
	DenFloor float64
}

// Linear is kernelized attention (Katharopoulos et al. 2020; Luo et al. 2021 Eq. 2-3):
//
//	z_i = phi(q_i) sum_j phi(k_j)^T v_j / phi(q_i) sum_j phi(k_j)^T
//
// over visible keys, for features fq, fk [B, n, H, m] and values v [B, n, H, dv] -> [B, n, H, dv].
// The causal form works in chunks of C positions: exact masked products inside a chunk and
// the sum of the earlier chunks' phi(k)^T v (an exclusive prefix over chunks), so it holds
// [n/C, m, dv] per (batch, head) and never the [n, m, dv] prefix sums.
func Linear(fq, fk, v *Node, opt LinearOptions) *Node {
	checkFeatures(fq, fk, v)
	fk = maskKeys(fk, opt.KeyMask)
	v1 := withOnes(v)
	var o *Node
	if !opt.Causal {
		s := DotGeneral(fk, []int{1}, []int{0, 2}, v1, []int{1}, []int{0, 2}) // [B, H, m, dv+1]
		o = DotGeneral(fq, []int{3}, []int{0, 2}, s, []int{2}, []int{0, 1})   // [B, H, n, dv+1]
		o = TransposeAllAxes(o, 0, 2, 1, 3)
	} else {
		o = causalChunks(fq, fk, v1, opt.Chunk)
	}
	return ratio(o, opt.DenFloor)
}

// ChunkFor returns the default causal chunk length for n positions: a power of two near
// sqrt(n), in [16, 256].
func ChunkFor(n int) int {
	c := 16
	for c < 256 && c*c < n {
		c *= 2
	}
	return c
}

// chunking splits the sequence axis of [B, n, H, d] tensors into nc chunks of c positions,
// zero-padded at the end: the layout of the chunked forms (causalChunks, Decay).
type chunking struct{ n, c, nc int }

// newChunking uses chunks of length chunk (0: ChunkFor(n)), at most n.
func newChunking(n, chunk int) chunking {
	if chunk <= 0 {
		chunk = ChunkFor(n)
	}
	c := min(chunk, n)
	return chunking{n: n, c: c, nc: (n + c - 1) / c}
}

// split returns x [B, n, H, d] as [B, nc, C, H, d].
func (k chunking) split(x *Node) *Node {
	d := x.Shape().Clone().Dimensions
	if np := k.nc * k.c; np > k.n {
		pad := slices.Clone(d)
		pad[1] = np - k.n
		x = Concatenate([]*Node{x, Zeros(x.Graph(), shapes.Make(x.DType(), pad...))}, 1)
	}
	return Reshape(x, d[0], k.nc, k.c, d[2], d[3])
}

// join is the inverse of split: [B, nc, C, H, d] to [B, n, H, d].
func (k chunking) join(x *Node) *Node {
	d := x.Shape().Dimensions
	x = Reshape(x, d[0], k.nc*k.c, d[3], d[4])
	if k.nc*k.c > k.n {
		x = Slice(x, AxisRange(), AxisRange(0, k.n))
	}
	return x
}

func causalChunks(fq, fk, v1 *Node, chunk int) *Node {
	g := fq.Graph()
	k := newChunking(fq.Shape().Dim(1), chunk)
	c, nc := k.c, k.nc
	fq5, fk5, v5 := k.split(fq), k.split(fk), k.split(v1)
	a := DotGeneral(fq5, []int{4}, []int{0, 1, 3}, fk5, []int{4}, []int{0, 1, 3}) // [B, nc, H, C, C]
	a = Mul(a, ConvertDType(Reshape(lowerTriangle(g, c, true), 1, 1, 1, c, c), a.DType()))
	o := DotGeneral(a, []int{4}, []int{0, 1, 2}, v5, []int{2}, []int{0, 1, 3}) // [B, nc, H, C, dv+1]
	if nc > 1 {
		p := DotGeneral(fk5, []int{2}, []int{0, 1, 3}, v5, []int{2}, []int{0, 1, 3}) // [B, nc, H, m, dv+1]
		prev := ConvertDType(lowerTriangle(g, nc, false), p.DType())                 // [nc, nc], c' < c
		s := DotGeneral(prev, []int{1}, nil, p, []int{1}, nil)                       // [nc, B, H, m, dv+1]
		o = Add(o, DotGeneral(fq5, []int{4}, []int{0, 1, 3}, s, []int{3}, []int{1, 0, 2}))
	}
	return k.join(TransposeAllAxes(o, 0, 1, 3, 2, 4)) // [B, nc, C, H, dv+1] -> [B, n, H, dv+1]
}

// lowerTriangle is the [n, n] 0/1 matrix of j <= i (inclusive) or j < i.
func lowerTriangle(g *Graph, n int, inclusive bool) *Node {
	i := Iota(g, shapes.Make(dtypes.Int32, n, n), 0)
	j := Iota(g, shapes.Make(dtypes.Int32, n, n), 1)
	var keep *Node
	if inclusive {
		keep = GreaterOrEqual(i, j)
	} else {
		keep = GreaterThan(i, j)
	}
	return ConvertDType(keep, dtypes.Float32)
}

// withOnes appends a column of ones to v [B, n, H, dv]: one matmul then gives numerator and
// denominator.
func withOnes(v *Node) *Node {
	d := v.Shape().Clone().Dimensions
	d[3] = 1
	return Concatenate([]*Node{v, Ones(v.Graph(), shapes.Make(v.DType(), d...))}, 3)
}

func maskKeys(fk, mask *Node) *Node {
	if mask == nil {
		return fk
	}
	b, n := fk.Shape().Dim(0), fk.Shape().Dim(1)
	if mask.DType() != dtypes.Bool || mask.Rank() != 2 || mask.Shape().Dim(0) != b || mask.Shape().Dim(1) != n {
		panicf("kernelized: key mask has shape %s, want Bool[%d, %d]", mask.Shape(), b, n)
	}
	return Mul(fk, Reshape(ConvertDType(mask, fk.DType()), b, n, 1, 1))
}

// ratio splits o [B, n, H, dv+1] into numerator and denominator and divides.
func ratio(o *Node, floor float64) *Node {
	dv := o.Shape().Dim(3) - 1
	num := Slice(o, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, dv))
	den := Slice(o, AxisRange(), AxisRange(), AxisRange(), AxisRange(dv, dv+1))
	if floor > 0 {
		return Div(num, Max(den, Scalar(o.Graph(), den.DType(), floor)))
	}
	// A denominator of magnitude below tiny is replaced by tiny: the ratio's gradient, -z/den,
	// would overflow float32 (and its square, in the gradient norm) for the tiny denominators of
	// rows that see only keys far below the stabilizer's maximum. Such rows shrink toward 0;
	// den = 0 gives 0, never NaN. Signed (TRF) denominators keep their sign above tiny.
	tiny := 1e-10
	if den.DType() == dtypes.Float64 {
		tiny = 1e-150
	}
	t := Scalar(o.Graph(), den.DType(), tiny)
	return Div(num, Where(GreaterOrEqual(Abs(den), t), den, BroadcastToShape(t, den.Shape())))
}

func checkFeatures(fq, fk, v *Node) {
	if fq.Rank() != 4 || fk.Rank() != 4 || v.Rank() != 4 {
		panicf("kernelized: features and values must be [batch, seq, heads, dim], got %s, %s, %s", fq.Shape(), fk.Shape(), v.Shape())
	}
	q, k, vv := fq.Shape().Dimensions, fk.Shape().Dimensions, v.Shape().Dimensions
	if q[0] != k[0] || q[1] != k[1] || q[2] != k[2] || q[3] != k[3] || k[0] != vv[0] || k[1] != vv[1] || k[2] != vv[2] {
		panicf("kernelized: incompatible shapes fq %s, fk %s, v %s (want [B, n, H, m], [B, n, H, m], [B, n, H, dv])", fq.Shape(), fk.Shape(), v.Shape())
	}
}
