package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/attnbench/attnbench/internal/atomicfile"
	"github.com/attnbench/attnbench/workbench/nbrun"
	"github.com/attnbench/attnbench/workbench/nbview"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func notebookCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "run":
			return notebookRun(args[1:], stdout, stderr)
		case "view":
			return notebookView(args[1:], stdout, stderr)
		}
	}
	return fmt.Errorf(`notebook: want "notebook run NOTEBOOK... [flags]" or "notebook view NOTEBOOK... [flags]" (see workbench notebook run -help)`)
}

// splitArgs separates notebooks from flags: notebooks may come before, between or after the
// flags. A flag of fs that is not boolean takes the next argument as its value.
func splitArgs(fs *flag.FlagSet, args []string) (notebooks, flags []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			notebooks = append(notebooks, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		f := fs.Lookup(name) // nil for -name=value and unknown flags: parseFlags reports those
		if f == nil || i+1 >= len(args) {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return notebooks, flags
}

func notebookRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notebook run", stderr)
	var params repeated
	fs.Var(&params, "p", "parameter NAME=value, set as the kernel's environment variable in a cell injected after the cell tagged \"parameters\" (repeatable)")
	out := fs.String("out", "", "directory of the executed notebooks (default: beside each, as NAME.executed.ipynb)")
	timeout := fs.Duration("timeout", 0, "limit per cell; a cell past it is interrupted and the run fails (0 = none)")
	cont := fs.Bool("continue", false, "run the cells after a failing one (the run still fails)")
	verbose := fs.Bool("v", false, "pass the cells' stream output through")
	kernel := fs.String("kernel", "", "kernel name (default: the notebook's metadata)")
	sign := fs.Bool("sign", true, "mark the executed notebooks trusted for this user (nbformat's notary)")
	notebooks, flags := splitArgs(fs, args)
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

func notebookView(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notebook view", stderr)
	shots := fs.String("screenshots", "", "directory for a PNG of each whole notebook as the browser shows it (NAME.png)")
	width := fs.Int("width", 1200, "browser window width in pixels (at least 400)")
	timeout := fs.Duration("timeout", 2*time.Minute, "limit for the server to start and for each page to load")
	trusted := fs.String("trusted", "any", "the trust state each notebook must open in: yes, no or any")
	need := fs.Bool("require-figures", false, "fail for a notebook whose file holds no figure output")
	notebooks, flags := splitArgs(fs, args)
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	if len(notebooks) == 0 {
		return fmt.Errorf("notebook view: give at least one notebook")
	}
	if *width < 400 || *width > 8000 {
		return fmt.Errorf("notebook view: -width %d is out of range [400, 8000]", *width)
	}
	if *timeout <= 0 {
		return fmt.Errorf("notebook view: -timeout %s must be positive", *timeout)
	}
	if !slices.Contains([]string{"yes", "no", "any"}, *trusted) {
		return fmt.Errorf("notebook view: -trusted %q: want yes, no or any", *trusted)
	}
	root, err := commonDir(notebooks)
	if err != nil {
		return err
	}
	logs, err := os.MkdirTemp("", "notebook-view-")
	if err != nil {
		return err
	}
	s, err := nbview.StartServer(root, filepath.Join(logs, "jupyter.log"), *timeout)
	if err != nil {
		return err
	}
	defer s.Close()
	b, err := nbview.StartBrowser(*width, 900, filepath.Join(logs, "chromedriver.log"))
	if err != nil {
		return err
	}
	defer b.Close()
	var failed []string
	for _, nb := range notebooks {
		r, err := nbview.View(s, b, nb, *timeout)
		s.ShutdownKernels() // the page started the notebook's kernel
		if err != nil {
			return err
		}
		trust := "not trusted"
		if r.Trusted {
			trust = "trusted"
		}
		shown := 0
		for _, f := range r.Figures {
			if f.Visible() {
				shown++
			}
		}
		fmt.Fprintf(stdout, "%s: %s, %d of %d figures shown", nb, trust, shown, len(r.Expected))
		if len(r.Figures) > 0 {
			f := r.Figures[0]
			fmt.Fprintf(stdout, " (as %s, the first %.0fx%.0f px)", f.Kind, f.Width, f.Height)
		}
		if *shots != "" {
			png, err := b.Screenshot(r.Height)
			if err != nil {
				return err
			}
			p := filepath.Join(*shots, strings.TrimSuffix(filepath.Base(nb), ".ipynb")+".png")
			if err := os.MkdirAll(*shots, 0o755); err != nil {
				return err
			}
			if err := atomicfile.Write(p, png); err != nil {
				return err
			}
			fmt.Fprintf(stdout, ", screenshot %s", p)
		}
		fmt.Fprintln(stdout)
		if err := r.Err(); err != nil {
			failed = append(failed, err.Error())
		}
		if *need && len(r.Expected) == 0 {
			failed = append(failed, fmt.Sprintf("%s holds no figure output (-require-figures)", nb))
		}
		if *trusted != "any" && r.Trusted != (*trusted == "yes") {
			failed = append(failed, fmt.Sprintf("%s opens %s, want -trusted %s", nb, trust, *trusted))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("notebook view: %s", strings.Join(failed, "\n"))
	}
	return nil
}

// commonDir is the deepest directory holding every path.
func commonDir(paths []string) (string, error) {
	var root string
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("notebook view: %w", err)
		}
		d := filepath.Dir(abs)
		if i == 0 {
			root = d
			continue
		}
		for root != "/" && d != root && !strings.HasPrefix(d, root+string(filepath.Separator)) {
			root = filepath.Dir(root)
		}
	}
	return root, nil
}
