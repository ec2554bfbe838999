// Package training trains attnbench models on token streams.
package training

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/attnbench/attnbench/gomlxattn/transformer"
)

// LMOptions configure TrainLM.
type LMOptions struct {
	Steps    int     // optimizer steps, >= 1
	Batch    int     // sequences per step, >= 1
	SeqLen   int     // tokens per sequence, >= 1
	LR       float64 // AdamW learning rate, in (0, 1]
	ClipNorm float64 // global gradient-norm clip; 0 = none
	Seed     uint64  // initialisation and batch order
	LogEvery int     // print a line every LogEvery steps to Log; 0 = never
	Log      io.Writer
	// ValidFraction of the tokens (the tail) held out for the final validation loss, in [0, 0.5].
	ValidFraction float64
}

// LMResult summarises a run.
type LMResult struct {
	Losses    []float64 // training loss per step
	ValidLoss float64   // mean next-token loss on held-out windows, nats
	Unigram   float64   // entropy of the training unigram distribution, nats (baseline)
	TokensPS  float64   // training tokens per second
}

// Validate checks the options against the corpus size.
func (o LMOptions) Validate(numTokens int) error {
	switch {
	case o.Steps < 1:
		return fmt.Errorf("training: Steps = %d is invalid, want >= 1", o.Steps)
	case o.Batch < 1:
		return fmt.Errorf("training: Batch = %d is invalid, want >= 1", o.Batch)
	case o.SeqLen < 1:
		return fmt.Errorf("training: SeqLen = %d is invalid, want >= 1", o.SeqLen)
	case !(o.LR > 0 && o.LR <= 1):
		return fmt.Errorf("training: LR = %v is invalid, want in (0, 1]", o.LR)
	case o.ClipNorm < 0 || math.IsNaN(o.ClipNorm):
		return fmt.Errorf("training: ClipNorm = %v is invalid, want 0 (none) or > 0", o.ClipNorm)
	case !(o.ValidFraction >= 0 && o.ValidFraction <= 0.5):
		return fmt.Errorf("training: ValidFraction = %v is invalid, want in [0, 0.5]", o.ValidFraction)
	}
	nTrain := int(float64(numTokens) * (1 - o.ValidFraction))
	if nTrain < o.SeqLen+1 {
		return fmt.Errorf("training: corpus has %d training tokens, want at least SeqLen+1 = %d", nTrain, o.SeqLen+1)
	}
	return nil
}

// TrainLM trains the language model cfg on byte tokens and returns the losses; it validates
// everything before building a graph.
func TrainLM(b compute.Backend, cfg transformer.Config, tokens []int32, o LMOptions) (*LMResult, error) {
	if err := o.Validate(len(tokens)); err != nil {
		return nil, err
	}
	m, err := transformer.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.ValidateSeqLen(o.SeqLen); err != nil {
		return nil, err
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= cfg.Vocab {
			return nil, fmt.Errorf("training: token %d at position %d is outside the vocabulary [0, %d)", t, i, cfg.Vocab)
		}
	}
	nTrain := int(float64(len(tokens)) * (1 - o.ValidFraction))
	trainTok, validTok := tokens[:nTrain], tokens[nTrain:]

	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(o.Seed)+1)
	store.SetParam(optimizer.ParamLearningRate, o.LR)
	var opt optimizer.Interface = optimizer.Adam().WeightDecay(0.01).Done()
	if o.ClipNorm > 0 {
		opt = ClipGlobalNorm(opt, o.ClipNorm)
	}
	modelFn := func(scope *model.Scope, tok *Node) *Node {
		l, _ := m.Logits(scope, tok, transformer.ForwardOptions{})
		return l
	}
	tr := train.NewTrainer(b, store, modelFn, loss.SparseCategoricalCrossEntropyLogits, opt, nil, nil)
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	res := &LMResult{Unigram: unigramEntropy(trainTok, cfg.Vocab)}
	start := time.Now()
	for step := range o.Steps {
		in, lab := windows(rng, trainTok, o.Batch, o.SeqLen)
		metrics, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{in}, Labels: []*tensors.Tensor{lab}})
		if err != nil {
			return res, fmt.Errorf("training: step %d: %w", step, err)
		}
		if _, err := RedrawIfDue(m.Mechanism, store, step+1); err != nil {
			return res, fmt.Errorf("training: step %d: %w", step, err)
		}
		l := float64(tensors.ToScalar[float32](metrics[0]))
		res.Losses = append(res.Losses, l)
		if o.LogEvery > 0 && o.Log != nil && ((step+1)%o.LogEvery == 0 || step == 0) {
			tps := float64((step+1)*o.Batch*o.SeqLen) / time.Since(start).Seconds()
			fmt.Fprintf(o.Log, "step %5d  loss %.4f  tokens/s %.0f\n", step+1, l, tps)
		}
	}
	res.TokensPS = float64(o.Steps*o.Batch*o.SeqLen) / time.Since(start).Seconds()
	res.ValidLoss = math.NaN()
	if len(validTok) > o.SeqLen {
		vrng := rand.New(rand.NewPCG(o.Seed, 0xe7a1))
		evalLoss := model.MustNewExec1(b, store, func(scope *model.Scope, tok, lab *Node) *Node {
			return ReduceAllMean(loss.SparseCategoricalCrossEntropyLogits([]*Node{lab}, []*Node{modelFn(scope, tok)}))
		})
		sum := 0.0
		const evalBatches = 4
		for range evalBatches {
			in, lab := windows(vrng, validTok, o.Batch, o.SeqLen)
			out, err := evalLoss.Call(in, lab)
			if err != nil {
				return res, fmt.Errorf("training: validation: %w", err)
			}
			sum += float64(tensors.ToScalar[float32](out))
		}
		res.ValidLoss = sum / evalBatches
	}
	return res, nil
}

// windows draws batch windows of length n at random offsets: inputs [B, n], labels [B, n, 1].
func windows(rng *rand.Rand, tok []int32, batch, n int) (*tensors.Tensor, *tensors.Tensor) {
	in, lab := make([]int32, batch*n), make([]int32, batch*n)
	for b := range batch {
		s := rng.IntN(len(tok) - n)
		copy(in[b*n:(b+1)*n], tok[s:s+n])
		copy(lab[b*n:(b+1)*n], tok[s+1:s+n+1])
	}
	return tensors.FromFlatDataAndDimensions(in, batch, n), tensors.FromFlatDataAndDimensions(lab, batch, n, 1)
}

// unigramEntropy is -sum p log p of the token frequencies, in nats.
func unigramEntropy(tok []int32, vocab int) float64 {
	counts := make([]float64, vocab)
	for _, t := range tok {
		counts[t]++
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := c / float64(len(tok))
			h -= p * math.Log(p)
		}
	}
	return h
}
