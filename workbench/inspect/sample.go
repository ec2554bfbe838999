package inspect

import (
	"slices"

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
// token from softmax(logits/temperature) (greedy when temperature is 0). A model that can step
// (transformer.Model.CanStep: linear attention with no encoding, ALiBi or KERPLE-log) decodes
// with its recurrent state, O(1) per token, and sees the whole text so far; any other model
// re-runs the context, cut to the training length, for every token.
func Sample(dir, prompt string, n int, temperature float64, seed uint64, o run.Options) (string, error) {
	if n < 0 || temperature < 0 || math.IsNaN(temperature) {
		return "", fmt.Errorf("inspect: sample length %d and temperature %g must not be negative", n, temperature)
	}
	r, err := run.Restore(dir, nil)
	if err != nil {
		return "", err
	}
	e, m, store, tok := r.Exp, r.Model, r.Store, r.Tok
	ids, err := tok.Encode(nil, []byte(prompt))
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		ids = []int32{0}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a))
	var out []int32
	if n == 0 {
		return "", nil
	} else if m.CanStep() == nil {
		out, _, err = sampleRecurrent(o, store, m, ids, n, temperature, rng)
	} else {
		out, _, err = sampleWindow(o, store, m, ids, n, e.Data.SeqLen, temperature, rng)
	}
	if err != nil {
		return "", err
	}
	return tok.Decode(out)
}

// sampleWindow re-runs the last L tokens for every new one and returns the new tokens with
// their logits. One graph serves every step: the context is right-padded to L (the model is
// causal, so padding after a position does not change its logits) and the logits at the last
// real position are picked by a one-hot product (no dynamic slicing needed).
func sampleWindow(o run.Options, store *model.Store, m *transformer.Model, ids []int32, n, L int, temperature float64, rng *rand.Rand) ([]int32, [][]float32, error) {
	exec, err := model.NewExec(o.Backend, store, func(scope *model.Scope, t, pos *Node) *Node {
		logits, _ := m.Logits(scope, t, transformer.ForwardOptions{}) // [1, L, V]
		pick := OneHot(pos, L, logits.DType())                        // [L]
		return DotGeneral(pick, []int{0}, nil, Reshape(logits, L, m.Config.Vocab), []int{0}, nil)
	})
	if err != nil {
		return nil, nil, err
	}
	ids = slices.Clone(ids)
	start := len(ids)
	var all [][]float32
	for range n {
		ctx := ids[max(0, len(ids)-L):]
		padded := make([]int32, L)
		copy(padded, ctx)
		out, err := exec.Exec(tensors.FromFlatDataAndDimensions(padded, 1, L), tensors.FromScalar(int32(len(ctx)-1)))
		if err != nil {
			return nil, nil, err
		}
		logits := tensors.MustCopyFlatData[float32](out[0])
		all = append(all, logits)
		ids = append(ids, draw(rng, logits, temperature))
	}
	return ids[start:], all, nil
}

// sampleRecurrent feeds the prompt one token at a time through Model.Step, then draws n tokens,
// each fed back, and returns them with their logits: one graph, compiled once, whose cost per
// token does not grow with the text.
func sampleRecurrent(o run.Options, store *model.Store, m *transformer.Model, ids []int32, n int, temperature float64, rng *rand.Rand) ([]int32, [][]float32, error) {
	total := len(ids) + n
	zero, err := NewExec(o.Backend, func(g *Graph) []*Node { return m.StepState(g, 1, total) })
	if err != nil {
		return nil, nil, err
	}
	state, err := zero.Exec()
	if err != nil {
		return nil, nil, err
	}
	step, err := model.NewExec(o.Backend, store, func(scope *model.Scope, in []*Node) []*Node {
		logits, next := m.Step(scope, in[0], in[1:], total)
		return append([]*Node{logits}, next...)
	})
	if err != nil {
		return nil, nil, err
	}
	var out []int32
	var all [][]float32
	next := ids[0]
	for i := range total - 1 {
		args := []any{tensors.FromFlatDataAndDimensions([]int32{next}, 1)}
		for _, s := range state {
			args = append(args, s)
		}
		res, err := step.Exec(args...)
		if err != nil {
			return nil, nil, err
		}
		state = res[1:]
		if i+1 < len(ids) {
			next = ids[i+1] // still reading the prompt
			continue
		}
		logits := tensors.MustCopyFlatData[float32](res[0])
		all = append(all, logits)
		next = draw(rng, logits, temperature)
		out = append(out, next)
	}
	return out, all, nil
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
