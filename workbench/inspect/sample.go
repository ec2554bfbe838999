package inspect

import (
	"github.com/attnbench/attnbench/workbench/run"

	"fmt"
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/transformer"
)

// Sample continues prompt with n tokens from the last checkpoint of the run in dir, drawing each
// token from softmax(logits/temperature) (greedy when temperature is 0), with the context cut to
// the training length.
func Sample(dir, prompt string, n int, temperature float64, seed uint64, o run.Options) (string, error) {
	if n < 0 || temperature < 0 || math.IsNaN(temperature) {
		return "", fmt.Errorf("inspect: sample length %d and temperature %g must not be negative", n, temperature)
	}
	r, err := run.Restore(dir, nil)
	if err != nil {
		return "", err
	}
	e, m, store, tok := r.Exp, r.Model, r.Store, r.Tok
	cfg := m.Config
	ids, err := tok.Encode(nil, []byte(prompt))
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		ids = []int32{0}
	}
	// One graph for every step: the context is right-padded to the training length (the model is
	// causal, so padding after a position does not change its logits) and the logits at the last
	// real position are picked by a one-hot product (no dynamic slicing needed).
	L := e.Data.SeqLen
	exec, err := model.NewExec(o.Backend, store, func(scope *model.Scope, t, pos *Node) *Node {
		logits, _ := m.Logits(scope, t, transformer.ForwardOptions{}) // [1, L, V]
		pick := OneHot(pos, L, logits.DType())                        // [L]
		return DotGeneral(pick, []int{0}, nil, Reshape(logits, L, cfg.Vocab), []int{0}, nil)
	})
	if err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a))
	start := len(ids)
	for range n {
		ctx := ids[max(0, len(ids)-L):]
		padded := make([]int32, L)
		copy(padded, ctx)
		out, err := exec.Exec(tensors.FromFlatDataAndDimensions(padded, 1, L), tensors.FromScalar(int32(len(ctx)-1)))
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
