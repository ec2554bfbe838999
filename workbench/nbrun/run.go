package nbrun

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/attnbench/attnbench/internal/atomicfile"
)

// Options of Run.
type Options struct {
	// Params are NAME=value pairs injected after the cell tagged "parameters" as %env lines.
	Params []string
	// Out is the directory of the executed notebook (same file name); "" writes it beside
	// the input with the suffix ".executed.ipynb".
	Out string
	// Timeout per cell; 0 waits without limit. A cell past it is interrupted and the run fails.
	Timeout time.Duration
	// Continue runs the cells after a failing one (the run still fails).
	Continue bool
	// Progress receives one line as each cell starts and ends; Echo, when set, the cells'
	// stream output as it arrives.
	Progress, Echo io.Writer
	// Kernel overrides the notebook's kernel name.
	Kernel string
	// Log is the file the kernel's stdout and stderr are appended to; "" is the output
	// notebook's path with ".kernel.log".
	Log string
	// Sign marks the executed notebook trusted (see Sign).
	Sign bool
}

// CellError is a cell that raised an error.
type CellError struct {
	Index             int
	Source            string
	Name, Value       string
	Traceback         []string
	Stderr            string // the cell's stderr stream (a Go panic's message is there)
	Notebook, Written string
}

func (e *CellError) Error() string {
	msg := fmt.Sprintf("nbrun: %s, cell %d failed: %s: %s\n--- cell ---\n%s\n", e.Notebook, e.Index, e.Name, e.Value, strings.TrimRight(e.Source, "\n"))
	if e.Stderr != "" {
		lines := strings.Split(strings.TrimRight(stripANSI(e.Stderr), "\n"), "\n")
		if len(lines) > 40 {
			lines = append([]string{"..."}, lines[len(lines)-40:]...)
		}
		msg += "--- stderr ---\n" + strings.Join(lines, "\n") + "\n"
	}
	return msg + fmt.Sprintf("--- traceback ---\n%s\n(the executed notebook is %s)", stripANSI(strings.Join(e.Traceback, "\n")), e.Written)
}

// Run executes the notebook at path and writes the executed copy; it returns the copy's path.
// The kernel process is ended however the run ends.
func Run(path string, o Options) (written string, err error) {
	nb, err := ReadNotebook(path)
	if err != nil {
		return "", err
	}
	if err := nb.InjectParameters(o.Params, path); err != nil {
		return "", err
	}
	name := o.Kernel
	if name == "" {
		name = nb.Kernel()
	}
	if name == "" {
		return "", fmt.Errorf("nbrun: %s names no kernel (metadata.kernelspec.name); give one with -kernel", path)
	}
	spec, err := FindSpec(name)
	if err != nil {
		return "", err
	}
	written = strings.TrimSuffix(path, ".ipynb") + ".executed.ipynb"
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return "", fmt.Errorf("nbrun: %w", err)
		}
		written = filepath.Join(o.Out, filepath.Base(path))
	}
	logPath := o.Log
	if logPath == "" {
		logPath = strings.TrimSuffix(written, ".ipynb") + ".kernel.log"
	}
	abs, _ := filepath.Abs(path)
	c, err := Start(spec, filepath.Dir(abs), logPath, os.Environ())
	if err != nil {
		return "", err
	}
	defer c.Shutdown(5 * time.Second)
	// SIGINT, SIGTERM or SIGHUP to the runner ends the kernel and its cell programs with it: a
	// stopped run leaves nothing computing (the kernel runs in its own process group).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case sig := <-sigs:
			c.Kill(fmt.Errorf("stopped by %v; the kernel and its cell programs were ended", sig))
		case <-finished:
		}
	}()
	if err := c.KernelInfo(2 * time.Minute); err != nil {
		return "", fmt.Errorf("%w (kernel log: %s)", err, logPath)
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format, args...)
		}
	}
	var first *CellError
	cells := nb.Cells()
	code := 0
	for _, cell := range cells {
		if cell["cell_type"] == "code" {
			code++
		}
	}
	k := 0
	for i, cell := range cells {
		if cell["cell_type"] != "code" {
			continue
		}
		k++
		src := Source(cell)
		cell["outputs"], cell["execution_count"] = []any{}, nil
		if first != nil && !o.Continue {
			continue
		}
		head, _, _ := strings.Cut(strings.TrimSpace(src), "\n")
		if len(head) > 60 {
			head = head[:57] + "..."
		}
		progress("[%d/%d] cell %d: %s\n", k, code, i, head)
		t0 := time.Now()
		res, err := c.Execute(src, o.Timeout, o.Echo)
		if res != nil {
			outs := make([]any, len(res.Outputs))
			for j, out := range res.Outputs {
				outs[j] = out.nbformat()
			}
			cell["outputs"] = outs
			if res.ExecutionCount > 0 {
				cell["execution_count"] = res.ExecutionCount
			}
		}
		if err != nil {
			nb.write(written, o.Sign)
			var te ErrTimeout
			if errors.As(err, &te) {
				return written, fmt.Errorf("nbrun: %s, cell %d: %w (the executed notebook is %s)", path, i, err, written)
			}
			return written, fmt.Errorf("nbrun: %s, cell %d: %w (kernel log: %s)", path, i, err, logPath)
		}
		status := "ok"
		if res.Status == "error" {
			status = "error: " + res.ErrorName
			if first == nil {
				first = &CellError{Index: i, Source: src, Name: res.ErrorName, Value: res.ErrorValue, Traceback: res.Traceback,
					Stderr: res.stream("stderr"), Notebook: path, Written: written}
			}
		}
		progress("[%d/%d] cell %d %s in %.1f s\n", k, code, i, status, time.Since(t0).Seconds())
	}
	if err := nb.write(written, o.Sign); err != nil {
		return written, err
	}
	if first != nil {
		return written, first
	}
	return written, nil
}

// write saves the notebook atomically and signs it when asked.
func (nb *Notebook) write(path string, sign bool) error {
	if err := atomicfile.Write(path, nb.JSON()); err != nil {
		return fmt.Errorf("nbrun: %w", err)
	}
	if sign {
		return Sign(path)
	}
	return nil
}

// Python is the interpreter with nbformat (Debian's python3-nbformat), used to sign notebooks.
var Python = "/usr/bin/python3"

// Sign marks the notebook at path trusted for this user: nbformat's notary stores the
// HMAC-SHA256 of the notebook, keyed by the user's notebook_secret, in nbsignatures.db under the
// Jupyter data directory. Trust stays on this machine: a copy elsewhere opens untrusted.
func Sign(path string) error {
	out, err := exec.Command(Python, "-c", `import sys, nbformat
from nbformat.sign import NotebookNotary
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookNotary().sign(nb)`, path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nbrun: signing %s with %s and nbformat: %v: %s", path, Python, err, out)
	}
	return nil
}

// Trusted reports whether the notebook at path is signed for this user.
func Trusted(path string) (bool, error) {
	out, err := exec.Command(Python, "-c", `import sys, nbformat
from nbformat.sign import NotebookNotary
nb = nbformat.read(sys.argv[1], as_version=4)
print(NotebookNotary().check_signature(nb))`, path).CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("nbrun: checking the signature of %s: %v: %s", path, err, out)
	}
	return strings.TrimSpace(string(out)) == "True", nil
}

// stripANSI removes terminal colour codes from tracebacks.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
