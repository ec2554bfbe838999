// Package testrun holds what the tests of the workbench share: a tiny experiment that trains in
// seconds, the embedded prose corpus tokenized once, and the backend.
package testrun

import (
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/attnbench/attnbench/datasets/builtin"
	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/datasets/tokens"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"
	"github.com/attnbench/attnbench/workbench/experiment"
)

// Tiny is a one-layer, two-head ALiBi model on prose at L = 32 with a checkpoint every 4 steps.
func Tiny(steps int) experiment.Experiment {
	return experiment.Experiment{
		Name:            "tiny",
		Model:           transformer.Config{Width: 32, Heads: 2, Layers: 1, PosEnc: posenc.Config{Kind: "alibi"}},
		Data:            experiment.Data{Corpus: "prose", SeqLen: 32, Batch: 8},
		Optim:           experiment.Optim{Steps: steps, LR: 3e-3},
		Seed:            5,
		Eval:            experiment.Eval{Lengths: []int{32, 64}, Sequences: 4, Batch: 2},
		CheckpointEvery: 4,
		LogEvery:        1,
	}
}

var (
	proseOnce sync.Once
	proseData *tokens.Splits
	proseErr  error
)

// Prose is the embedded prose corpus, byte-tokenized once per test binary.
func Prose(t testing.TB) *tokens.Splits {
	t.Helper()
	proseOnce.Do(func() {
		c, err := builtin.Load("prose")
		if err != nil {
			proseErr = err
			return
		}
		proseData, proseErr = tokens.Tokenize(c, tokenizer.Byte{})
	})
	if proseErr != nil {
		t.Fatal(proseErr)
	}
	return proseData
}

// Backend is the backend of the tests.
func Backend(t testing.TB) compute.Backend {
	t.Helper()
	ch, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	return ch.Backend
}
