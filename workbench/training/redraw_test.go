package training_test

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/training"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

// TestRedrawPolicy: projections change exactly at multiples of the redraw interval, and never
// with redraw = 0.
func TestRedrawPolicy(t *testing.T) {
	for _, every := range []int{0, 3} {
		cfg := transformer.Config{Vocab: 8, Width: 8, Heads: 2, Layers: 1, Attention: "performer",
			AttentionParams: params.Given{"m": 4, "redraw": float64(every)}, PosEnc: posenc.Config{Kind: "none"}}
		m, err := transformer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		store := model.NewStore()
		model.MustNewExec1(backend.MustShared(), store, func(scope *model.Scope, tok *Node) *Node {
			l, _ := m.Logits(scope, tok, transformer.ForwardOptions{})
			return l
		}).MustCall([][]int32{{1, 2, 3}})
		proj := func() []float32 {
			for v := range store.IterVariables() {
				if v.Name() == "rf_projection" {
					return tensors.MustCopyFlatData[float32](v.MustValue())
				}
			}
			t.Fatal("no rf_projection variable")
			return nil
		}
		prev := proj()
		for step := 1; step <= 7; step++ {
			did, err := training.RedrawIfDue(m.Mechanism, store, step)
			if err != nil {
				t.Fatal(err)
			}
			cur := proj()
			changed := false
			for i := range cur {
				changed = changed || cur[i] != prev[i]
			}
			want := every > 0 && step%every == 0
			if did != want || changed != want {
				t.Errorf("redraw=%d step %d: redrew %v, projection changed %v; want %v", every, step, did, changed, want)
			}
			prev = cur
		}
	}
}
