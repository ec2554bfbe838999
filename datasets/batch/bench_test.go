package batch

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/datasets/tokens"
)

// BenchmarkWindows measures batch production (tokens per second) from memory and from the
// memory-mapped token cache, through the prefetching iterator.
func BenchmarkWindows(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := make([]byte, 8<<20)
	for i := range text {
		text[i] = byte('a' + rng.IntN(26))
	}
	mem := &corpus.Memory{Label: "bench", Docs: []corpus.Document{{Name: "d", Text: text}}}
	inMemory, err := tokens.Tokenize(mem, tokenizer.Byte{})
	if err != nil {
		b.Fatal(err)
	}
	cached, err := tokens.Cached(mem, tokenizer.Byte{}, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer cached.Close()
	for _, src := range []struct {
		name string
		seq  tokens.Seq
	}{{"memory", inMemory.Split(corpus.Train)}, {"mmap", cached.Split(corpus.Train)}} {
		for _, shape := range [][2]int{{32, 512}, {8, 4096}} {
			b.Run(fmt.Sprintf("%s/B=%d/L=%d", src.name, shape[0], shape[1]), func(b *testing.B) {
				w, err := NewWindows(src.seq, shape[0], shape[1], WindowOptions{Seed: 1, Limit: b.N})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				n := 0
				for _, bt := range w.Batches() {
					n += len(bt.Inputs)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
