package main

import (
	"fmt"
	"io"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/run"
)

func evalCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	dir := fs.String("dir", "", "run directory (required)")
	lens := fs.String("lengths", "", "evaluation lengths, e.g. 64,256,1024 (default: the run's own)")
	seqs := fs.Int("sequences", 0, "non-overlapping test sequences per length (0: the run's own setting)")
	toks := fs.Int("tokens", 0, "evaluate about this many tokens per length instead (0: the run's own setting, default 16384)")
	batchSize := fs.Int("batch", 1, "sequences per evaluation batch")
	windowed := fs.Bool("windowed", false, "also evaluate with a band mask of the training length")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("eval: -dir is required")
	}
	if *seqs < 0 || *toks < 0 || *batchSize < 1 {
		return fmt.Errorf("eval: -sequences %d and -tokens %d must be >= 0 and -batch %d >= 1", *seqs, *toks, *batchSize)
	}
	ls, err := parseInts("lengths", *lens)
	if err != nil {
		return err
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, choice.String())
	ev, err := run.EvaluateDir(*dir, experiment.Eval{Lengths: ls, Sequences: *seqs, Tokens: *toks, Batch: *batchSize, Windowed: *windowed},
		run.Options{Backend: choice.Backend})
	if err != nil {
		return err
	}
	printEval(stdout, ev)
	fmt.Fprintf(stdout, "wrote %s/eval.json and eval.csv\n", *dir)
	return nil
}
