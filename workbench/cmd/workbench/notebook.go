package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/attnbench/attnbench/workbench/nbrun"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func notebookCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return fmt.Errorf(`notebook: want "notebook run NOTEBOOK... [flags]" (see workbench notebook run -help)`)
	}
	fs := newFlags("notebook run", stderr)
	var params repeated
	fs.Var(&params, "p", "parameter NAME=value, set as the kernel's environment variable in a cell injected after the cell tagged \"parameters\" (repeatable)")
	out := fs.String("out", "", "directory of the executed notebooks (default: beside each, as NAME.executed.ipynb)")
	timeout := fs.Duration("timeout", 0, "limit per cell; a cell past it is interrupted and the run fails (0 = none)")
	cont := fs.Bool("continue", false, "run the cells after a failing one (the run still fails)")
	verbose := fs.Bool("v", false, "pass the cells' stream output through")
	kernel := fs.String("kernel", "", "kernel name (default: the notebook's metadata)")
	sign := fs.Bool("sign", true, "mark the executed notebooks trusted for this user (nbformat's notary)")
	// Notebooks may come before, between or after the flags.
	var notebooks, flags []string
	valued := map[string]bool{"p": true, "out": true, "timeout": true, "kernel": true}
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			notebooks = append(notebooks, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if valued[name] && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	if len(notebooks) == 0 {
		return fmt.Errorf("notebook run: give at least one notebook")
	}
	o := nbrun.Options{Params: params, Out: *out, Timeout: *timeout, Continue: *cont, Progress: stdout, Kernel: *kernel, Sign: *sign}
	if *verbose {
		o.Echo = stdout
	}
	for _, nb := range notebooks {
		t0 := time.Now()
		fmt.Fprintf(stdout, "== %s\n", nb)
		written, err := nbrun.Run(nb, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "== %s: ok in %.0f s, written to %s\n", nb, time.Since(t0).Seconds(), written)
	}
	return nil
}
