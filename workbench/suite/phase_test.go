package suite

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/attnbench/attnbench/internal/testrun"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/sweep"
)

// The phase sweep at every scale: four variants (PRF and NPRF, without and with RPE), the
// same tokens per step at every length, and the written file loads to the same runs.
func TestPhaseSweepAtEveryScale(t *testing.T) {
	for _, s := range Scales {
		f, err := PhaseSweep(s, t.TempDir(), 0)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		runs, _ := f.Runs()
		lrs, lens, seeds := len(f.Axis("optim.lr").Values), len(f.Axis("data.seq_len").Values), len(f.Axis("seed").Values)
		if len(f.Variants) != 4 || len(runs) != 4*lrs*lens*seeds || lrs < 2 || lens < 2 {
			t.Fatalf("%s: %d variants, %d runs for %d x %d x %d", s, len(f.Variants), len(runs), lrs, lens, seeds)
		}
		if s == Full && (seeds < 4 || lens < 3 || lrs < 3) {
			t.Errorf("full scale: %d seeds, %d lengths, %d learning rates", seeds, lens, lrs)
		}
		tokens := runs[0].Experiment.Data.SeqLen * runs[0].Experiment.Data.Batch
		kinds := map[string]bool{}
		for _, r := range runs {
			e := r.Experiment
			if e.Data.SeqLen*e.Data.Batch != tokens || len(e.Eval.Lengths) != 1 || e.Eval.Lengths[0] != e.Data.SeqLen {
				t.Errorf("%s %s: seq_len %d x batch %d, eval %v; want %d tokens per step, evaluated at the training length", s, r.Name, e.Data.SeqLen, e.Data.Batch, e.Eval.Lengths, tokens)
			}
			kinds[e.Model.Attention+"/"+e.Model.PosEnc.Kind+"/"+fmt.Sprint(e.Model.AttentionParams["normalize"])] = true
		}
		for _, k := range []string{"performer/none/0", "performer/none/1", "kernelized_rpe/luo_rpe/0", "kernelized_rpe/luo_rpe/1"} {
			if !kinds[k] {
				t.Errorf("%s: no %s runs in %v", s, k, kinds)
			}
		}
	}
	f, err := PhaseSweep(Quick, "r", 5)
	if err != nil || len(f.Axis("seed").Values) != 5 || f.RootDir() != filepath.Join("r", "phase-quick") {
		t.Fatalf("seeds 5: %v, %v", f, err)
	}
}

// The sweep file the recipe writes loads to the recipe's runs, directories included.
func TestPhaseWritesItsSweepFile(t *testing.T) {
	dir := t.TempDir()
	env := Env{Backend: nil, Scale: Tiny, Runs: dir}
	f, err := PhaseSweep(env.Scale, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	env.Backend = testrun.Backend(t)
	env.RunSweep = func(file string, g *sweep.File) error {
		calls++
		h, err := sweep.Load(file)
		if err != nil {
			return err
		}
		a, _ := h.Runs()
		b, _ := f.Runs()
		if len(a) != len(b) {
			t.Fatalf("%d runs in the file, %d in the recipe", len(a), len(b))
		}
		for i := range a {
			if a[i].Dir != b[i].Dir || a[i].Experiment.Optim.LR != b[i].Experiment.Optim.LR || a[i].Experiment.Data.Batch != b[i].Experiment.Data.Batch {
				t.Errorf("run %d: %s %+v against %s %+v", i, a[i].Dir, a[i].Experiment.Optim, b[i].Dir, b[i].Experiment.Optim)
			}
		}
		for i := range a {
			if _, err := sweep.RunIndex(h, i, env.options()); err != nil {
				return err
			}
		}
		return nil
	}
	if err := Phase(env); err != nil {
		t.Fatal(err)
	}
	// In a notebook (Env.Progress) one bar counts the steps of every run.
	env2 := Env{Backend: env.Backend, Scale: Tiny, Runs: t.TempDir()}
	var bars, last int
	env2.Progress = func(name string, steps int) func(results.Metric) {
		bars++
		return func(m results.Metric) { last = m.Step }
	}
	if err := Phase(env2); err != nil {
		t.Fatal(err)
	}
	if runs, _ := f.Runs(); bars != 1 || last != len(runs)*runs[0].Experiment.Optim.Steps {
		t.Errorf("%d progress bars, last step %d, want 1 bar to %d", bars, last, len(runs)*runs[0].Experiment.Optim.Steps)
	}
	// Everything finished: a second call runs nothing.
	if err := Phase(env); err != nil || calls != 1 {
		t.Fatalf("second call: %v, %d calls to RunSweep", err, calls)
	}
	rows, err := sweep.Collect(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.State != "done" && r.State != "diverged" {
			t.Errorf("%s: %s", r.Name, r.State)
		}
	}
}
