package run

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

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
				if !ev.Windowed && ev.Skipped == "" && !ev.IsAccuracy() {
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
