package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/suite"
	"github.com/attnbench/attnbench/workbench/sweep"
)

func figuresCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("figures", stderr)
	scale := fs.String("scale", "quick", "size of the set: tiny (seconds), quick (minutes), full (the committed figures)")
	only := fs.String("only", "", "comma-separated recipes (default all): "+strings.Join(suite.Names(), ", "))
	out := fs.String("out", "", "directory for the exported figures (default figures/ at full scale, runs/figures/<scale> otherwise)")
	runsDir := fs.String("runs", "runs", "root of the run directories and result tables")
	jobs := fs.Int("jobs", 0, "sweeps (phase): runs at once, each a process (0: cores / threads)")
	threads := fs.Int("threads", 1, "sweeps (phase): threads per run")
	fresh := fs.Bool("fresh", false, "start every run anew instead of reusing finished runs and resuming interrupted ones")
	gpuSpeed := fs.String("gpu_speed", suite.GPUSpeedFile, "the GPU check's speed.json, drawn beside this machine's speed results when it exists")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
		fmt.Fprintln(fs.Output(), "\nRecipes:")
		for _, r := range suite.Recipes() {
			fmt.Fprintf(fs.Output(), "  %-14s %s\n", r.Name, r.Doc)
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sc, err := suite.ParseScale(*scale)
	if err != nil {
		return fmt.Errorf("figures: -scale: %w", err)
	}
	if *out == "" {
		*out = suite.FigureDir(".", sc)
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, choice.String())
	env := suite.Env{Backend: choice.Backend, Scale: sc, Runs: *runsDir, Figures: *out, Out: stdout, Fresh: *fresh, GPUSpeed: *gpuSpeed}
	env.RunSweep = func(file string, f *sweep.File) error {
		return localSweep(context.Background(), f, file, *jobs, *threads, stdout)
	}
	if err := suite.RunNamed(splitList(*only), env); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "figures in %s; runs and tables in %s\n", *out, *runsDir)
	return nil
}
