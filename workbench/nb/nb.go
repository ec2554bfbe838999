// Package nb is the preamble of the workbench's notebooks: the mode (suite scale) from the
// --mode flag of a %% cell or $ATTNBENCH_MODE, the backend, Must, inline display, progress
// bars, and the suite.Env that sends a recipe's tables and figures to the notebook.
//
//	import "github.com/attnbench/attnbench/workbench/nb"
//
//	%%
//	nb.Must(suite.Stability(nb.Env()))
package nb

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/suite"
)

// ModeEnv is the environment variable that sets the default mode; SeedsEnv, when set to a
// positive number, the number of seeds of the recipes that sweep seeds.
const (
	ModeEnv  = "ATTNBENCH_MODE"
	SeedsEnv = "ATTNBENCH_SEEDS"
)

var mode = flag.String("mode", envOr(ModeEnv, string(suite.Quick)), "notebook mode: tiny, quick or full")

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Root is the repository root as seen from the notebooks directory.
var Root = ".."

// Mode is the scale the notebook runs at; an unknown mode stops the cell with the valid ones.
func Mode() suite.Scale {
	s, err := suite.ParseScale(*mode)
	if err != nil {
		Must(fmt.Errorf("--mode or $%s: %w", ModeEnv, err))
	}
	return s
}

// Must stops the cell on an error.
func Must(err error) {
	if err != nil {
		panic(err)
	}
}

// Show displays a figure inline.
func Show(f *plots.Figure) error { return f.Show() }

// Backend returns the chosen backend and prints the choice as an information line.
func Backend() backend.Choice {
	ch, err := backend.New()
	Must(err)
	fmt.Println(ch.String())
	return ch
}

// Env is the suite environment of a notebook: the backend, the mode, runs under Root/runs
// (started anew each time the notebook executes), figures in suite.FigureDir(Root, mode),
// tables on stdout, figures shown inline, a progress bar per training run.
func Env() suite.Env {
	s := Mode()
	seeds := 0
	if v := os.Getenv(SeedsEnv); v != "" && v != "0" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			Must(fmt.Errorf("$%s = %q is invalid, want a positive number of seeds (or 0 for the mode's)", SeedsEnv, v))
		}
		seeds = n
	}
	return suite.Env{Backend: Backend().Backend, Scale: s, Runs: Root + "/runs", Figures: suite.FigureDir(Root, s),
		Out: os.Stdout, Show: Show, Fresh: true, Seeds: seeds, GPUSpeed: Root + "/" + suite.GPUSpeedFile,
		Progress: func(name string, steps int) func(results.Metric) { return ProgressBar(name, steps, os.Stdout) }}
}
