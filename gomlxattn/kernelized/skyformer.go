package kernelized

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// Skyformer (Chen et al. 2021) approximates the Gaussian-kernel attention
// C V, C = kappa(Q/p^{1/4}, K/p^{1/4}), kappa(q, k) = exp(-|q-k|^2/2), with no row
// normalisation, by Nystrom on the symmetric completion [Q; K]:
//
//	C ~ kappa(Q, L) (kappa(L, L) + gamma I)^+ kappa(L, K),
//
// with L landmarks sampled uniformly (with replacement) from the queries (half) and the keys
// (half) on every call, as the reference code. The pseudo-inverse is the reference's
// Newton-Schulz iteration on D^{-1/2}(M + gamma I)D^{-1/2}, D = diag((M + gamma I) 1): 6
// iterations from V0 = M^T / max column sum (Pinv = 0), or, with Pinv = 1, Iters iterations
// (default 40) from the same start, which converges for ill-conditioned landmark sets where 6
// iterations leave a residual near 1. Bidirectional only: landmarks mix all positions.
type Skyformer struct {
	Landmarks int
	Gamma     float64
	Pinv      int
	Iters     int
}

func (*Skyformer) Name() string { return "skyformer" }

// CheckModel rejects causal models and relative encodings.
func (*Skyformer) CheckModel(enc posenc.Encoding, causal bool) error {
	if causal {
		return fmt.Errorf("skyformer is bidirectional only (its landmarks mix every position); use it in a classifier (Classes > 0)")
	}
	if isRelative(enc) {
		return fmt.Errorf("skyformer has no attention matrix to add a relative bias to; use an absolute or QK encoding")
	}
	return nil
}

// Iterations returns the number of Newton-Schulz iterations used.
func (s *Skyformer) Iterations() int {
	if s.Iters > 0 {
		return s.Iters
	}
	if s.Pinv == 1 {
		return 40
	}
	return 6
}

func (s *Skyformer) Attend(scope *model.Scope, q, k, v *Node, opt attention.Options) (*Node, *Node) {
	checkQKVSelf(q, k, v)
	if opt.Causal {
		panicf("skyformer: causal attention is not supported")
	}
	b, n, p := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(3)
	scale := math.Pow(float64(p), -0.25)
	q, k = MulScalar(q, scale), MulScalar(k, scale)
	if opt.KeyMask != nil {
		m := Reshape(ConvertDType(opt.KeyMask, q.DType()), b, n, 1, 1)
		q, k, v = Mul(q, m), Mul(k, m), Mul(v, m)
	}
	land := s.landmarks(scope, q, k, opt.KeyMask) // [B, L, H, p]
	return s.Apply(q, k, v, land, opt)
}

// Apply is Skyformer with given landmarks [B, L, H, p] (q and k already scaled by p^{-1/4}).
func (s *Skyformer) Apply(q, k, v, land *Node, opt attention.Options) (*Node, *Node) {
	l := land.Shape().Dim(1)
	qf := gaussKernel(q, land) // [B, H, n, L]
	kf := gaussKernel(k, land)
	mm := gaussKernel(land, land) // [B, H, L, L]
	mm = Add(mm, MulScalar(ExpandLeftToRank(identity(q.Graph(), l, q.DType()), 4), s.Gamma))
	rs := ReduceSum(mm, -1)
	dinv := Div(OnesLike(rs), Sqrt(rs)) // [B, H, L]
	mn := Mul(Mul(mm, ExpandAxes(dinv, -1)), ExpandAxes(dinv, -2))
	inv := NewtonSchulz(mn, s.Iterations())
	w := Mul(Mul(inv, ExpandAxes(dinv, -1)), ExpandAxes(dinv, -2))         // D^-1/2 inv D^-1/2
	kw := DotGeneral(kf, []int{3}, []int{0, 1}, w, []int{2}, []int{0, 1})  // [B, H, n, L]
	t := DotGeneral(kw, []int{2}, []int{0, 1}, v, []int{1}, []int{0, 2})   // [B, H, L, dv]
	out := DotGeneral(qf, []int{3}, []int{0, 1}, t, []int{2}, []int{0, 1}) // [B, H, n, dv]
	var probs *Node
	if opt.WantProbs {
		probs = DotGeneral(qf, []int{3}, []int{0, 1}, kw, []int{3}, []int{0, 1}) // [B, H, n, n]
	}
	return TransposeAllAxes(out, 0, 2, 1, 3), probs
}

// NewtonSchulz runs the reference's iterative inverse on m [..., L, L]:
// V0 = m^T / max_j sum_i m_ij, then V <- V (13I - KV(15I - KV(7I - KV)))/4, KV = m V.
// The maximum is per matrix, so batch elements stay independent.
func NewtonSchulz(m *Node, iters int) *Node {
	r := m.Rank()
	l := m.Shape().Dim(-1)
	eye := ExpandLeftToRank(identity(m.Graph(), l, m.DType()), r)
	mt := TransposeAllAxes(m, append(seq(r-2), r-1, r-2)...)
	colMax := ReduceAndKeep(ReduceAndKeep(m, ReduceSum, r-2), ReduceMax, r-1)
	v := Div(mt, colMax)
	batch := seq(r - 2)
	mul := func(a, b *Node) *Node { return DotGeneral(a, []int{r - 1}, batch, b, []int{r - 2}, batch) }
	for range iters {
		kv := mul(m, v)
		inner := Sub(MulScalar(eye, 7), kv)
		inner = Sub(MulScalar(eye, 15), mul(kv, inner))
		inner = Sub(MulScalar(eye, 13), mul(kv, inner))
		v = MulScalar(mul(v, inner), 0.25)
	}
	return v
}

// gaussKernel returns exp(x.y - |x|^2/2 - |y|^2/2) for x [B, n, H, p], y [B, L, H, p] -> [B, H, n, L].
func gaussKernel(x, y *Node) *Node {
	dot := DotGeneral(x, []int{3}, []int{0, 2}, y, []int{3}, []int{0, 2})     // [B, H, n, L]
	nx := TransposeAllAxes(MulScalar(ReduceSum(Square(x), -1), 0.5), 0, 2, 1) // [B, H, n]
	ny := TransposeAllAxes(MulScalar(ReduceSum(Square(y), -1), 0.5), 0, 2, 1) // [B, H, L]
	return Exp(Sub(Sub(dot, ExpandAxes(nx, -1)), ExpandAxes(ny, -2)))
}

// landmarks samples L/2 query rows and L - L/2 key rows per batch element, uniformly with
// replacement among the first count(valid) positions (padding at the end, as the reference), from the scope's random number generator.
func (s *Skyformer) landmarks(scope *model.Scope, q, k, keyMask *Node) *Node {
	g := q.Graph()
	b, n := q.Shape().Dim(0), q.Shape().Dim(1)
	l := s.Landmarks
	u := scope.RandomUniform(g, shapes.Make(dtypes.Float32, b, l)) // [B, L] in [0, 1)
	count := Scalar(g, dtypes.Float32, float64(n))
	var cnt *Node = BroadcastToDims(count, b, 1)
	if keyMask != nil {
		cnt = ReduceAndKeep(ConvertDType(keyMask, dtypes.Float32), ReduceSum, 1) // [B, 1]
		cnt = Max(cnt, OnesLike(cnt))
	}
	pos := ConvertDType(Floor(Mul(u, cnt)), dtypes.Int32)
	pos = Min(pos, Scalar(g, dtypes.Int32, n-1))
	half := make([]int32, l)
	for i := l / 2; i < l; i++ {
		half[i] = int32(n) // second half indexes the keys in [Q; K]
	}
	pos = Add(pos, Reshape(Const(g, half), 1, l))
	bidx := Iota(g, shapes.Make(dtypes.Int32, b, l), 0)
	idx := Stack([]*Node{bidx, pos}, -1) // [B, L, 2]
	x := Concatenate([]*Node{q, k}, 1)   // [B, 2n, H, p]
	return Gather(x, idx)                // [B, L, H, p]
}

func identity(g *Graph, l int, dt dtypes.DType) *Node {
	i := Iota(g, shapes.Make(dtypes.Int32, l, l), 0)
	j := Iota(g, shapes.Make(dtypes.Int32, l, l), 1)
	return ConvertDType(Equal(i, j), dt)
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// ActivationBytes: the [n, landmarks] kernels of queries and keys and the landmark matrices.
func (s *Skyformer) ActivationBytes(batch, n, heads, headDim int) float64 {
	b, t, h, l := float64(batch), float64(n), float64(heads), float64(s.Landmarks)
	return 4 * b * h * (4*t*l + float64(s.Iterations())*3*l*l)
}

// SizeParam is "landmarks"; the reference is Skyformer's own Gaussian kernel with every key a
// landmark (size -1: the sequence length).
func (*Skyformer) SizeParam() string { return "landmarks" }

func (*Skyformer) Reference() (string, params.Given, int) { return "skyformer", nil, -1 }

func init() {
	attention.Register(&attention.Spec{Name: "skyformer", Doc: "Gaussian kernel with Nystrom landmarks (Chen et al. 2021); bidirectional only",
		Params: []params.Param{
			{Name: "landmarks", Default: 128, Min: 2, Max: 8192, Integer: true, Doc: "Nystrom landmarks, half from queries, half from keys"},
			{Name: "gamma", Default: 0.1, Min: 0, Max: 100, Doc: "ridge added to the landmark kernel"},
			{Name: "pinv", Choices: []string{"reference", "convergent"}, Doc: "pseudo-inverse: the reference's 6 Newton-Schulz iterations or 40"},
			{Name: "iters", Default: 0, Min: 0, Max: 1000, Integer: true, Doc: "Newton-Schulz iterations; 0 by pinv"},
		},
		New: func(p params.Values) (attention.Mechanism, error) {
			return &Skyformer{Landmarks: p.Int("landmarks"), Gamma: p["gamma"], Pinv: p.Int("pinv"), Iters: p.Int("iters")}, nil
		}})
}
