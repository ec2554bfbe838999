package posenc_test

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

func mustNew(t *testing.T, kind string, p params.Given, env posenc.Env) posenc.Encoding {
	t.Helper()
	e, err := posenc.New(posenc.Config{Kind: kind, Params: p}, env)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// coefficients evaluates a Toeplitz encoding with the given variable values ([]float64 per name)
// and returns [H][2n-1] in float64.
func coefficients(t *testing.T, enc posenc.Encoding, n int, vars map[string]any) [][]float64 {
	t.Helper()
	store := model.NewStore()
	for name, v := range vars {
		store.RootScope().VariableWithValue(name, v)
	}
	exec := model.MustNewExec1(backend.MustShared(), store, func(scope *model.Scope, g *Graph) *Node {
		return enc.(posenc.Toeplitz).Coefficients(scope, g, n, dtypes.Float64)
	})
	out, err := exec.Call()
	if err != nil {
		t.Fatal(err)
	}
	return out.Value().([][]float64)
}

// bias returns the causal bias of head h at distance d from coefficients of length 2n-1.
func at(c [][]float64, h, d int) float64 { n := (len(c[h]) + 1) / 2; return c[h][n-1-d] }

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) || math.IsNaN(got) {
		t.Errorf("%s = %.9g, want %.9g (tol %g)", what, got, want, tol)
	}
}

func tensorF64(x *tensors.Tensor) []float64 { return tensors.MustCopyFlatData[float64](x) }

// weightOnly exposes WeightCoefficients as Coefficients.
type weightOnly struct{ posenc.WeightedToeplitz }

func (w weightOnly) Coefficients(scope *model.Scope, g *Graph, n int, dt dtypes.DType) *Node {
	return w.WeightCoefficients(scope, g, n, dt)
}

// initValues builds the encoding once with fresh variables and returns the initial values of name.
func initValues(t *testing.T, enc posenc.Encoding, name string, n int) []float64 {
	t.Helper()
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(7))
	exec := model.MustNewExec1(backend.MustShared(), store, func(scope *model.Scope, g *Graph) *Node {
		return enc.(posenc.Toeplitz).Coefficients(scope, g, n, dtypes.Float64)
	})
	if _, err := exec.Call(); err != nil {
		t.Fatal(err)
	}
	v := store.GetVariable("/" + name)
	if v == nil {
		t.Fatalf("variable %q not found", name)
	}
	return tensorF64(v.MustValue())
}

func stddev(v []float64) float64 {
	m, s := 0.0, 0.0
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)))
}

func fireInput(t *testing.T, f posenc.FIRE, n int) []float64 {
	t.Helper()
	exec := model.MustNewExec1(backend.MustShared(), model.NewStore(), func(scope *model.Scope, g *Graph) *Node {
		return f.Input(scope, g, n, dtypes.Float64)
	})
	out, err := exec.Call()
	if err != nil {
		t.Fatal(err)
	}
	return tensorF64(out)
}
