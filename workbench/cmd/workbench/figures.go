package main

import (
	"github.com/attnbench/attnbench/workbench/inspect"
	"github.com/attnbench/attnbench/workbench/results"

	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/approx"
	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/run"
	"github.com/attnbench/attnbench/workbench/speed"
)

// figureScale sets the size of the reproduction set.
type figureScale struct {
	steps, seeds, seqLen, width int
	benchLens                   []int
	encodings                   []string
}

var scales = map[string]figureScale{
	"tiny":  {steps: 6, seeds: 2, seqLen: 16, width: 16, benchLens: []int{16, 32}, encodings: []string{"kerple_log", "alibi"}},
	"quick": {steps: 150, seeds: 3, seqLen: 64, width: 64, benchLens: []int{128, 256, 512, 1024}, encodings: []string{"kerple_log", "kerple_power", "alibi", "t5", "rotary", "sinusoidal"}},
	"full":  {steps: 1500, seeds: 5, seqLen: 128, width: 128, benchLens: []int{256, 512, 1024, 2048, 4096}, encodings: []string{"kerple_log", "kerple_power", "alibi", "t5", "rotary", "sinusoidal"}},
}

func figuresCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("figures", stderr)
	out := fs.String("out", "figures", "directory for the exported figures")
	runsDir := fs.String("runs", "runs/figures", "directory for the runs and result tables")
	scale := fs.String("scale", "quick", "size of the set: tiny (seconds), quick (minutes), full (hours)")
	corpusName := fs.String("corpus", "code", "corpus of the language-model runs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sc, ok := scales[*scale]
	if !ok {
		return fmt.Errorf("figures: -scale %q is unknown, valid scales: tiny, quick, full", *scale)
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, choice.String())
	opts := run.Options{Backend: choice.Backend, Progress: stdout}
	base := experiment.Experiment{
		Model: transformer.Config{Width: sc.width, Heads: 4, Layers: 2},
		Data:  experiment.Data{Corpus: *corpusName, SeqLen: sc.seqLen, Batch: 16},
		Optim: experiment.Optim{Steps: sc.steps, LR: 3e-3},
		Eval:  experiment.Eval{Sequences: 4, Batch: 1},
	}

	// Stability (Luo et al. 2021): kernelized attention without and with RPE, several seeds, at a
	// learning rate high enough to stress training.
	var exps []experiment.Experiment
	for _, v := range []struct {
		name string
		attn string
		pe   string
	}{{"performer", "performer", "none"}, {"performer+rpe", "kernelized_rpe", "luo_rpe"}} {
		e := base
		e.Name = v.name
		e.Model.Attention, e.Model.PosEnc = v.attn, posenc.Config{Kind: v.pe}
		e.Model.AttentionParams = params.Given{"m": 32}
		e.Optim.LR = 1e-2
		e.Eval.Lengths = []int{sc.seqLen}
		exps = append(exps, run.Seeds(e, 1, sc.seeds)...)
	}
	stabRoot := filepath.Join(*runsDir, "stability")
	rows, err := run.Sweep(exps, stabRoot, opts)
	if err != nil {
		return err
	}
	if err := run.WriteTable(filepath.Join(stabRoot, "table.csv"), rows); err != nil {
		return err
	}
	if _, err := plotRuns(results.RunDirs(stabRoot), *out, "", true, false); err != nil {
		return err
	}

	// Extrapolation (KERPLE): train at L, evaluate at L ... 16L.
	exps = nil
	for _, pe := range sc.encodings {
		e := base
		e.Name = pe
		e.Model.PosEnc = posenc.Config{Kind: pe}
		exps = append(exps, e)
	}
	e := base
	e.Name = "fftrpe+kerple_log"
	e.Model.Attention, e.Model.PosEnc = "kernelized_rpe", posenc.Config{Kind: "kerple_log"}
	e.Model.AttentionParams = params.Given{"m": 32}
	exps = append(exps, e)
	extRoot := filepath.Join(*runsDir, "extrapolation")
	rows, err = run.Sweep(exps, extRoot, opts)
	if err != nil {
		return err
	}
	if err := run.WriteTable(filepath.Join(extRoot, "table.csv"), rows); err != nil {
		return err
	}
	if _, err := plotRuns(results.RunDirs(extRoot), *out, "", false, true); err != nil {
		return err
	}

	// Learned kernel shapes of the KERPLE-log run, to four times the training length.
	bias, err := inspect.LearnedBias(filepath.Join(extRoot, "kerple_log"), 4*sc.seqLen, opts)
	if err != nil {
		return err
	}
	if f, err := plots.Kernels(results.HeadSeries(bias), "KERPLE-log: bias against distance"); err != nil {
		return err
	} else if _, err := f.Export(*out, "kernels-kerple_log"); err != nil {
		return err
	}

	// Random-feature approximation error against the number of features.
	acfg := approx.Config{N: 4 * sc.seqLen, Heads: 2, Dim: 32, Draws: 2, Scale: 0.6, Seed: 1}
	as, err := approx.Curves(choice.Backend, approx.Defaults(), func(v approx.Variant) []int {
		if v.SizeParam == "landmarks" {
			return []int{4, 8, 16}
		}
		return []int{8, 32, 128}
	}, acfg)
	if err != nil {
		return err
	}
	if f, err := plots.ApproxError(as, "Approximation error of the attention output"); err != nil {
		return err
	} else if _, err := f.Export(*out, "approximation"); err != nil {
		return err
	}

	// Speed and memory against n.
	rs, err := speed.Run(choice.Backend, speed.Config{Variants: speed.Defaults(true), Lengths: sc.benchLens, Causal: true,
		Backward: true, Reps: 1, TimeBudget: 2 * time.Minute, MemBudgetMB: 12000, Progress: stdout})
	if err != nil {
		return err
	}
	if err := results.WriteSpeed(filepath.Join(*runsDir, "speed.json"), rs); err != nil {
		return err
	}
	if _, err := plotSpeed(rs, *out, ""); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "figures in %s; runs and tables in %s\n", *out, *runsDir)
	return nil
}
