package run

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/datasets/batch"
	"github.com/attnbench/attnbench/datasets/tokens"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/results"
)

// Evaluate computes perplexity at every length of e.Eval on seq, plus the windowed variant when
// asked. A length the model cannot take (an absolute encoding's maximum) or the split cannot fill
// is reported as skipped.
func Evaluate(b compute.Backend, store *model.Store, m *transformer.Model, seq tokens.Seq, e experiment.Experiment, name string) ([]results.Eval, error) {
	var out []results.Eval
	for _, windowed := range []bool{false, true} {
		if windowed && !e.Eval.Windowed {
			continue
		}
		window := 0
		if windowed {
			window = e.Data.SeqLen
		}
		exec, err := model.NewExec(b, store, func(scope *model.Scope, tok, lab *Node) *Node {
			logits, _ := m.Logits(scope, tok, transformer.ForwardOptions{Window: window})
			return transformer.TokenLoss(logits, lab)
		})
		if err != nil {
			return nil, fmt.Errorf("run: evaluation: %w", err)
		}
		for _, L := range e.Eval.Lengths {
			r := results.Eval{Length: L, Windowed: windowed}
			if err := m.ValidateSeqLen(L); err != nil {
				r.Skipped = err.Error()
				out = append(out, r)
				continue
			}
			if need, budget := m.StepBytes(e.Eval.Batch, L, false), e.BudgetBytes(); need > budget {
				r.Skipped = fmt.Sprintf("length %d needs about %.0f MB, above the memory budget of %.0f MB (memory_budget_mb)", L, need/(1<<20), budget/(1<<20))
				out = append(out, r)
				continue
			}
			n := e.Eval.Sequences
			if n == 0 { // enough text for a stable estimate: about Eval.Tokens tokens, or the whole split
				n = (e.Eval.TokensOrDefault() + L - 1) / L
			}
			seqs, err := batch.NewSequences(seq, L, n, e.Eval.Batch, name)
			if err != nil {
				r.Skipped = err.Error()
				out = append(out, r)
				continue
			}
			pos := make([]float64, L)
			var perSeq []float64 // mean token loss of each sequence
			for bt := range seqs.Batches() {
				in, lab := bt.Tensors()
				res, err := exec.Exec(in, lab)
				if err != nil {
					return nil, fmt.Errorf("run: evaluation at length %d: %w", L, err)
				}
				flat := tensors.MustCopyFlatData[float32](res[0])
				for row := range len(flat) / L {
					sum := 0.0
					for t, v := range flat[row*L : (row+1)*L] {
						pos[t] += float64(v)
						sum += float64(v)
					}
					perSeq = append(perSeq, sum/float64(L))
				}
			}
			total := 0.0
			for t := range pos {
				pos[t] /= float64(seqs.Count())
				total += pos[t]
			}
			r.Sequences = seqs.Count()
			r.Loss = total / float64(L)
			r.Perplexity = math.Exp(r.Loss)
			r.PositionLoss = pos
			_, r.LossSE = results.MeanSE(perSeq)
			r.PerplexityLow, r.PerplexityHigh = math.Exp(r.Loss-1.96*r.LossSE), math.Exp(r.Loss+1.96*r.LossSE)
			out = append(out, r)
		}
	}
	return out, nil
}

// SaveEval writes eval.json and eval.csv of a run directory.
func SaveEval(dir string, ev []results.Eval) error { return results.WriteEval(dir, ev) }

// EvaluateDir evaluates the last checkpoint of the run in dir with ev (the run's own evaluation
// settings when ev has no lengths) and writes eval.json and eval.csv.
func EvaluateDir(dir string, ev experiment.Eval, o Options) ([]results.Eval, error) {
	r, err := Restore(dir, nil)
	if err != nil {
		return nil, err
	}
	res, err := EvaluateRestored(r, ev, o)
	if err != nil {
		return nil, err
	}
	return res, SaveEval(dir, res)
}

// EvaluateRestored evaluates a restored run with ev (the run's own evaluation settings where ev
// leaves a field zero), without writing anything.
func EvaluateRestored(r *Restored, ev experiment.Eval, o Options) ([]results.Eval, error) {
	e := r.Exp
	if len(ev.Lengths) > 0 {
		e.Eval.Lengths = ev.Lengths
	}
	if ev.Sequences > 0 {
		e.Eval.Sequences = ev.Sequences
	}
	if ev.Tokens > 0 {
		e.Eval.Sequences, e.Eval.Tokens = 0, ev.Tokens
	}
	if ev.Batch > 0 {
		e.Eval.Batch = ev.Batch
	}
	e.Eval.Windowed = e.Eval.Windowed || ev.Windowed
	t, err := newTask(e, o)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return t.evaluate(o.Backend, r.Store, r.Model)
}

// UnigramEntropy is -sum p log p of the token frequencies of seq, in nats: the loss of the best
// model that ignores context, the baseline a trained model must beat.
func UnigramEntropy(seq tokens.Seq, vocab int) float64 {
	counts := make([]float64, vocab)
	buf := make([]int32, 1<<16)
	for off := 0; off < seq.Len(); off += len(buf) {
		chunk := buf[:min(len(buf), seq.Len()-off)]
		seq.Read(chunk, off)
		for _, t := range chunk {
			if t >= 0 && int(t) < vocab {
				counts[t]++
			}
		}
	}
	h := 0.0
	n := float64(seq.Len())
	for _, c := range counts {
		if c > 0 {
			h -= c / n * math.Log(c/n)
		}
	}
	return h
}
