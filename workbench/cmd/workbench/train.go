package main

import (
	"github.com/attnbench/attnbench/workbench/nb"

	"github.com/attnbench/attnbench/workbench/results"

	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/attnbench/attnbench/datasets"
	"github.com/attnbench/attnbench/datasets/builtin"
	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/run"
)

func trainCmd(args []string, stdout, stderr io.Writer) error {
	d := experiment.Default()
	fs := newFlags("train", stderr)
	config := fs.String("config", "", "experiment file (.json, .yaml); flags set explicitly override it")
	dir := fs.String("dir", "", "run directory; default runs/<name>; an interrupted run there resumes")
	name := fs.String("name", d.Name, "experiment name")
	corpusName := fs.String("corpus", d.Data.Corpus, "embedded corpus ("+strings.Join(builtin.Names(), ", ")+") or a file, directory or glob")
	tokName := fs.String("tokenizer", d.Data.Tokenizer, "tokenizer: "+strings.Join(tokenizer.Names(), ", "))
	pe := fs.String("posenc", d.Model.PosEnc.Kind, "positional encoding: "+strings.Join(posenc.Names(), ", "))
	attn := fs.String("attention", d.Model.Attention, "attention mechanism: "+strings.Join(attention.Names(), ", "))
	attnParams := fs.String("attn_params", "", "mechanism parameters as name=value,... (e.g. m=32,toeplitz=block); listed below")
	posParams := fs.String("posenc_params", "", "encoding parameters as name=value,... (e.g. max_len=512); listed below")
	width := fs.Int("width", d.Model.Width, "model width")
	heads := fs.Int("heads", d.Model.Heads, "attention heads")
	layers := fs.Int("layers", d.Model.Layers, "Transformer blocks")
	steps := fs.Int("steps", d.Optim.Steps, "optimizer steps")
	batchSize := fs.Int("batch", d.Data.Batch, "sequences per step")
	seq := fs.Int("seq", d.Data.SeqLen, "training sequence length")
	lr := fs.Float64("lr", d.Optim.LR, "peak AdamW learning rate (linear warmup, cosine decay)")
	clip := fs.Float64("clip", d.Optim.ClipNorm, "global gradient-norm clip (0 = none)")
	seed := fs.Uint64("seed", d.Seed, "random seed")
	logEvery := fs.Int("log_every", 20, "log a metrics line every N steps")
	budget := fs.Float64("memory_budget_mb", 0, "refuse a model whose training step is estimated above this (MB); 0 = 3/4 of this machine's memory")
	evalLens := fs.String("eval_lengths", "", "evaluation lengths, e.g. 64,128,256 (default L, 2L, ..., 16L)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
		registryHelp(fs.Output())
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e := d
	if *config != "" {
		loaded, err := experiment.Load(*config)
		if err != nil {
			return err
		}
		e = loaded
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	override := func(flagName string, apply func()) {
		if *config == "" || set[flagName] {
			apply()
		}
	}
	ap, err := parseParams("attn_params", *attnParams)
	if err != nil {
		return err
	}
	pp, err := parseParams("posenc_params", *posParams)
	if err != nil {
		return err
	}
	override("name", func() { e.Name = *name })
	override("corpus", func() { e.Data.Corpus = *corpusName })
	override("tokenizer", func() { e.Data.Tokenizer = *tokName })
	override("posenc", func() { e.Model.PosEnc.Kind = *pe })
	override("attention", func() { e.Model.Attention = *attn })
	override("attn_params", func() { e.Model.AttentionParams = ap })
	override("posenc_params", func() { e.Model.PosEnc.Params = pp })
	override("width", func() { e.Model.Width = *width })
	override("heads", func() { e.Model.Heads = *heads })
	override("layers", func() { e.Model.Layers = *layers })
	override("steps", func() { e.Optim.Steps = *steps })
	override("batch", func() { e.Data.Batch = *batchSize })
	override("seq", func() { e.Data.SeqLen = *seq })
	override("lr", func() { e.Optim.LR = *lr })
	override("clip", func() { e.Optim.ClipNorm = *clip })
	override("seed", func() { e.Seed = *seed })
	if *logEvery < 1 {
		return fmt.Errorf("train: -log_every = %d is invalid, want >= 1", *logEvery)
	}
	override("log_every", func() { e.LogEvery = *logEvery })
	override("memory_budget_mb", func() { e.MemoryBudgetMB = *budget })
	lens, err := parseInts("eval_lengths", *evalLens)
	if err != nil {
		return err
	}
	if len(lens) > 0 {
		e.Eval.Lengths = lens
	}
	e = e.Resolve()
	if err := e.Validate(); err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join("runs", e.Name)
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, choice.String())
	ro := run.Options{Backend: choice.Backend, Progress: stdout}
	what := "task " + e.Data.Task
	if e.Data.Task == experiment.TaskLM {
		data, err := datasets.Open(e.Data.Corpus, datasets.Options{Tokenizer: e.Data.Tokenizer, Format: e.Data.Format})
		if err != nil {
			return err
		}
		defer data.Close()
		ro.Data = data
		what = fmt.Sprintf("corpus %s: %d training tokens", e.Data.Corpus, data.Split(corpus.Train).Len())
	}
	fmt.Fprintf(stdout, "%s; model %s attention, %s encoding, width %d, %d heads, %d layers; run %s\n",
		what, e.Model.Attention, e.Model.PosEnc.Kind, e.Model.Width, e.Model.Heads, e.Model.Layers, *dir)
	if nb.IsTerminal(stderr) { // a live bar on the terminal instead of log lines
		ro.OnStep, ro.Progress = nb.ProgressBar(e.Name, e.Optim.Steps, stderr), nil
	}
	res, err := run.Train(e, *dir, ro)
	if err != nil {
		return err
	}
	if res.ResumedAt > 0 {
		fmt.Fprintf(stdout, "resumed from the checkpoint at step %d\n", res.ResumedAt)
	}
	switch res.Status.State {
	case "diverged":
		fmt.Fprintf(stdout, "diverged at step %d: %s\n", res.Status.Step, res.Status.Reason)
		return nil
	}
	if ro.Data != nil {
		unigram := run.UnigramEntropy(ro.Data.Split(corpus.Test), ro.Data.Vocab)
		fmt.Fprintf(stdout, "final train loss %.4f; test split unigram baseline %.4f nats/token\n", res.FinalLoss, unigram)
	} else {
		fmt.Fprintf(stdout, "final train loss %.4f\n", res.FinalLoss)
	}
	printEval(stdout, res.Eval)
	return nil
}

func printEval(w io.Writer, ev []results.Eval) {
	if len(ev) > 0 && ev[0].IsAccuracy() {
		fmt.Fprintf(w, "%8s %6s %9s %9s %9s\n", "length", "split", "examples", "accuracy", "baseline")
		for _, r := range ev {
			if r.Skipped != "" {
				fmt.Fprintf(w, "%8d %6s skipped: %s\n", r.Length, r.Split, r.Skipped)
				continue
			}
			fmt.Fprintf(w, "%8d %6s %9d %9.3f %9.3f\n", r.Length, r.Split, r.Sequences, r.Accuracy, r.Baseline)
		}
		return
	}
	fmt.Fprintf(w, "%8s %9s %9s %9s %11s  %s\n", "length", "windowed", "sequences", "loss", "perplexity", "95% interval")
	for _, r := range ev {
		if r.Skipped != "" {
			fmt.Fprintf(w, "%8d %9v skipped: %s\n", r.Length, r.Windowed, r.Skipped)
			continue
		}
		fmt.Fprintf(w, "%8d %9v %9d %9.4f %11.3f  [%.3f, %.3f]\n", r.Length, r.Windowed, r.Sequences, r.Loss, r.Perplexity, r.PerplexityLow, r.PerplexityHigh)
	}
}
