package run

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/attnbench/attnbench/datasets"
	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
)

// Row is one run of a sweep in the results table.
type Row struct {
	Name       string
	Seed       uint64
	Dir        string
	State      string // done, diverged, or failed
	Step       int
	FinalLoss  float64
	Reason     string
	Perplexity map[int]float64 // by evaluation length (not windowed)
}

// Seeds returns copies of e with seeds first, first+1, ..., each named name-s<seed>.
func Seeds(e experiment.Experiment, first uint64, n int) []experiment.Experiment {
	out := make([]experiment.Experiment, n)
	for i := range out {
		out[i] = e
		out[i].Seed = first + uint64(i)
		out[i].Name = fmt.Sprintf("%s-s%d", e.Name, out[i].Seed)
	}
	return out
}

// Sweep trains each experiment in root/<name> (resuming finished or interrupted ones) and collects
// one row per run. A diverged run or a run that fails does not stop the sweep: it is recorded.
func Sweep(exps []experiment.Experiment, root string, o Options) ([]Row, error) {
	seen := map[string]bool{}
	for _, e := range exps {
		if seen[e.Name] {
			return nil, fmt.Errorf("run: sweep has two experiments named %q; names choose the run directories", e.Name)
		}
		seen[e.Name] = true
	}
	var rows []Row
	for _, e := range exps {
		dir := filepath.Join(root, e.Name)
		row := Row{Name: e.Name, Seed: e.Seed, Dir: dir, Perplexity: map[int]float64{}}
		res, err := Train(e, dir, o)
		switch {
		case err != nil:
			row.State, row.Reason = "failed", err.Error()
		default:
			row.State, row.Step, row.Reason, row.FinalLoss = res.Status.State, res.Status.Step, res.Status.Reason, res.FinalLoss
			for _, ev := range res.Eval {
				if !ev.Windowed && ev.Skipped == "" {
					row.Perplexity[ev.Length] = ev.Perplexity
				}
			}
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%s: %s at step %d %s\n", row.Name, row.State, row.Step, row.Reason)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// WriteTable writes rows as CSV: name, seed, state, step, final loss, reason, then perplexity at
// each length found in any row.
func WriteTable(path string, rows []Row) error {
	var lengths []int
	has := map[int]bool{}
	for _, r := range rows {
		for l := range r.Perplexity {
			if !has[l] {
				has[l] = true
				lengths = append(lengths, l)
			}
		}
	}
	slices.Sort(lengths)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"name", "seed", "state", "step", "final_loss", "reason"}
	for _, l := range lengths {
		head = append(head, fmt.Sprintf("ppl@%d", l))
	}
	w.Write(head)
	for _, r := range rows {
		rec := []string{r.Name, strconv.FormatUint(r.Seed, 10), r.State, strconv.Itoa(r.Step), strconv.FormatFloat(r.FinalLoss, 'g', 6, 64), r.Reason}
		for _, l := range lengths {
			if p, ok := r.Perplexity[l]; ok {
				rec = append(rec, strconv.FormatFloat(p, 'g', 6, 64))
			} else {
				rec = append(rec, "")
			}
		}
		w.Write(rec)
	}
	w.Flush()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeAtomic(path, buf.Bytes())
}

// EvaluateDir evaluates the last checkpoint of the run in dir with ev (the run's own evaluation
// settings when ev has no lengths) and writes eval.json and eval.csv.
func EvaluateDir(dir string, ev experiment.Eval, o Options) ([]EvalResult, error) {
	res, err := EvaluateWith(dir, ev, nil, o)
	if err != nil {
		return nil, err
	}
	return res, SaveEval(dir, res)
}

// EvaluateWith evaluates the last checkpoint of the run in dir with the model changed by modify
// (nil for none), without writing anything: for example the conversion experiment of Luo et al.
// 2021, softmax-trained weights evaluated with random-feature attention. Variables the new model
// has and the checkpoint lacks (random projections) are initialized as in a new model.
func EvaluateWith(dir string, ev experiment.Eval, modify func(*transformer.Config), o Options) ([]EvalResult, error) {
	e, err := experiment.Load(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	if len(ev.Lengths) > 0 {
		e.Eval.Lengths = ev.Lengths
	}
	if ev.Sequences > 0 {
		e.Eval.Sequences = ev.Sequences
	}
	if ev.Batch > 0 {
		e.Eval.Batch = ev.Batch
	}
	e.Eval.Windowed = e.Eval.Windowed || ev.Windowed
	step, err := prepareCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	if step == 0 {
		return nil, fmt.Errorf("run: %s has no checkpoint to evaluate", dir)
	}
	data := o.Data
	if data == nil {
		d, err := datasets.Open(e.Data.Corpus, datasets.Options{Tokenizer: e.Data.Tokenizer, Format: e.Data.Format})
		if err != nil {
			return nil, err
		}
		defer d.Close()
		data = d
	}
	cfg := e.Model
	cfg.Vocab = data.Vocab
	if modify != nil {
		modify(&cfg)
	}
	m, err := transformer.New(cfg)
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(e.Seed)+1)
	if _, err := checkpoint.Load(store).Dir(checkpointDir(dir)).ExcludeAllParams().Done(); err != nil {
		return nil, fmt.Errorf("run: loading checkpoint of %s: %w", dir, err)
	}
	return Evaluate(o.Backend, store, m, data.Split(corpus.Test), e, data.Source+" test")
}
