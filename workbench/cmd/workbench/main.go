// Command workbench trains, evaluates, benchmarks and plots attnbench models.
//
//	workbench train   [flags]  train a language model in a run directory (resumes an interrupted run)
//	workbench eval    [flags]  evaluate a run's last checkpoint at given lengths
//	workbench sample  [flags]  continue a prompt with a trained run (recurrent state where the model has one)
//	workbench bench   [flags]  time and memory of attention variants against sequence length
//	workbench plot    [flags]  draw figures from run directories and speed results
//	workbench figures [flags]  run the figure recipes at a scale and export their figures
//	workbench notebook run NOTEBOOK... [flags]  execute notebooks on their kernel, with parameters
//	workbench notebook view NOTEBOOK... [flags] open notebooks in headless Chromium: figures shown, screenshots
//
// Run `workbench <command> -help` for the flags of a command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

const usage = `workbench: a research workbench for efficient attention with relative positional encodings.

Usage:
  workbench train   [flags]  train a language model in a run directory (resumes an interrupted run)
  workbench eval    [flags]  evaluate a run's last checkpoint at given lengths (perplexity, CSV)
  workbench sample  [flags]  continue a prompt with a trained run (recurrent state where the model has one)
  workbench bench   [flags]  time and memory of attention variants against sequence length
  workbench plot    [flags]  draw figures from run directories and speed results
  workbench figures [flags]  run the figure recipes at a scale and export their figures
  workbench notebook run NOTEBOOK... [flags]  execute notebooks on their kernel, with parameters
  workbench notebook view NOTEBOOK... [flags] open notebooks in headless Chromium: figures shown, screenshots
  workbench sweep plan|run|local|submit|status|collect|manifest -file SWEEP   sweeps: here, on Slurm, on Kubernetes
  workbench backend [install cpu|cuda13|cuda12]  the backend chosen and its capabilities; install a PJRT plugin on request

Run "workbench <command> -help" for the flags of a command.
`

var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"train":    trainCmd,
	"eval":     evalCmd,
	"sample":   sampleCmd,
	"bench":    benchCmd,
	"plot":     plotCmd,
	"figures":  figuresCmd,
	"notebook": notebookCmd,
	"backend":  backendCmd,
	"sweep":    sweepCmd,
}

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

func execute(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	var err error
	if !ok {
		err = fmt.Errorf("unknown command %q, valid commands: backend, bench, eval, figures, notebook, plot, sample, sweep, train", args[0])
	} else {
		err = cmd(args[1:], stdout, stderr)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "workbench:", err)
		return 2
	}
	return 0
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("workbench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}

// parseParams reads "name=value,name=value"; an empty string gives nil. Numbers are numbers and
// choices are names (toeplitz=block); the registries check them.
func parseParams(flagName, s string) (params.Given, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return params.Parse(flagName, s)
}

// parseInts reads "a,b,c" into positive integers.
func parseInts(flagName, s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || x < 1 {
			return nil, fmt.Errorf("-%s: %q is not a positive integer", flagName, f)
		}
		out = append(out, x)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
