package transformer_test

import (
	"fmt"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"
)

// BenchmarkDecode is the cost of one generated token with a context of n tokens: "step" feeds it
// through Model.Step with the recurrent state (independent of n), "rerun" runs the forward pass
// over the whole context, as a sampler without a state must. Width 64, 4 heads, 2 layers,
// byte vocabulary, kernelized attention with RPE (m = 64) and ALiBi or KERPLE-log.
//
//	go test -run XXX -bench Decode ./gomlxattn/transformer
func BenchmarkDecode(b *testing.B) {
	be := backend.MustShared()
	for _, pe := range []string{"alibi", "kerple_log"} {
		c := transformer.Config{Vocab: 256, Width: 64, Heads: 4, Layers: 2, PosEnc: posenc.Config{Kind: pe},
			Attention: "kernelized_rpe", AttentionParams: map[string]any{"m": 64, "decay": "on"}}
		m, err := transformer.New(c)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{256, 1024, 4096} {
			store := model.NewStore()
			tok := make([]int32, n)
			for i := range tok {
				tok[i] = int32(i * 7 % 256)
			}
			full := model.MustNewExec(be, store, func(scope *model.Scope, tokens *Node) *Node {
				logits, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
				return logits
			})
			in := tensors.FromFlatDataAndDimensions(tok, 1, n)
			full.MustExec(in)
			b.Run(fmt.Sprintf("%s/rerun/n=%d", pe, n), func(b *testing.B) {
				for b.Loop() {
					full.MustExec(in)
				}
			})
			state := MustNewExec(be, func(g *Graph) []*Node { return m.StepState(g, 1, n) }).MustExec()
			step := model.MustNewExec(be, store, func(scope *model.Scope, in []*Node) []*Node {
				logits, next := m.Step(scope, in[0], in[1:], n)
				return append([]*Node{logits}, next...)
			})
			b.Run(fmt.Sprintf("%s/step/n=%d", pe, n), func(b *testing.B) {
				i := 0
				for b.Loop() {
					args := []any{tensors.FromFlatDataAndDimensions([]int32{tok[i%n]}, 1)}
					for _, s := range state {
						args = append(args, s)
					}
					out := step.MustExec(args...)
					state = out[1:]
					i++
				}
			})
		}
	}
}
