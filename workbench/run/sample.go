package run

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
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

// LearnedBias returns, for the run in dir, the bias its positional encoding adds to the logit of a
// query at position n-1 for the key at distance 0, 1, ..., n-1 (per head), read from the last
// checkpoint: KERPLE, ALiBi, T5, FIRE and Luo's table shapes after training. Encodings without a
// bias (absolute, rotary, none) give an error.
func LearnedBias(dir string, n int, o Options) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("run: bias length %d must be at least 1", n)
	}
	e, err := experiment.Load(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.New(e.Data.Tokenizer)
	if err != nil {
		return nil, err
	}
	if _, err := prepareCheckpoints(dir); err != nil {
		return nil, err
	}
	cfg := e.Model
	cfg.Vocab = tok.VocabSize()
	m, err := transformer.New(cfg)
	if err != nil {
		return nil, err
	}
	switch m.Encoding.(type) {
	case posenc.Toeplitz, posenc.Matrix:
	default:
		return nil, fmt.Errorf("run: encoding %s of %s adds no bias to the logits", e.Model.PosEnc.Kind, dir)
	}
	if e.Model.PosEnc.PerLayer {
		return nil, fmt.Errorf("run: %s has one encoding per layer; LearnedBias reads the shared one", dir)
	}
	store := model.NewStore()
	if _, err := checkpoint.Load(store).Dir(checkpointDir(dir)).ExcludeAllParams().Done(); err != nil {
		return nil, fmt.Errorf("run: loading checkpoint of %s: %w", dir, err)
	}
	exec, err := model.NewExec(o.Backend, store, func(scope *model.Scope, x *Node) *Node {
		b := posenc.ComputeBias(scope.In("relpos"), x.Graph(), m.Encoding, n, dtypes.Float32)
		full := b.Matrix() // [H, n, n]
		return Add(full, ZerosLike(ReduceAllSum(x)))
	})
	if err != nil {
		return nil, err
	}
	out, err := exec.Exec(tensors.FromScalar(float32(0)))
	if err != nil {
		return nil, err
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	h := len(flat) / (n * n)
	res := make([][]float64, h)
	for hh := range h {
		res[hh] = make([]float64, n)
		for dist := range n {
			res[hh][dist] = float64(flat[hh*n*n+(n-1)*n+(n-1-dist)])
		}
	}
	return res, nil
}
