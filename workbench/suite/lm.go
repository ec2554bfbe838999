package suite

import (
	"fmt"
	"path/filepath"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/inspect"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/run"
)

// lm is the small causal language model every language-model recipe starts from: width 64 (16
// at tiny scale), 4 heads, 2 layers, byte-level, batch 16, AdamW at 3e-3.
func lm(s Scale, name, corpus string, seqLen, steps int) experiment.Experiment {
	return experiment.Experiment{
		Name:  name,
		Model: transformer.Config{Width: pick(s, 16, 64, 64), Heads: 4, Layers: 2, PosEnc: posenc.Config{Kind: "kerple_log"}},
		Data:  experiment.Data{Corpus: corpus, SeqLen: seqLen, Batch: 16},
		Optim: experiment.Optim{Steps: steps, LR: 3e-3},
		Eval:  experiment.Eval{Sequences: pick(s, 2, 8, 0)}, // full: about eval.tokens (16384) per length
		Seed:  1,
	}
}

// Quickstart trains the README's model (softmax attention with the KERPLE-log bias on prose),
// prints its perplexity from L to 16L and a sample, and draws its loss and the attention maps of
// its last layer. Figures: quickstart-loss, quickstart-attention-h<head>.
func Quickstart(env Env) error {
	root, err := env.root("quickstart")
	if err != nil {
		return err
	}
	steps := pick(env.Scale, 6, 150, 2000)
	e := lm(env.Scale, "quickstart", "prose", pick(env.Scale, 16, 64, 64), steps)
	dir := filepath.Join(root, e.Name)
	res, err := run.Train(e, dir, env.optionsFor(e.Name, steps))
	if err != nil {
		return err
	}
	env.printf("final training loss %.3f nats/byte after %d steps\n", res.FinalLoss, steps)
	for _, r := range res.Eval {
		env.printf("perplexity at %5d tokens: %.2f\n", r.Length, r.Perplexity)
	}
	f, err := plots.Stability([]results.Curve{results.CurveOf("softmax + KERPLE-log", e.Seed, res.Metrics)}, "Quickstart: training loss on prose")
	if err := env.emit("quickstart-loss", f, err); err != nil {
		return err
	}
	text, err := inspect.Sample(dir, "And God said", pick(env.Scale, 20, 300, 300), 0.7, 1, env.options())
	if err != nil {
		return err
	}
	env.printf("\nAnd God said%s\n\n", text)
	w, err := inspect.AttentionWeights(dir, "In the beginning God created the heaven and the earth.", env.options())
	if err != nil {
		return err
	}
	fs, err := AttentionFigures(w, len(w)-1, "Quickstart", "quickstart-attention")
	if err != nil {
		return err
	}
	return env.emitAll(fs)
}

// stabilityScale is seeds x steps of the stability and conversion runs.
func stabilityScale(s Scale) (seeds, steps int) {
	return pick(s, 2, 3, 8), pick(s, 6, 100, 400)
}

// Stability trains Performer attention (PRF, no RPE) and kernelized attention with Luo's RPE by
// FFT, several seeds each, at learning rate 1e-2, and draws the loss curves with diverged runs
// marked and counted (Luo et al. 2021, Sec. 4). Figure: stability.
func Stability(env Env) error {
	root, err := env.root("stability")
	if err != nil {
		return err
	}
	seeds, steps := stabilityScale(env.Scale)
	if env.Seeds > 0 {
		seeds = env.Seeds
	}
	var exps []experiment.Experiment
	for _, v := range []struct{ name, attn, pe string }{
		{"PRF (Performer)", "performer", "none"},
		{"PRF + RPE (FFT)", "kernelized_rpe", "luo_rpe"},
	} {
		e := lm(env.Scale, v.name, "code", pick(env.Scale, 16, 64, 64), steps)
		e.Model.Attention, e.Model.PosEnc = v.attn, posenc.Config{Kind: v.pe}
		e.Model.AttentionParams = params.Given{"m": 32, "normalize": 0}
		e.Optim.LR = 1e-2
		e.Eval = experiment.Eval{Lengths: []int{e.Data.SeqLen}, Sequences: 4}
		e.LogEvery = 1
		exps = append(exps, run.Seeds(e, 1, seeds)...)
	}
	rows, err := run.Sweep(exps, root, env.options())
	if err != nil {
		return err
	}
	if err := run.WriteTable(filepath.Join(root, "table.csv"), rows); err != nil {
		return err
	}
	for _, r := range rows {
		env.printf("%-24s %-9s step %4d  final loss %.3f %s\n", r.Name, r.State, r.Step, r.FinalLoss, r.Reason)
	}
	rep, err := results.Collect(results.RunDirs(root))
	if err != nil {
		return err
	}
	f, err := plots.Stability(rep.Curves, "Training stability of PRF attention, without and with RPE")
	return env.emit("stability", f, err)
}

// Conversion trains softmax attention with Luo's RPE, then evaluates it without fine-tuning with
// PRF attention that keeps the RPE (FFT) and with PRF attention without it, at m random
// features (Luo et al. 2021, Sec. 4). Figure: conversion.
func Conversion(env Env) error {
	root, err := env.root("conversion")
	if err != nil {
		return err
	}
	_, steps := stabilityScale(env.Scale)
	e := lm(env.Scale, "softmax+rpe", "code", pick(env.Scale, 16, 64, 64), steps)
	e.Model.PosEnc = posenc.Config{Kind: "luo_rpe"}
	e.Eval = experiment.Eval{Lengths: []int{e.Data.SeqLen}, Sequences: pick(env.Scale, 2, 8, 0)}
	dir := filepath.Join(root, e.Name)
	if _, err := run.Train(e, dir, env.optionsFor(e.Name, steps)); err != nil {
		return err
	}
	o := env.options()
	base, err := inspect.Convert(dir, e.Eval, nil, o)
	if err != nil {
		return err
	}
	env.printf("softmax + RPE (trained): perplexity %.2f\n", base[0].Perplexity)
	withRPE := results.Series{Label: "PRF + RPE (FFT), no fine-tuning"}
	noRPE := results.Series{Label: "PRF without RPE, no fine-tuning"}
	softmax := results.Series{Label: "softmax + RPE (trained)"}
	for _, m := range pick(env.Scale, []int{8, 16}, []int{64, 128, 256}, []int{64, 128, 256}) {
		a, err := inspect.Convert(dir, e.Eval, func(c *transformer.Config) {
			c.Attention, c.AttentionParams = "kernelized_rpe", params.Given{"m": m}
		}, o)
		if err != nil {
			return err
		}
		b, err := inspect.Convert(dir, e.Eval, func(c *transformer.Config) {
			c.Attention, c.AttentionParams, c.PosEnc = "performer", params.Given{"m": m}, posenc.Config{Kind: "none"}
		}, o)
		if err != nil {
			return err
		}
		env.printf("m = %3d: PRF + RPE perplexity %.2f, PRF without RPE %.2f\n", m, a[0].Perplexity, b[0].Perplexity)
		x := float64(m)
		withRPE.X, withRPE.Y = append(withRPE.X, x), append(withRPE.Y, a[0].Perplexity)
		noRPE.X, noRPE.Y = append(noRPE.X, x), append(noRPE.Y, b[0].Perplexity)
		softmax.X, softmax.Y = append(softmax.X, x), append(softmax.Y, base[0].Perplexity)
	}
	f, err := plots.Lines([]results.Series{softmax, withRPE, noRPE}, "Conversion of a softmax-trained model to PRF attention",
		"random features m", "test perplexity", true, true)
	return env.emit("conversion", f, err)
}

// extrapolationEncodings are the encodings of the extrapolation and kernel recipes.
func extrapolationEncodings(s Scale) []string {
	return pick(s, []string{"kerple_log", "alibi"}, []string{"kerple_log", "kerple_power", "alibi", "t5", "rotary", "sinusoidal"},
		[]string{"kerple_log", "kerple_power", "alibi", "t5", "rotary", "sinusoidal"})
}

// Extrapolation trains one model per encoding at L (plus FFT-RPE with KERPLE-log) on code and
// latex and evaluates them at L ... 16L, plainly and with a band mask of width L (KERPLE, Chi et
// al. 2022, Tables 2-4). Figures: extrapolation-<corpus>, windowed-<corpus>, position-<corpus>.
func Extrapolation(env Env) error {
	root, err := env.root("extrapolation")
	if err != nil {
		return err
	}
	seqLen, steps := pick(env.Scale, 16, 64, 64), pick(env.Scale, 6, 80, 400)
	for _, corpusName := range pick(env.Scale, []string{"code"}, []string{"code", "latex"}, []string{"code", "latex"}) {
		var exps []experiment.Experiment
		for _, pe := range append(extrapolationEncodings(env.Scale), "fftrpe+kerple_log") {
			e := lm(env.Scale, pe, corpusName, seqLen, steps)
			e.Model.PosEnc.Kind = pe
			e.Eval = experiment.Eval{Sequences: pick(env.Scale, 2, 4, 0), Windowed: true}
			e.LogEvery = steps
			if pe == "fftrpe+kerple_log" {
				e.Model.Attention, e.Model.PosEnc.Kind = "kernelized_rpe", "kerple_log"
				e.Model.AttentionParams = params.Given{"m": 32}
			}
			exps = append(exps, e)
		}
		dir := filepath.Join(root, corpusName)
		rows, err := run.Sweep(exps, dir, env.options())
		if err != nil {
			return err
		}
		if err := run.WriteTable(filepath.Join(dir, "table.csv"), rows); err != nil {
			return err
		}
		env.printf("\n%s: perplexity by evaluation length (trained at %d)\n%-20s", corpusName, seqLen, "encoding")
		for f := 1; f <= 16; f *= 2 {
			env.printf("%9d", f*seqLen)
		}
		env.printf("\n")
		for _, r := range rows {
			env.printf("%-20s", r.Name)
			for f := 1; f <= 16; f *= 2 {
				env.printf("%9.2f", r.Perplexity[f*seqLen])
			}
			if r.State != "done" {
				env.printf("  %s: %s", r.State, r.Reason)
			}
			env.printf("\n")
		}
		rep, err := results.Collect(results.RunDirs(dir))
		if err != nil {
			return err
		}
		fs, err := ReportFigures(rep, corpusName, "-"+corpusName, false)
		if err != nil {
			return err
		}
		if err := env.emitAll(fs); err != nil {
			return err
		}
	}
	return nil
}

// Kernels trains one model per relative encoding and draws each head's learned bias against
// distance to four times the training length. Figures: kernels-<encoding>.
func Kernels(env Env) error {
	root, err := env.root("kernels")
	if err != nil {
		return err
	}
	seqLen, steps := pick(env.Scale, 16, 64, 128), pick(env.Scale, 6, 150, 400)
	encs := pick(env.Scale, []string{"kerple_log", "alibi"}, []string{"kerple_log", "kerple_power", "t5", "fire", "luo_rpe", "alibi"},
		[]string{"kerple_log", "kerple_power", "t5", "fire", "luo_rpe", "alibi"})
	for _, pe := range encs {
		e := lm(env.Scale, pe, "code", seqLen, steps)
		e.Model.PosEnc.Kind = pe
		e.Eval = experiment.Eval{Lengths: []int{seqLen}, Sequences: 4}
		e.LogEvery = steps
		dir := filepath.Join(root, pe)
		res, err := run.Train(e, dir, env.optionsFor(pe, steps))
		if err != nil {
			return err
		}
		n := 4 * seqLen // beyond the training length, to show how each kernel extends
		bias, err := inspect.LearnedBias(dir, n, env.options())
		if err != nil {
			return err
		}
		env.printf("%-13s perplexity at %d: %.2f; bias at distance %d per head:", pe, seqLen, res.Eval[0].Perplexity, n-1)
		for _, row := range bias {
			env.printf(" %.2f", row[n-1])
		}
		env.printf("\n")
		f, err := plots.Kernels(results.HeadSeries(bias), fmt.Sprintf("%s: bias against distance (trained at %d)", pe, seqLen))
		if err := env.emit("kernels-"+pe, f, err); err != nil {
			return err
		}
	}
	return nil
}
