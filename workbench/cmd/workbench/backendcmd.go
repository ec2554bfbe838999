package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomlx/compute"

	"github.com/attnbench/attnbench/workbench/backend"
)

// backendCmd reports the backend the rule chooses and what it can do; "backend install" installs
// a PJRT plugin on request.
func backendCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "install" {
		return backendInstallCmd(args[1:], stdout, stderr)
	}
	fs := newFlags("backend", stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: workbench backend            the backend chosen ($%s, else xla where a plugin is installed, else go) and its capabilities\n", backend.EnvVar)
		fmt.Fprintf(fs.Output(), "       workbench backend install cpu|cuda13|cuda12 [-version V] [-lib DIR]   download a PJRT plugin (needs internet)\n")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compiled backends: %s\n", strings.Join(backend.Available(), ", "))
	fmt.Fprintf(stdout, "$%s: %q\n", backend.EnvVar, os.Getenv(backend.EnvVar))
	if p, err := backend.FindPipCUDA(backend.SitePackages(), 0); err == nil {
		fmt.Fprintf(stdout, "pip CUDA plugin: %s (GOMLX_BACKEND=xla:cuda uses it)\n", p)
	} else {
		fmt.Fprintf(stdout, "pip CUDA plugin: none (%v)\n", err)
	}
	c, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, c.String())
	caps := c.Backend.Capabilities()
	for _, op := range []struct {
		name string
		op   compute.OpType
	}{
		{"FFT", compute.OpTypeFFT},
		{"DynamicSlice", compute.OpTypeDynamicSlice},
		{"DynamicUpdateSlice", compute.OpTypeDynamicUpdateSlice},
		{"FusedScaledDotProductAttention", compute.OpTypeFusedScaledDotProductAttention},
		{"FusedScaledDotProductAttentionVJP", compute.OpTypeFusedScaledDotProductAttentionVJP},
	} {
		fmt.Fprintf(stdout, "  %-34s %v\n", op.name, caps.Operations[op.op])
	}
	return nil
}

func backendInstallCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("backend install: name a plugin first: cpu, cuda13 or cuda12")
	}
	plugin := args[0]
	fs := newFlags("backend install", stderr)
	version := fs.String("version", "", "plugin version (cuda: a jax release, default latest)")
	lib := fs.String("lib", "", "library directory; the plugin goes under DIR/go-xla (default ~/.local/lib)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := backend.Install(plugin, *version, *lib); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "installed %s; `workbench backend` shows the choice\n", plugin)
	return nil
}
