package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// FIRE (Li et al., ICLR 2024, arXiv 2310.04418): b(i, j) = f(psi(d) / (psi(max(L, i)) + eps)),
// psi(x) = log(|c x| + 1), f an MLP 1 -> width -> H with ReLU, c learnable (init 0.1) and
// L = init_L * |l_mult| learnable (l_mult init 1). It depends on the query position i, so it is
// a Matrix encoding, not a Toeplitz one.
type FIRE struct {
	NumHeads, Width int
	InitC, InitL    float64
	Eps             float64
	Causal          bool
}

func (FIRE) Name() string { return "fire" }

// Input returns the normalised MLP input [n, n] for queries i (rows) and keys j (columns).
func (f FIRE) Input(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	c := scope.WithInitializer(initializer.Zero).VariableWithValue("fire_c", shapesScalar(f.InitC, dtype)).NodeValue(g)
	lm := scope.VariableWithValue("fire_l_mult", shapesScalar(1, dtype)).NodeValue(g)
	l := MulScalar(Abs(lm), f.InitL)
	psi := func(x *Node) *Node { return Log1p(Abs(Mul(c, x))) }
	i := Iota(g, shapes.Make(dtype, n, n), 0)
	j := Iota(g, shapes.Make(dtype, n, n), 1)
	d := Sub(i, j)
	if f.Causal {
		d = Max(d, ZerosLike(d))
	} else {
		d = Abs(d)
	}
	den := AddScalar(psi(Max(i, BroadcastToDims(l, n, n))), f.Eps)
	return Div(psi(d), den)
}

// BiasMatrix returns f(input) as [H, n, n].
func (f FIRE) BiasMatrix(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	x := Reshape(f.Input(scope, g, n, dtype), n*n, 1)
	s := scope.WithInitializer(initializer.XavierUniformFn(scope))
	w1 := s.VariableWithShape("fire_w1", shapes.Make(dtype, 1, f.Width)).NodeValue(g)
	w2 := s.VariableWithShape("fire_w2", shapes.Make(dtype, f.Width, f.NumHeads)).NodeValue(g)
	z := scope.WithInitializer(initializer.Zero)
	b1 := z.VariableWithShape("fire_b1", shapes.Make(dtype, 1, f.Width)).NodeValue(g)
	b2 := z.VariableWithShape("fire_b2", shapes.Make(dtype, 1, f.NumHeads)).NodeValue(g)
	h := Add(MatMul(x, w1), b1)
	h = Max(h, ZerosLike(h))      // ReLU
	out := Add(MatMul(h, w2), b2) // [n*n, H]
	return Reshape(Transpose(out, 0, 1), f.NumHeads, n, n)
}

func shapesScalar(v float64, dtype dtypes.DType) any {
	if dtype == dtypes.Float64 {
		return v
	}
	return float32(v)
}

func init() {
	Register(&Spec{Name: "fire", Doc: "FIRE functional interpolation (MLP of normalised log distance)",
		Params: []params.Param{
			{Name: "width", Default: 32, Min: 1, Max: 4096, Integer: true, Doc: "MLP hidden width"},
			{Name: "init_c", Default: 0.1, Min: 1e-6, Max: 1e6},
			{Name: "init_l", Default: 512, Min: 1, Max: 1e9, Doc: "initial threshold L"},
		},
		New: func(p params.Values, env Env) (Encoding, error) {
			return FIRE{NumHeads: env.NumHeads, Width: p.Int("width"), InitC: p["init_c"], InitL: p["init_l"],
				Eps: 1e-6, Causal: env.Causal}, nil
		}})
}
