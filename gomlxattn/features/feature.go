package features

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Kind is the feature map.
type Kind int

const (
	PRF       Kind = iota // positive random features exp(w.x - |x|^2/2)/sqrt(m)
	TRF                   // trigonometric features exp(|x|^2/2)/sqrt(m) [sin w.x, cos w.x]
	ReLU                  // Performer-ReLU relu(w.x/sqrt(m)) + 1e-3
	Maclaurin             // random Maclaurin features of a dot-product kernel (SchoenbAt)
)

// KindNames are the names of the kinds, indexed by Kind.
var KindNames = []string{"prf", "trf", "relu", "maclaurin"}

func (k Kind) String() string { return KindNames[k] }

// Map is a random feature map. Its zero value is PRF with i.i.d. Gaussian projections.
type Map struct {
	Kind       Kind
	Projection Projection // PRF, TRF, ReLU
	ORFScaling int        // 0: chi_d row norms, 1: sqrt(d)
	M          int        // random projections (TRF returns 2M features; Maclaurin M features)
	// Eps is the additive stabiliser of PRF features, ratio*(exp(.)+eps) (Performer reference:
	// 1e-6). It biases the estimate slightly and, with Stabilize, couples keys of a sequence.
	Eps float64
	// Stabilize subtracts the maximum of w.x: per query over features, per (batch, head) over
	// keys and features. Both factors cancel in the attention ratio.
	Stabilize bool
	Dot       DotKernel // Maclaurin kernel
	MaxDegree int       // Maclaurin truncation degree (reference: 20)
	Seed      uint64
}

// Dim is the number of features.
func (m Map) Dim() int {
	if m.Kind == TRF {
		return 2 * m.M
	}
	return m.M
}

// Validate checks the fields.
func (m Map) Validate() error {
	if m.Kind < PRF || m.Kind > Maclaurin {
		return fmt.Errorf("features: kind = %d is invalid, want 0 (prf), 1 (trf), 2 (relu) or 3 (maclaurin)", m.Kind)
	}
	if m.Projection < Gaussian || m.Projection > Sphere {
		return fmt.Errorf("features: projection = %d is invalid, want 0 (gaussian), 1 (orthogonal) or 2 (sphere)", m.Projection)
	}
	if m.ORFScaling != 0 && m.ORFScaling != 1 {
		return fmt.Errorf("features: orf_scaling = %d is invalid, want 0 (chi) or 1 (sqrt d)", m.ORFScaling)
	}
	if m.M < 1 || m.M > 1<<16 || (m.Kind == Maclaurin && m.M < 2) {
		return fmt.Errorf("features: m = %d is invalid, want in [1, 65536] ([2, 65536] for maclaurin)", m.M)
	}
	if !(m.Eps >= 0 && m.Eps < 1) {
		return fmt.Errorf("features: eps = %v is invalid, want in [0, 1)", m.Eps)
	}
	if m.Kind == Maclaurin {
		if m.Dot < DotExp || m.Dot > DotSqrt {
			return fmt.Errorf("features: dot kernel = %d is invalid, want 0 (exp), 1 (inverse), 2 (logi), 3 (trigh) or 4 (sqrt)", m.Dot)
		}
		if m.MaxDegree < 1 || m.MaxDegree > 64 {
			return fmt.Errorf("features: max_degree = %d is invalid, want in [1, 64]", m.MaxDegree)
		}
	}
	return nil
}

const (
	projectionVar = "rf_projection"
	stateVar      = "rf_state"
)

// state is what Redraw needs to draw the next projection: seed, draw, kind, projection,
// ORF scaling, dot kernel, max degree.
func (m Map) state(draw int64) []int64 {
	return []int64{int64(m.Seed), draw, int64(m.Kind), int64(m.Projection), int64(m.ORFScaling), int64(m.Dot), int64(m.MaxDegree)}
}

func mapFromState(s []int64, shape []int) Map {
	m := Map{Seed: uint64(s[0]), Kind: Kind(s[2]), Projection: Projection(s[3]), ORFScaling: int(s[4]), Dot: DotKernel(s[5]), MaxDegree: int(s[6])}
	if m.Kind == Maclaurin {
		m.M = shape[1] + 1
	} else {
		m.M = shape[0]
	}
	return m
}

// draw returns the projection of draw number draw for inputs of dimension d, with its shape.
func (m Map) draw(path string, d int, draw int64) ([]float64, []int, error) {
	rng := Rng(m.Seed, path, draw)
	if m.Kind == Maclaurin {
		w, err := DrawMaclaurin(rng, m.Dot, m.M, d, m.MaxDegree)
		return w, []int{m.MaxDegree, m.M - 1, d + 1}, err
	}
	return DrawProjection(rng, m.Projection, m.M, d, m.ORFScaling), []int{m.M, d}, nil
}

// Weights returns the projection variable of scope for inputs of dimension d, drawing it
// (draw 0) when the scope has none yet. The projection and its state are never trained: a
// checkpoint loader restores variables as trainable, so they are marked again on every use.
func (m Map) Weights(scope *model.Scope, g *Graph, d int, dtype dtypes.DType) *Node {
	if v := scope.GetVariable(projectionVar); v != nil {
		if st := scope.GetVariable(stateVar); st != nil {
			st.SetTrainable(false)
		}
		return v.SetTrainable(false).NodeValue(g)
	}
	w, shape, err := m.draw(scope.Scope(), d, 0)
	if err != nil {
		panic(err)
	}
	scope.VariableWithValue(stateVar, m.state(0)).SetTrainable(false)
	v := scope.VariableWithValue(projectionVar, toTensor(w, shape, dtype)).SetTrainable(false)
	return v.NodeValue(g)
}

func toTensor(w []float64, shape []int, dtype dtypes.DType) *tensors.Tensor {
	if dtype == dtypes.Float64 {
		return tensors.FromFlatDataAndDimensions(w, shape...)
	}
	f := make([]float32, len(w))
	for i, x := range w {
		f[i] = float32(x)
	}
	return tensors.FromFlatDataAndDimensions(f, shape...)
}

// Redraw replaces every random projection in store with its next draw and returns how many
// it replaced. Evaluation graphs read the current draw; nothing is redrawn implicitly.
func Redraw(store *model.Store) (int, error) {
	count := 0
	for v := range store.RootScope().IterVariables() {
		if v.Name() != stateVar {
			continue
		}
		st := tensors.MustCopyFlatData[int64](v.MustValue())
		pv := store.GetVariable(joinPath(v.Scope(), projectionVar))
		if pv == nil {
			return count, fmt.Errorf("features: %s has no %s", v.Scope(), projectionVar)
		}
		old := pv.MustValue()
		m := mapFromState(st, old.Shape().Dimensions)
		d := old.Shape().Dimensions[len(old.Shape().Dimensions)-1]
		if m.Kind == Maclaurin {
			d--
		}
		st[1]++
		w, shape, err := m.draw(v.Scope(), d, st[1])
		if err != nil {
			return count, err
		}
		if err := pv.SetValue(toTensor(w, shape, old.DType())); err != nil {
			return count, err
		}
		if err := v.SetValue(tensors.FromValue(st)); err != nil {
			return count, err
		}
		count++
	}
	return count, nil
}

func joinPath(scope, name string) string {
	if scope == "/" {
		return "/" + name
	}
	return scope + "/" + name
}

// Queries returns the features of queries x [..., d] -> [..., Dim()].
func (m Map) Queries(w, x *Node) *Node { return m.apply(w, x, true) }

// Keys returns the features of keys x [B, n, H, d] -> [B, n, H, Dim()]; the PRF stabiliser
// takes the key maximum over axes 1 (positions) and 3 (features).
func (m Map) Keys(w, x *Node) *Node { return m.apply(w, x, false) }

func (m Map) apply(w, x *Node, query bool) *Node {
	r := x.Rank()
	if m.Kind == Maclaurin {
		return m.maclaurin(w, x)
	}
	dash := DotGeneral(x, []int{r - 1}, nil, w, []int{1}, nil) // [..., M]
	switch m.Kind {
	case ReLU:
		dash = MulScalar(dash, 1/math.Sqrt(float64(m.M)))
		return AddScalar(Max(dash, ZerosLike(dash)), 1e-3)
	case TRF:
		// exp(|x|^2/2) grows fast. With Stabilize, queries drop it (it cancels per row) and keys
		// share the per-(batch, head) maximum.
		sq := MulScalar(ReduceAndKeep(Square(x), ReduceSum, -1), 0.5)
		var scale *Node
		switch {
		case m.Stabilize && query:
			scale = OnesLike(sq)
		case m.Stabilize && r >= 4:
			scale = Exp(Sub(sq, StopGradient(ReduceAndKeep(sq, ReduceMax, 1))))
		default:
			scale = Exp(sq)
		}
		return m.trf(dash, scale)
	}
	diag := MulScalar(ReduceAndKeep(Square(x), ReduceSum, -1), 0.5)
	z := Sub(dash, diag)
	if m.Stabilize {
		if query || r < 4 {
			z = Sub(z, StopGradient(ReduceAndKeep(dash, ReduceMax, -1)))
		} else {
			z = Sub(z, StopGradient(ReduceAndKeep(dash, ReduceMax, 1, r-1)))
		}
	}
	return m.prf(z)
}

// trf is [sin w.x, cos w.x] scale / sqrt(M).
func (m Map) trf(dash, scale *Node) *Node {
	scale = MulScalar(scale, 1/math.Sqrt(float64(m.M)))
	return Concatenate([]*Node{Mul(Sin(dash), scale), Mul(Cos(dash), scale)}, -1)
}

// prf is (exp(z) + Eps) / sqrt(M) for z = w.x - |x|^2/2 - shift.
func (m Map) prf(z *Node) *Node {
	f := Exp(z)
	if m.Eps > 0 {
		f = AddScalar(f, m.Eps)
	}
	return MulScalar(f, 1/math.Sqrt(float64(m.M)))
}

// maclaurin evaluates prod_{l < L} (w_l . [x, 1]) for the D-1 random features and prepends
// the constant feature sqrt(a_0).
func (m Map) maclaurin(w, x *Node) *Node {
	r := x.Rank()
	lmax, nf, d1 := w.Shape().Dim(0), w.Shape().Dim(1), w.Shape().Dim(2)
	dims := x.Shape().Clone().Dimensions
	dims[r-1] = 1
	ones := Ones(x.Graph(), shapes.Make(x.DType(), dims...))
	x1 := Concatenate([]*Node{x, ones}, -1)
	var f *Node
	for l := range lmax {
		wl := Reshape(Slice(w, AxisRange(l, l+1)), nf, d1)
		p := DotGeneral(x1, []int{r - 1}, nil, wl, []int{1}, nil) // [..., D-1]
		if f == nil {
			f = p
		} else {
			f = Mul(f, p)
		}
	}
	a0 := MulScalar(ones, math.Sqrt(m.Dot.Coefficients(0)[0]))
	return Concatenate([]*Node{a0, f}, -1)
}

// DrawWeights returns draw 0 of the projection for inputs of dimension d, as Weights would
// create it in a scope whose path mixes to seed (for tests and analyses outside a model).
func (m Map) DrawWeights(seed uint64, d int) ([]float64, error) {
	m.Seed = seed
	w, _, err := m.draw("", d, 0)
	return w, err
}

// KeyStep returns the features of the keys of one position, x [B, 1, H, d], as Keys gives them
// inside a sequence but against a running stabiliser: mx [B, 1, H, 1] is the largest shift of
// the keys seen so far (max w.x for PRF, |x|^2/2 for TRF; -inf before the first key). It returns
// the features f = phi(x) e^{-mx'}, the new maximum mx' = max(mx, shift) and the factor
// e^{mx - mx'} that rescales everything accumulated from earlier keys, so that every key shares
// the stabiliser e^{-mx'}; the common factor cancels in the attention ratio. Without Stabilize
// (or for ReLU and Maclaurin features, which have none) mx' = mx and the factor is 1. With Eps,
// earlier keys' Eps shrinks with the factor: the sums differ from one stabiliser over the whole
// sequence by at most Eps times the number of keys, relative to the largest feature.
func (m Map) KeyStep(w, x, mx *Node) (f, next, rescale *Node) {
	if !m.Stabilize || m.Kind == ReLU || m.Kind == Maclaurin {
		return m.Keys(w, x), mx, OnesLike(mx)
	}
	r := x.Rank()
	dash := DotGeneral(x, []int{r - 1}, nil, w, []int{1}, nil) // [B, 1, H, M]
	sq := MulScalar(ReduceAndKeep(Square(x), ReduceSum, -1), 0.5)
	var shift *Node
	if m.Kind == TRF {
		shift = sq
	} else {
		shift = ReduceAndKeep(dash, ReduceMax, -1)
	}
	next = StopGradient(Max(mx, shift))
	rescale = Exp(Sub(mx, next))
	if m.Kind == TRF {
		return m.trf(dash, Exp(Sub(sq, next))), next, rescale
	}
	return m.prf(Sub(Sub(dash, sq), next)), next, rescale
}
