package main

import (
	"fmt"
	"io"
	"math"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/inspect"
	"github.com/attnbench/attnbench/workbench/run"
)

func sampleCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", stderr)
	dir := fs.String("dir", "", "run directory (required)")
	prompt := fs.String("prompt", "", "text to continue")
	n := fs.Int("n", 200, "tokens to generate")
	temp := fs.Float64("temperature", 0.7, "softmax temperature; 0 is greedy")
	seed := fs.Uint64("seed", 1, "seed of the draws")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *dir == "":
		return fmt.Errorf("sample: -dir is required")
	case *n < 0 || *n > 1<<20:
		return fmt.Errorf("sample: -n %d is outside [0, %d]", *n, 1<<20)
	case *temp < 0 || math.IsNaN(*temp) || math.IsInf(*temp, 0):
		return fmt.Errorf("sample: -temperature %g is invalid, want a finite value >= 0", *temp)
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, choice.String())
	text, err := inspect.Sample(*dir, *prompt, *n, *temp, *seed, run.Options{Backend: choice.Backend})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s%s\n", *prompt, text)
	return nil
}
