package suite

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/attnbench/attnbench/internal/atomicfile"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/sweep"
)

// phaseYAML is the full-scale phase sweep; from the repository root it is also a sweep file for
// `workbench sweep` (Slurm, Kubernetes, local processes).
//
//go:embed phase.yaml
var phaseYAML []byte

// PhaseSweepFile is the full-scale phase sweep's file, under the repository root.
const PhaseSweepFile = "workbench/suite/phase.yaml"

// PhaseSweep is the phase recipe's sweep at scale s with its runs under runs/phase-<s>: the
// grid of phase.yaml at full scale, fewer learning rates, lengths, seeds and steps below it.
// seeds > 0 replaces the number of seeds.
func PhaseSweep(s Scale, runs string, seeds int) (*sweep.File, error) {
	f, err := sweep.Parse(phaseYAML, ".yaml", ".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PhaseSweepFile, err)
	}
	f.Name, f.Root = "phase-"+string(s), runs
	lr, length, seed := f.Axis("optim.lr"), f.Axis("data.seq_len"), f.Axis("seed")
	if lr == nil || length == nil || seed == nil {
		return nil, fmt.Errorf("%s: want axes optim.lr, data.seq_len and seed", PhaseSweepFile)
	}
	switch s {
	case Tiny:
		lr.Values = []any{0.01, 0.3}
		length.Values, length.With = []any{8, 16}, map[string][]any{"data.batch": {4, 2}, "eval.lengths": {[]any{8}, []any{16}}}
		seed.Values = []any{1}
		err = set(f, "model.width", 16, "optim.steps", 4, "checkpoint_every", 2)
	case Quick:
		lr.Values = []any{0.03, 0.3}
		length.Values, length.With = []any{64, 128}, map[string][]any{"data.batch": {8, 4}, "eval.lengths": {[]any{64}, []any{128}}}
		seed.Values = []any{1, 2}
		err = set(f, "optim.steps", 20, "checkpoint_every", 10)
	}
	if err != nil {
		return nil, err
	}
	if seeds > 0 {
		seed.Values = nil
		for i := range seeds {
			seed.Values = append(seed.Values, i+1)
		}
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("sweep %s: %w", f.Name, err)
	}
	return f, nil
}

func set(f *sweep.File, fieldValues ...any) error {
	for i := 0; i < len(fieldValues); i += 2 {
		if err := f.Set(fieldValues[i].(string), fieldValues[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// Phase maps where kernelized attention is unstable: PRF attention without and with RPE (FFT),
// unnormalized and normalized (NPRF), over peak learning rate x training length x seeds, and
// draws the fraction of diverged runs as heatmaps side by side (Luo et al. 2021, Sec. 4). The
// sweep file is written to runs/phase-<scale>/sweep.json; Env.RunSweep (the workbench command:
// several processes at once) or this process runs what is unfinished. Figure: phase.
func Phase(env Env) error {
	root, err := env.root("phase")
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(env.Runs)
	if err != nil {
		return err
	}
	f, err := PhaseSweep(env.Scale, abs, env.Seeds)
	if err != nil {
		return err
	}
	file := filepath.Join(root, "sweep.json")
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(file, append(b, '\n')); err != nil {
		return err
	}
	runs, _ := f.Runs()
	todo := sweep.Unfinished(runs)
	env.printf("sweep %s: %d runs, %d to run; sweep file %s\n", f.Name, len(runs), len(todo), file)
	switch {
	case len(todo) == 0:
	case env.RunSweep != nil:
		if err := env.RunSweep(file, f); err != nil {
			return err
		}
	default:
		if err := runInProcess(env, f, runs, todo); err != nil {
			return err
		}
	}
	rows, err := sweep.Collect(f)
	if err != nil {
		return err
	}
	if err := sweep.WriteTable(filepath.Join(root, "table.csv"), rows); err != nil {
		return err
	}
	printPhase(env, f, rows)
	figs, err := sweep.PhaseFigures(f, rows)
	if err != nil {
		return err
	}
	for _, nf := range figs {
		if err := env.emit(nf.Name, nf.Figure, nil); err != nil {
			return err
		}
	}
	return nil
}

// runInProcess trains the runs todo one after another: under one progress bar for the whole
// sweep (a notebook's), or with one line per run.
func runInProcess(env Env, f *sweep.File, runs []sweep.Run, todo []int) error {
	var bar func(results.Metric)
	if env.Progress != nil {
		total := 0
		for _, i := range todo {
			total += runs[i].Experiment.Optim.Steps
		}
		bar = env.Progress("sweep "+f.Name, total)
	}
	offset := 0
	for _, i := range todo {
		r := runs[i]
		o := env.options()
		if bar != nil {
			off := offset
			o.OnStep = func(m results.Metric) { m.Step += off; bar(m) }
		}
		res, err := sweep.RunIndex(f, i, o)
		if err != nil {
			return fmt.Errorf("run %s: %w", r.Name, err)
		}
		offset += r.Experiment.Optim.Steps
		if bar == nil || res.Status.State != "done" {
			env.printf("[%d/%d] %-36s %-8s at step %d\n", i, len(runs)-1, r.Name, res.Status.State, res.Status.Step)
		}
	}
	return nil
}

// printPhase prints diverged/runs per variant, learning rate and length.
func printPhase(env Env, f *sweep.File, rows []sweep.Row) {
	type key struct{ v, x, y string }
	byKey := map[key]sweep.Cell{}
	var lrs, lengths []string
	for _, c := range sweep.Phase(rows, "optim.lr", "data.seq_len") {
		x, y := fmt.Sprint(c.X), fmt.Sprint(c.Y)
		byKey[key{c.Variant, x, y}] = c
		if !slices.Contains(lrs, x) {
			lrs = append(lrs, x)
		}
		if !slices.Contains(lengths, y) {
			lengths = append(lengths, y)
		}
	}
	env.printf("diverged / runs (columns: peak learning rate %v)\n", lrs)
	for _, v := range f.Variants {
		total, div := 0, 0
		for _, y := range lengths {
			env.printf("%-10s L=%-5s", v.Name, y)
			for _, x := range lrs {
				c, ok := byKey[key{v.Name, x, y}]
				if !ok {
					env.printf("    -  ")
					continue
				}
				env.printf("  %2d/%-2d", c.Diverged, c.Runs)
				total, div = total+c.Runs, div+c.Diverged
			}
			env.printf("\n")
		}
		env.printf("%-10s all: %d/%d diverged\n", v.Name, div, total)
	}
}
