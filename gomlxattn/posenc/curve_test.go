package posenc_test

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

func TestCurve(t *testing.T) {
	env := posenc.Env{NumHeads: 2, HeadDim: 8, Causal: true}
	store := model.NewStore()
	s := store.RootScope().In("relpos")
	s.VariableWithValue("kerple_log_r1", []float32{1, 0.004})
	s.VariableWithValue("kerple_log_r2", []float32{0.5, 2})
	c, err := posenc.Curve(backend.MustShared(), store, "/relpos", mustNew(t, "kerple_log", nil, env), 300)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []int{0, 1, 17, 300} {
		near(t, "head 0", c[0][d], -math.Log1p(0.5*float64(d)), 1e-6)
		near(t, "head 1 (r1 projected to 0.01)", c[1][d], -0.01*math.Log1p(2*float64(d)), 1e-6)
	}
	a, err := posenc.Curve(backend.MustShared(), model.NewStore(), "", mustNew(t, "alibi", nil, posenc.Env{NumHeads: 8, HeadDim: 8, Causal: true}), 10)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "alibi head 0 d=10", a[0][10], -5, 1e-12)
	f, err := posenc.Curve(backend.MustShared(), model.NewStore(), "", mustNew(t, "fire", nil, env), 40)
	if err != nil || len(f) != 2 || len(f[0]) != 41 {
		t.Fatalf("fire curve: %v, %d heads", err, len(f))
	}
	if _, err := posenc.Curve(backend.MustShared(), model.NewStore(), "", mustNew(t, "rotary", nil, env), 10); err == nil {
		t.Error("rotary has no bias curve: want an error")
	}
}
