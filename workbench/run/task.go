package run

import (
	"fmt"
	"iter"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/datasets/batch"
	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/listops"
	"github.com/attnbench/attnbench/datasets/synthetic"
	"github.com/attnbench/attnbench/datasets/tokens"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/results"
)

// task is what the training loop needs of an experiment's data: batch k as a function of the
// seed and k (so a resumed run sees the batches it would have seen), the model's output and loss,
// and the evaluation at the end.
type task interface {
	// batches yields batch k, for k = start, start+1, ..., steps-1.
	batches(start, steps int) iter.Seq2[int, []*tensors.Tensor]
	// labels is how many of a batch's tensors, at the end, are labels; the rest are inputs.
	labels() int
	tokensPerStep() int
	output(m *transformer.Model, scope *model.Scope, tok *Node) *Node
	loss(labels, predictions []*Node) *Node
	evaluate(b compute.Backend, store *model.Store, m *transformer.Model) ([]results.Eval, error)
	close()
}

// newTask opens the data of a resolved, validated experiment.
func newTask(e experiment.Experiment, o Options) (task, error) {
	switch e.Data.Task {
	case experiment.TaskListOps:
		return newListOpsTask(e)
	case experiment.TaskRecall:
		return newRecallTask(e)
	}
	data, done, err := OpenData(e, o)
	if err != nil {
		return nil, err
	}
	t := &lmTask{e: e, data: data, done: done}
	if _, err := t.windows(0, 1); err != nil {
		done()
		return nil, err
	}
	return t, nil
}

// lmTask is next-token prediction on a corpus, evaluated by perplexity at several lengths.
type lmTask struct {
	e    experiment.Experiment
	data *tokens.Splits
	done func()
}

// windows are the training windows from batch start on, limit of them.
func (t *lmTask) windows(start, limit int) (*batch.Windows, error) {
	return batch.NewWindows(t.data.Split(corpus.Train), t.e.Data.Batch, t.e.Data.SeqLen,
		batch.WindowOptions{Name: t.data.Source + " train", Seed: t.e.Seed, Start: start, Limit: limit})
}

func (t *lmTask) batches(start, steps int) iter.Seq2[int, []*tensors.Tensor] {
	return func(yield func(int, []*tensors.Tensor) bool) {
		// Limit 1 past the end when every step is done (killed before the evaluation): Limit 0
		// would mean endless.
		w, err := t.windows(start, max(steps-start, 1))
		if err != nil { // newTask built the same windows; the loop reports the missing steps
			return
		}
		for k, b := range w.Batches() {
			if k >= steps {
				return
			}
			in, lab := b.Tensors()
			if !yield(k, []*tensors.Tensor{in, lab}) {
				return
			}
		}
	}
}

func (t *lmTask) labels() int        { return 1 }
func (t *lmTask) tokensPerStep() int { return t.e.Data.Batch * t.e.Data.SeqLen }
func (t *lmTask) close()             { t.done() }

func (t *lmTask) output(m *transformer.Model, scope *model.Scope, tok *Node) *Node {
	l, _ := m.Logits(scope, tok, transformer.ForwardOptions{})
	return l
}

func (t *lmTask) loss(labels, predictions []*Node) *Node {
	return ReduceAllMean(transformer.TokenLoss(predictions[0], labels[0]))
}

func (t *lmTask) evaluate(b compute.Backend, store *model.Store, m *transformer.Model) ([]results.Eval, error) {
	return Evaluate(b, store, m, t.data.Split(corpus.Test), t.e, t.data.Source+" test")
}

// listOpsTask is the LRA ListOps classifier: mean-pooled encoder over the tokens (padding masked),
// evaluated by accuracy on the validation and test expressions.
type listOpsTask struct {
	e                  experiment.Experiment
	train, valid, test *listops.Dataset
	majority           float64
	maxLen, batchSize  int
}

func newListOpsTask(e experiment.Experiment) (*listOpsTask, error) {
	tok, err := e.Data.ListOps.Tokenization()
	if err != nil {
		return nil, err
	}
	trainEx, validEx, testEx, err := listops.Generate(e.Data.ListOps.Generator())
	if err != nil {
		return nil, err
	}
	t := &listOpsTask{e: e, maxLen: e.Data.SeqLen, batchSize: e.Data.Batch}
	if t.train, err = listops.NewDataset("listops train", trainEx, tok, e.Data.Batch, e.Data.SeqLen, true, e.Seed, 0); err != nil {
		return nil, err
	}
	if t.valid, err = listops.NewDataset("listops valid", validEx, tok, e.Data.Batch, e.Data.SeqLen, false, 0, 1); err != nil {
		return nil, err
	}
	if t.test, err = listops.NewDataset("listops test", testEx, tok, e.Data.Batch, e.Data.SeqLen, false, 0, 1); err != nil {
		return nil, err
	}
	counts := make([]int, 10)
	for _, x := range trainEx {
		counts[x.Target]++
	}
	for _, n := range counts {
		t.majority = max(t.majority, float64(n)/float64(len(trainEx)))
	}
	return t, nil
}

func (t *listOpsTask) batches(start, steps int) iter.Seq2[int, []*tensors.Tensor] {
	return func(yield func(int, []*tensors.Tensor) bool) {
		for k := start; k < steps; k++ {
			in, tg := t.train.At(k)
			if !yield(k, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, len(tg), t.maxLen),
				tensors.FromFlatDataAndDimensions(tg, len(tg))}) {
				return
			}
		}
	}
}

func (t *listOpsTask) labels() int        { return 1 }
func (t *listOpsTask) tokensPerStep() int { return t.batchSize * t.maxLen }
func (t *listOpsTask) close()             {}

func (t *listOpsTask) output(m *transformer.Model, scope *model.Scope, tok *Node) *Node {
	mask := NotEqual(tok, ScalarZero(tok.Graph(), tok.DType()))
	l, _ := m.ClassLogits(scope, tok, transformer.ForwardOptions{Mask: mask})
	return l
}

func (t *listOpsTask) loss(labels, predictions []*Node) *Node {
	return ReduceAllMean(transformer.TokenLoss(ExpandAxes(predictions[0], 1), ExpandAxes(ExpandAxes(labels[0], -1), -1)))
}

func (t *listOpsTask) evaluate(b compute.Backend, store *model.Store, m *transformer.Model) ([]results.Eval, error) {
	exec, err := model.NewExec(b, store, func(scope *model.Scope, tok *Node) *Node {
		return ConvertDType(ArgMax(t.output(m, scope, tok), -1), dtypes.Int32)
	})
	if err != nil {
		return nil, err
	}
	var out []results.Eval
	for _, split := range []struct {
		name string
		ds   *listops.Dataset
	}{{"valid", t.valid}, {"test", t.test}} {
		right, total := 0, 0
		for in, tg := range split.ds.Batches() {
			res, err := exec.Exec(tensors.FromFlatDataAndDimensions(in, len(tg), t.maxLen))
			if err != nil {
				return nil, fmt.Errorf("run: listops evaluation: %w", err)
			}
			for i, p := range tensors.MustCopyFlatData[int32](res[0]) {
				if p == tg[i] {
					right++
				}
				total++
			}
		}
		out = append(out, results.Eval{Split: split.name, Length: t.maxLen, Sequences: total,
			Accuracy: float64(right) / float64(total), Baseline: t.majority})
	}
	return out, nil
}

// recallTask is associative recall: the causal model predicts the value of the queried key at
// the last position; the loss and the accuracy count that position only.
type recallTask struct {
	e    experiment.Experiment
	task *synthetic.Recall
}

// recallTestSeed separates the evaluation draws from the training draws.
const recallTestSeed = 1 << 40

func newRecallTask(e experiment.Experiment) (*recallTask, error) {
	r := e.Data.Recall
	task, err := synthetic.NewRecall(r.Pairs, r.Keys, r.Values)
	if err != nil {
		return nil, err
	}
	return &recallTask{e: e, task: task}, nil
}

func recallTensors(b *synthetic.Batch) []*tensors.Tensor {
	return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(b.Inputs, b.Size, b.Len),
		tensors.FromFlatDataAndDimensions(b.Labels, b.Size, b.Len, 1),
		tensors.FromFlatDataAndDimensions(b.Weights, b.Size, b.Len)}
}

func (t *recallTask) batches(start, steps int) iter.Seq2[int, []*tensors.Tensor] {
	return func(yield func(int, []*tensors.Tensor) bool) {
		for k := start; k < steps; k++ {
			if !yield(k, recallTensors(t.task.Batch(t.e.Seed, k, t.e.Data.Batch))) {
				return
			}
		}
	}
}

func (t *recallTask) labels() int        { return 2 }
func (t *recallTask) tokensPerStep() int { return t.e.Data.Batch * t.task.Len() }
func (t *recallTask) close()             {}

func (t *recallTask) output(m *transformer.Model, scope *model.Scope, tok *Node) *Node {
	l, _ := m.Logits(scope, tok, transformer.ForwardOptions{})
	return l
}

// loss is the mean token loss over the scored positions: sum_t w_t loss_t / sum_t w_t.
func (t *recallTask) loss(labels, predictions []*Node) *Node {
	w := ConvertDType(labels[1], predictions[0].DType())
	l := Mul(transformer.TokenLoss(predictions[0], labels[0]), w)
	return Div(ReduceAllSum(l), Max(ReduceAllSum(w), OnesLike(ReduceAllSum(w))))
}

// evaluate measures accuracy at each of the experiment's eval pairs on Eval.Sequences batches
// drawn apart from the training batches.
func (t *recallTask) evaluate(b compute.Backend, store *model.Store, m *transformer.Model) ([]results.Eval, error) {
	exec, err := model.NewExec(b, store, func(scope *model.Scope, tok *Node) *Node {
		return ConvertDType(ArgMax(t.output(m, scope, tok), -1), dtypes.Int32)
	})
	if err != nil {
		return nil, err
	}
	r := t.e.Data.Recall
	var out []results.Eval
	for _, pairs := range r.EvalPairs {
		task, err := synthetic.NewRecall(pairs, r.Keys, r.Values)
		if err != nil {
			return nil, err
		}
		ev := results.Eval{Split: "test", Length: task.Len(), Baseline: 1 / float64(r.Values)}
		if err := m.ValidateSeqLen(task.Len()); err != nil {
			ev.Skipped = err.Error()
			out = append(out, ev)
			continue
		}
		right := 0
		for k := range t.e.Eval.Sequences {
			bt := task.Batch(t.e.Seed+recallTestSeed, k, t.e.Data.Batch)
			res, err := exec.Exec(tensors.FromFlatDataAndDimensions(bt.Inputs, bt.Size, bt.Len))
			if err != nil {
				return nil, fmt.Errorf("run: recall evaluation at %d pairs: %w", pairs, err)
			}
			pred := tensors.MustCopyFlatData[int32](res[0])
			for i, w := range bt.Weights {
				if w > 0 {
					ev.Sequences++
					if pred[i] == bt.Labels[i] {
						right++
					}
				}
			}
		}
		ev.Accuracy = float64(right) / float64(ev.Sequences)
		out = append(out, ev)
	}
	return out, nil
}
