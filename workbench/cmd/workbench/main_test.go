package main

import (
	"encoding/json"

	"github.com/attnbench/attnbench/workbench/results"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/attnbench/attnbench/workbench/run"
)

// TestMain lets a test start this binary as the workbench command (for the kill -9 test).
func TestMain(m *testing.M) {
	if os.Getenv("WORKBENCH_TEST_AS_MAIN") == "1" {
		os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestTrainRunsAndLearns(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	code := execute([]string{"train", "-dir", dir, "-steps", "40", "-seq", "32", "-batch", "8", "-width", "32", "-layers", "1", "-lr", "1e-2", "-log_every", "10", "-eval_lengths", "32,64"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, w := range []string{"backend go", "step    40/40", "unigram baseline", "perplexity"} {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
	for _, f := range []string{"config.json", "metrics.jsonl", "status.json", "eval.csv", "checkpoints/latest.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	out.Reset()
	if code := execute([]string{"eval", "-dir", dir, "-lengths", "48", "-sequences", "2"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "      48") {
		t.Errorf("eval: exit %d, %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := execute([]string{"sample", "-dir", dir, "-prompt", "func ", "-n", "12", "-temperature", "0"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "func ") || len(out.String()) != len("func ")+12+1 {
		t.Errorf("sample: exit %d, %q %s", code, out.String(), errb.String())
	}
	if code := execute([]string{"sample", "-dir", dir, "-temperature", "-1"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-temperature -1 is invalid") {
		t.Errorf("sample -temperature -1: exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := execute([]string{"plot", "-runs", dir, "-out", filepath.Join(dir, "fig")}, &out, &errb); code != 0 {
		t.Errorf("plot: exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := execute([]string{"plot", "-attention", dir, "-text", "In the beginning", "-out", filepath.Join(dir, "fig")}, &out, &errb); code != 0 {
		t.Errorf("plot -attention: exit %d: %s", code, errb.String())
	}
	if code := execute([]string{"plot", "-attention", dir, "-layer", "1"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-layer 1 is outside [-1, 0]") {
		t.Errorf("plot -layer 1 of a one-layer run: exit %d, stderr %q", code, errb.String())
	}
	for _, f := range []string{"stability.png", "extrapolation.svg", "position.pdf", "attention-l0-h0.png", "attention-l0-h3.pdf"} {
		if _, err := os.Stat(filepath.Join(dir, "fig", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestConfigFileAndHelp(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "exp.yaml")
	os.WriteFile(cfg, []byte("name: yamlrun\nmodel: {width: 16, heads: 2, layers: 1, posenc: {kind: alibi}}\ndata: {corpus: latex, seq_len: 16, batch: 4}\noptim: {steps: 3, lr: 0.003}\neval: {lengths: [16]}\n"), 0o644)
	var out, errb bytes.Buffer
	if code := execute([]string{"train", "-config", cfg, "-dir", filepath.Join(dir, "r")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "corpus latex") || !strings.Contains(out.String(), "yamlrun step     3/3") {
		t.Errorf("config not applied:\n%s", out.String())
	}
	os.WriteFile(cfg, []byte("name: x\nmodle: {}\n"), 0o644)
	if code := execute([]string{"train", "-config", cfg}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "modle") {
		t.Errorf("unknown field: exit %d, %s", code, errb.String())
	}
	for _, c := range []string{"train", "eval", "bench", "plot", "figures"} {
		errb.Reset()
		if code := execute([]string{c, "-help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "-") {
			t.Errorf("%s -help: exit %d, %q", c, code, errb.String())
		}
	}
}

func TestBenchAndFigures(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := execute([]string{"bench", "-variants", "softmax,fftrpe-m16", "-lengths", "16,32", "-heads", "2", "-dim", "8", "-reps", "1", "-out", dir}, &out, &errb); code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errb.String())
	}
	if code := execute([]string{"plot", "-speed", filepath.Join(dir, "speed.json"), "-out", dir}, &out, &errb); code != 0 {
		t.Fatalf("plot: exit %d: %s", code, errb.String())
	}
	if code := execute([]string{"figures", "-scale", "tiny", "-only", "stability,speed", "-out", filepath.Join(dir, "figs"), "-runs", filepath.Join(dir, "runs")}, &out, &errb); code != 0 {
		t.Fatalf("figures: exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"speed-fwdbwd.png", "memory-fwd.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	for _, f := range []string{"stability", "speed-fwd", "speed-fwdbwd", "memory-fwdbwd"} {
		for _, ext := range []string{".png", ".svg", ".pdf"} {
			if _, err := os.Stat(filepath.Join(dir, "figs", f+ext)); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "stability-tiny", "table.csv")); err != nil {
		t.Error(err)
	}
}

// A run killed with SIGKILL in the middle resumes from its last checkpoint and ends with the same
// loss as an uninterrupted run.
func TestKillAndResume(t *testing.T) {
	args := func(dir string) []string {
		return []string{"train", "-dir", dir, "-steps", "60", "-seq", "16", "-batch", "4", "-width", "16", "-heads", "2", "-layers", "1", "-log_every", "1", "-eval_lengths", "16"}
	}
	full := t.TempDir()
	var out, errb bytes.Buffer
	if code := execute(args(full), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want, _ := results.ReadMetrics(full)

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], args(dir)...)
	cmd.Env = append(os.Environ(), "WORKBENCH_TEST_AS_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once it has written a checkpoint and gone on training.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ms, _ := results.ReadMetrics(dir)
		var ptr struct{ Step int }
		b, err := os.ReadFile(filepath.Join(dir, "checkpoints", "latest.json"))
		if err == nil && json.Unmarshal(b, &ptr) == nil && ptr.Step > 0 && len(ms) > 0 && ms[len(ms)-1].Step%15 > 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint within 2 minutes")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if st, _ := run.ReadStatus(dir); st.State == "done" {
		t.Skip("the run finished before it could be killed")
	}
	out.Reset()
	if code := execute(args(dir), &out, &errb); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "resumed from the checkpoint at step") {
		t.Errorf("resume not reported:\n%s", out.String())
	}
	got, _ := results.ReadMetrics(dir)
	if len(got) != len(want) {
		t.Fatalf("%d metric lines after resume, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Step != want[i].Step || got[i].Loss != want[i].Loss {
			t.Fatalf("step %d: loss %v after kill and resume, %v uninterrupted", want[i].Step, got[i].Loss, want[i].Loss)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-heads", "3"}, "Heads = 3"},
		{[]string{"train", "-seq", "0"}, "data.seq_len = 0"},
		{[]string{"train", "-posenc", "nope"}, `"nope"`},
		{[]string{"train", "-corpus", "wiki"}, `"wiki"`},
		{[]string{"train", "-stepz", "3"}, "stepz"},
		{[]string{"train", "-lr", "2"}, "optim.lr = 2"},
		{[]string{"fly"}, `"fly"`},
		{[]string{"train", "-attention", "performer", "-attn_params", "m=x"}, `"m"`},
		{[]string{"train", "-attention", "performer", "-attn_params", "q=3"}, `"q" is unknown`},
		{[]string{"train", "-attention", "performer", "-posenc", "alibi"}, "kernelized_rpe"},
		{[]string{"eval"}, "-dir is required"},
		{[]string{"bench", "-variants", "flash"}, `"flash"`},
		{[]string{"bench", "-lengths", "0"}, `"0"`},
		{[]string{"plot"}, "-runs, -speed"},
		{[]string{"plot", "-attention", "/nonexistent"}, "/nonexistent"},
		{[]string{"plot", "-runs", "/nonexistent/*"}, "matches no run"},
		{[]string{"figures", "-scale", "huge"}, `"huge"`},
		{[]string{"train", "-log_every", "0"}, "-log_every = 0"},
		{[]string{"notebook"}, "notebook run NOTEBOOK"},
		{[]string{"notebook", "run", "-timeout", "1s"}, "at least one notebook"},
		{[]string{"notebook", "view", "-width", "10", "x.ipynb"}, "-width 10 is out of range [400, 8000]"},
		{[]string{"notebook", "view", "x.ipynb", "-trusted", "maybe"}, `-trusted "maybe": want yes, no or any`},
		{[]string{"notebook", "view", "-screenshots", "/tmp"}, "at least one notebook"},
		{[]string{"notebook", "view", "/nonexistent/y.ipynb"}, "/nonexistent/y.ipynb"},
		{[]string{"notebook", "run", "/nonexistent/x.ipynb", "-p", "A=1"}, "/nonexistent/x.ipynb"},
		{[]string{"train", "-attention", "kernelized_rpe", "-attn_params", "m=8,m=16"}, `"m" is given twice`},
		{[]string{"train", "-attention", "kernelized_rpe", "-attn_params", "toeplitz=2"}, "auto, dense, block, fft"},
	} {
		var out, errb bytes.Buffer
		if code := execute(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, errb.String(), c.want)
		}
	}
}

func TestBackendCommand(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	var out, errb bytes.Buffer
	if code := execute([]string{"backend"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "backend go:") || !strings.Contains(out.String(), "FusedScaledDotProductAttention") {
		t.Fatalf("backend: code %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := execute([]string{"backend", "install", "tpu"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), `"tpu"`) || !strings.Contains(errb.String(), "cuda13") {
		t.Fatalf("install tpu: code %d, stderr %q; want an error naming the valid plugins", code, errb.String())
	}
}
