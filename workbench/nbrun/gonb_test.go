package nbrun

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

const paramNotebook = `{
 "cells": [
  {"cell_type": "markdown", "id": "m0", "metadata": {}, "source": ["# parameters"]},
  {"cell_type": "code", "id": "c1", "metadata": {"tags": ["parameters"]}, "execution_count": null, "outputs": [], "source": ["%env GREETING=hello"]},
  {"cell_type": "code", "id": "c2", "metadata": {}, "execution_count": null, "outputs": [],
   "source": ["import (\n", "\t\"fmt\"\n", "\t\"os\"\n", ")\n", "\n", "%%\n", "fmt.Println(os.Getenv(\"GREETING\"), 6*7)"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"}, "language_info": {"name": "go"}},
 "nbformat": 4, "nbformat_minor": 5
}
`

// needGoNB skips when the GoNB kernel is not installed, unless $ATTNBENCH_REQUIRE_KERNEL is set
// (CI sets it after notebooks/setup.sh).
func needGoNB(t *testing.T) {
	if _, err := FindSpec("gonb"); err != nil {
		if os.Getenv("ATTNBENCH_REQUIRE_KERNEL") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// outputsOf lists each code cell's outputs without the fields that vary run to run.
func outputsOf(t *testing.T, path string) [][]map[string]any {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			CellType string           `json:"cell_type"`
			Metadata map[string]any   `json:"metadata"`
			Outputs  []map[string]any `json:"outputs"`
		}
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	var out [][]map[string]any
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			for _, o := range c.Outputs {
				delete(o, "execution_count")
			}
			out = append(out, c.Outputs)
		}
	}
	return out
}

func streamText(outs []map[string]any) string {
	var b strings.Builder
	for _, o := range outs {
		if o["output_type"] == "stream" {
			for _, l := range o["text"].([]any) {
				b.WriteString(l.(string))
			}
		}
	}
	return b.String()
}

// The real GoNB kernel: a parameters cell run with and without -p, the executed notebook
// trusted, its outputs those of nbconvert's execution; a failing cell and a timeout.
func TestGoNB(t *testing.T) {
	needGoNB(t)
	dir := t.TempDir()
	nbPath := filepath.Join(dir, "p.ipynb")
	os.WriteFile(nbPath, []byte(paramNotebook), 0o644)

	plain, err := Run(nbPath, Options{Out: filepath.Join(dir, "plain"), Timeout: 2 * time.Minute, Sign: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := streamText(outputsOf(t, plain)[1]); got != "hello 42\n" {
		t.Errorf("without -p: %q", got)
	}
	withP, err := Run(nbPath, Options{Out: filepath.Join(dir, "param"), Params: []string{"GREETING=bonjour"}, Timeout: 2 * time.Minute, Sign: true})
	if err != nil {
		t.Fatal(err)
	}
	outs := outputsOf(t, withP)
	if len(outs) != 3 || streamText(outs[2]) != "bonjour 42\n" {
		t.Errorf("with -p: %v", outs)
	}
	for _, p := range []string{plain, withP} {
		if ok, err := Trusted(p); err != nil || !ok {
			t.Errorf("%s: trusted %v (%v)", p, ok, err)
		}
	}
	if _, err := os.Stat("/usr/bin/jupyter"); err == nil {
		ref := filepath.Join(dir, "nbconvert.ipynb")
		cmd := exec.Command("/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=gonb", nbPath, "--output", ref)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nbconvert: %v\n%s", err, out)
		}
		if got, want := outputsOf(t, plain), outputsOf(t, ref); !reflect.DeepEqual(got, want) {
			t.Errorf("outputs differ from nbconvert's:\n%v\n%v", got, want)
		}
	}

	// A failing cell stops the run with the cell, the error and the traceback.
	bad := strings.Replace(paramNotebook, `fmt.Println(os.Getenv(\"GREETING\"), 6*7)`, `panic(\"boom \" + os.Getenv(\"GREETING\"))`, 1)
	os.WriteFile(nbPath, []byte(bad), 0o644)
	_, err = Run(nbPath, Options{Out: filepath.Join(dir, "bad"), Timeout: 2 * time.Minute})
	var ce *CellError
	if !errors.As(err, &ce) || ce.Index != 2 || !strings.Contains(err.Error(), "boom hello") || !strings.Contains(err.Error(), "panic(") {
		t.Errorf("failing cell: %v", err)
	}
	// A cell past its timeout is interrupted, and the kernel ended.
	slow := strings.Replace(paramNotebook, `fmt.Println(os.Getenv(\"GREETING\"), 6*7)`, `fmt.Println(os.Getenv(\"GREETING\")); for { }`, 1)
	os.WriteFile(nbPath, []byte(slow), 0o644)
	t0 := time.Now()
	before := cellPrograms()
	_, err = Run(nbPath, Options{Out: filepath.Join(dir, "slow"), Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "timeout") || time.Since(t0) > time.Minute {
		t.Errorf("slow cell: %v after %v", err, time.Since(t0))
	}
	time.Sleep(500 * time.Millisecond)
	if after := cellPrograms(); after > before {
		t.Errorf("%d cell programs still running after the run ended (%d before)", after, before)
	}
	// Parameters need a parameters cell.
	os.WriteFile(nbPath, []byte(strings.Replace(paramNotebook, `"tags": ["parameters"]`, `"tags": []`, 1)), 0o644)
	if _, err := Run(nbPath, Options{Params: []string{"GREETING=x"}}); err == nil || !strings.Contains(err.Error(), `tagged "parameters"`) {
		t.Errorf("no parameters cell: %v", err)
	}
}

// cellPrograms counts the running (not zombie) processes of GoNB cell programs.
func cellPrograms() int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil || !strings.Contains(string(b), "(gonb_") {
			continue
		}
		s := string(b)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 && f[0] != "Z" {
			n++
		}
	}
	return n
}

// childEnv makes the test binary run one notebook as a child process (for TestSignalEndsKernel).
const childEnv = "ATTNBENCH_NBRUN_CHILD"

func TestMain(m *testing.M) {
	if nb := os.Getenv(childEnv); nb != "" {
		if _, err := Run(nb, Options{Out: filepath.Dir(nb) + "/out"}); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// processesWith counts the live processes whose environment holds kv.
func processesWith(kv string) int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !strings.Contains("\x00"+string(env)+"\x00", "\x00"+kv+"\x00") {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			s := string(st)
			if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 && f[0] != "Z" {
				n++
			}
		}
	}
	return n
}

// SIGTERM to a runner whose cell computes ends the kernel and the cell's program with it, and the
// runner exits with an error that says so.
func TestSignalEndsKernel(t *testing.T) {
	needGoNB(t)
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	nbPath := filepath.Join(dir, "busy.ipynb")
	busy := strings.Replace(paramNotebook, `fmt.Println(os.Getenv(\"GREETING\"), 6*7)`,
		`os.WriteFile(\"`+started+`\", nil, 0o644); for { }`, 1)
	os.WriteFile(nbPath, []byte(busy), 0o644)
	marker := "ATTNBENCH_NBRUN_MARK=" + filepath.Base(dir)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+nbPath, marker)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the cell did not start within 2 minutes: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := processesWith(marker); n < 3 { // runner, kernel, cell program
		t.Errorf("%d processes carry the marker while the cell runs, want at least 3", n)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(stderr.String(), "stopped by terminated") {
			t.Errorf("runner after SIGTERM: %v, stderr %q; want a failure that names the signal", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the runner did not exit within 30 s of SIGTERM")
	}
	time.Sleep(500 * time.Millisecond)
	if n := processesWith(marker); n > 0 {
		t.Errorf("%d processes of the run (kernel or cell program) outlive the runner", n)
	}
}
