package transformer_test

import (
	"fmt"
	"log"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"
)

func Example() {
	cfg := transformer.Config{Vocab: 256, Width: 64, Heads: 4, Layers: 2,
		PosEnc: posenc.Config{Kind: "kerple_log"}}
	m, err := transformer.New(cfg) // validates every field before any graph is built
	if err != nil {
		log.Fatal(err)
	}
	store := model.NewStore()
	logits := model.MustNewExec1(backend.MustShared(), store, func(s *model.Scope, tok *graph.Node) *graph.Node {
		l, _ := m.Logits(s, tok, transformer.ForwardOptions{})
		return l
	}).MustCall([][]int32{{'f', 'u', 'n', 'c'}})
	fmt.Println(logits.Shape().Dimensions)
	// Output: [1 4 256]
}
