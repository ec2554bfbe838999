package kernelized

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"gonum.org/v1/gonum/mat"

	"github.com/attnbench/attnbench/gomlxattn/internal/vjp"
)

// rateBasisTol bounds rateBasis's error at every decay e^{-s x} (all in (0, 1]): KERPLE-log's
// far coefficients then change by under 1e-6 of their value where they are above 1e-6
// (TestRateBasisKerpleLog), against the sum's own bound of 1e-3.
const rateBasisTol = 1e-8

// rateBasis is a rank-K factorisation, by the SVD in float64, of the decays of R shared rates
// over a chunk's offsets x = 0..C:
//
//	e^{-s_r x} ~ sum_k U[x, k] V[r, k],   U [C+1, K], V [R, K],
//
// with K the fewest directions within rateBasisTol at every entry. The decays
// of geometrically spaced rates are smooth in x, so K grows with log(s_max C) and not with R.
type rateBasis struct {
	u, v [][]float64
}

func newRateBasis(rates []float64, c int) rateBasis {
	r := len(rates)
	e := mat.NewDense(c+1, r, nil)
	for x := 0; x <= c; x++ {
		for j, s := range rates {
			e.Set(x, j, math.Exp(-s*float64(x)))
		}
	}
	var svd mat.SVD
	if !svd.Factorize(e, mat.SVDThin) {
		panicf("kernelized: no SVD of the decays of %d rates over %d offsets", r, c+1)
	}
	sv := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	// The smallest K whose reconstruction is within rateBasisTol at every entry.
	k := 1
	for ; k < len(sv); k++ {
		var us, rec mat.Dense
		us.Mul(u.Slice(0, c+1, 0, k), mat.NewDiagDense(k, sv[:k]))
		rec.Mul(&us, v.Slice(0, r, 0, k).T())
		if maxAbsDiff(&rec, e) <= rateBasisTol {
			break
		}
	}
	b := rateBasis{u: make([][]float64, c+1), v: make([][]float64, r)}
	for x := range b.u {
		b.u[x] = make([]float64, k)
		for i := range k {
			b.u[x][i] = u.At(x, i) * sv[i]
		}
	}
	for j := range b.v {
		b.v[j] = make([]float64, k)
		for i := range k {
			b.v[j][i] = v.At(j, i)
		}
	}
	return b
}

func maxAbsDiff(a, b *mat.Dense) float64 {
	r, c := a.Dims()
	m := 0.0
	for i := range r {
		for j := range c {
			m = max(m, math.Abs(a.At(i, j)-b.At(i, j)))
		}
	}
	return m
}

// rank is K.
func (b rateBasis) rank() int { return len(b.v[0]) }

// rows returns U at the offsets x(0..C-1), [C, K].
func (b rateBasis) rows(g *Graph, c int, dt dtypes.DType, x func(i int) int) *Node {
	k := b.rank()
	flat := make([]float64, 0, c*k)
	for i := range c {
		flat = append(flat, b.u[x(i)]...)
	}
	return ConvertDType(Reshape(Const(g, flat), c, k), dt)
}

// vt returns V^T, [K, R].
func (b rateBasis) vt(g *Graph, dt dtypes.DType) *Node {
	k, r := b.rank(), len(b.v)
	flat := make([]float64, 0, k*r)
	for i := range k {
		for j := range r {
			flat = append(flat, b.v[j][i])
		}
	}
	return ConvertDType(Reshape(Const(g, flat), k, r), dt)
}

// basisChunks is otherChunks for terms whose rates are shared by every head and known on the
// host: the decays inside the query's and the key's chunks go through rateBasis, so the
// products over positions cost K, not R; only the chunk states, nc per sequence, stay per term:
//
//	P_r = sum_k V[r, k] sum_j phi(k_j) (U[kpart_j, k] [v_j, 1])^T,
//	z_i = sum_k U[qpart_i, k] phi(q_i) sum_r V[r, k] w_r S_r.
//
// The chunk states are laid out [H, B, nc, m, R, e], and U multiplies the values' side, so
// that neither the products nor their gradients transpose a tensor of n K elements.
func basisChunks(fq5, fk5, v5, w, s *Node, basis rateBasis, lag int, future bool) *Node {
	dt := fq5.DType()
	g := fq5.Graph()
	bb, nc, c, h, m := fq5.Shape().Dim(0), fq5.Shape().Dim(1), fq5.Shape().Dim(2), fq5.Shape().Dim(3), fq5.Shape().Dim(4)
	e := v5.Shape().Dim(4)
	r, k := w.Shape().Dim(1), basis.rank()
	kx, qx := func(j int) int { return c - 1 - j }, func(i int) int { return i + 1 }
	if future {
		kx, qx = func(j int) int { return j }, func(i int) int { return c - i }
	}
	vt := basis.vt(g, dt) // [K, R]
	// Key side: Pk[m, k, e] = sum_j phi(k_j)_m U[kpart_j, k] [v_j, 1]_e, then P[m, r, e].
	vu := Mul(Reshape(TransposeAllAxes(v5, 3, 0, 1, 2, 4), h, bb, nc, c, 1, e), Reshape(basis.rows(g, c, dt, kx), 1, 1, 1, c, k, 1))
	fkt := TransposeAllAxes(fk5, 3, 0, 1, 4, 2) // [H, B, nc, m, C]
	pk := vjp.BatchMatMul(fkt, vu, 3, 1)        // [H, B, nc, m, K, e]
	expand := BroadcastToDims(Reshape(Transpose(vt, 0, 1), 1, 1, 1, 1, r, k), h, bb, nc, m, r, k)
	p := vjp.BatchMatMul(expand, pk, 4, 1) // [H, B, nc, m, R, e]
	step := Reshape(Exp(Neg(MulScalar(s, float64(c)))), h, 1, 1, 1, r, 1)
	st := chunkScan(p, step, lag, future)
	// Query side: Sk[m, k, e] = sum_r V[r, k] w_r S_r[m, e]; z_i = sum_k U[qpart_i, k] (phi(q_i) Sk)[k, e].
	wv := Reshape(Mul(Reshape(vt, 1, k, r), Reshape(w, h, 1, r)), h, 1, 1, 1, k, r)
	sk := vjp.BatchMatMul(BroadcastToDims(wv, h, bb, nc, m, k, r), st, 4, 1) // [H, B, nc, m, K, e]
	fqt := TransposeAllAxes(fq5, 3, 0, 1, 2, 4)                              // [H, B, nc, C, m]
	z := vjp.BatchMatMul(fqt, sk, 3, 1)                                      // [H, B, nc, C, K, e]
	// o_i = sum_k U[qpart_i, k] z[i, k, :], a product batched over the positions: the Go backend
	// multiplies broadcast shapes element by element through an index iterator.
	uq := BroadcastToDims(Reshape(basis.rows(g, c, dt, qx), 1, 1, 1, c, k), h, bb, nc, c, k)
	o := vjp.BatchMatMul(uq, z, 4, 1) // [H, B, nc, C, e]
	return TransposeAllAxes(o, 1, 2, 3, 0, 4)
}
