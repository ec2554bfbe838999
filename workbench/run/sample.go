package run

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
)

// Sample continues prompt with n tokens from the last checkpoint of the run in dir, drawing each
// token from softmax(logits/temperature) (greedy when temperature is 0), with the context cut to
// the training length.
func Sample(dir, prompt string, n int, temperature float64, seed uint64, o Options) (string, error) {
	if n < 0 || temperature < 0 || math.IsNaN(temperature) {
		return "", fmt.Errorf("run: sample length %d and temperature %g must not be negative", n, temperature)
	}
	e, err := experiment.Load(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", err
	}
	tok, err := tokenizer.New(e.Data.Tokenizer)
	if err != nil {
		return "", err
	}
	if _, err := prepareCheckpoints(dir); err != nil {
		return "", err
	}
	cfg := e.Model
	cfg.Vocab = tok.VocabSize()
	m, err := transformer.New(cfg)
	if err != nil {
		return "", err
	}
	store := model.NewStore()
	if _, err := checkpoint.Load(store).Dir(checkpointDir(dir)).Done(); err != nil {
		return "", fmt.Errorf("run: loading checkpoint of %s: %w", dir, err)
	}
	ids, err := tok.Encode(nil, []byte(prompt))
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		ids = []int32{0}
	}
	exec, err := model.NewExec(o.Backend, store, func(scope *model.Scope, t *Node) *Node {
		logits, _ := m.Logits(scope, t, transformer.ForwardOptions{})
		last := Slice(logits, AxisRange(), AxisElem(-1), AxisRange()) // [1, 1, V]
		return Reshape(last, cfg.Vocab)
	})
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a))
	start := len(ids)
	for range n {
		ctx := ids[max(0, len(ids)-e.Data.SeqLen):]
		out, err := exec.Exec(tensors.FromFlatDataAndDimensions(append([]int32(nil), ctx...), 1, len(ctx)))
		if err != nil {
			return "", err
		}
		logits := tensors.MustCopyFlatData[float32](out[0])
		ids = append(ids, draw(rng, logits, temperature))
	}
	return tok.Decode(ids[start:])
}

// draw picks an index from softmax(logits/temperature), or the argmax for temperature 0.
func draw(rng *rand.Rand, logits []float32, temperature float64) int32 {
	best := 0
	for i, l := range logits {
		if l > logits[best] {
			best = i
		}
	}
	if temperature == 0 {
		return int32(best)
	}
	p := make([]float64, len(logits))
	sum := 0.0
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - float64(logits[best])) / temperature)
		sum += p[i]
	}
	u := rng.Float64() * sum
	for i, x := range p {
		if u -= x; u <= 0 {
			return int32(i)
		}
	}
	return int32(best)
}
