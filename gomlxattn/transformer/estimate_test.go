package transformer_test

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"
)

// Parameters counts exactly what the model's variables hold; StepBytes grows as n^2 for exact
// attention and about linearly for kernelized attention, and is linear in the batch.
func TestEstimates(t *testing.T) {
	for _, c := range []transformer.Config{
		{Vocab: 17, Width: 8, Heads: 2, Layers: 3, PosEnc: posenc.Config{Kind: "none"}},
		{Vocab: 17, Width: 12, Heads: 3, Layers: 1, MLPRatio: 2, TiedOutput: true, PosEnc: posenc.Config{Kind: "none"}},
		{Vocab: 5, Width: 8, Heads: 2, Layers: 2, Classes: 4, PosEnc: posenc.Config{Kind: "none"}},
	} {
		m, err := transformer.New(c)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Parameters(), float64(countParameters(t, m)); got != want {
			t.Errorf("%+v: Parameters() = %v, the model's variables hold %v", c, got, want)
		}
	}
	soft, _ := transformer.New(transformer.Config{Vocab: 256, Width: 64, Heads: 4, Layers: 2, PosEnc: posenc.Config{Kind: "alibi"}})
	kern, _ := transformer.New(transformer.Config{Vocab: 256, Width: 64, Heads: 4, Layers: 2, Attention: "kernelized_rpe",
		AttentionParams: params.Given{"m": 16}, PosEnc: posenc.Config{Kind: "alibi"}})
	for _, tc := range []struct {
		m        *transformer.Model
		exponent float64
	}{{soft, 2}, {kern, 1}} {
		a, b := tc.m.StepBytes(1, 1<<14, true), tc.m.StepBytes(1, 1<<15, true)
		if e := math.Log2(b / a); math.Abs(e-tc.exponent) > 0.15 {
			t.Errorf("%s: StepBytes grows as n^%.2f at large n, want n^%v", tc.m.Mechanism.Name(), e, tc.exponent)
		}
		if r := tc.m.StepBytes(8, 512, true) - tc.m.StepBytes(4, 512, true); math.Abs(r-(tc.m.StepBytes(4, 512, true)-tc.m.StepBytes(0, 512, true))) > 1 {
			t.Errorf("%s: StepBytes is not linear in the batch", tc.m.Mechanism.Name())
		}
		if tc.m.StepBytes(16, 64, false) > tc.m.StepBytes(16, 64, true) {
			t.Errorf("%s: inference above training", tc.m.Mechanism.Name())
		}
	}
}

// countParameters builds the model's graph once and counts the trainable values it created.
func countParameters(t *testing.T, m *transformer.Model) int {
	t.Helper()
	store := model.NewStore()
	model.MustNewExec1(backend.MustShared(), store, func(s *model.Scope, tok *Node) *Node {
		if m.Config.Classes > 0 {
			l, _ := m.ClassLogits(s, tok, transformer.ForwardOptions{})
			return l
		}
		l, _ := m.Logits(s, tok, transformer.ForwardOptions{})
		return l
	}).MustCall([][]int32{{1, 2, 3}})
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable && v.DType().IsFloat() {
			n += v.Shape().Size()
		}
	}
	return n
}
