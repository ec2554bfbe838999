package run

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"syscall"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/testrun"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/results"
)

// TestMain runs this test binary as a trainer that SIGKILLs itself when RUN_KILL_TRAINER is set.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_KILL_TRAINER") != "" {
		killedTrainer()
		return
	}
	os.Exit(m.Run())
}

// killedTrainer trains $RUN_KILL_EXPERIMENT in $RUN_KILL_DIR and kills itself with SIGKILL at
// $RUN_KILL_AT ("step" or "checkpoint") of step $RUN_KILL_STEP.
func killedTrainer() {
	var e experiment.Experiment
	if err := json.Unmarshal([]byte(os.Getenv("RUN_KILL_EXPERIMENT")), &e); err != nil {
		panic(err)
	}
	at := os.Getenv("RUN_KILL_AT")
	step, _ := strconv.Atoi(os.Getenv("RUN_KILL_STEP"))
	o := Options{Backend: testrun.Backend(&testing.T{}), Data: testrun.Prose(&testing.T{}),
		crash: func(s int, where string) {
			if s == step && where == at {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}}
	if _, err := Train(e, os.Getenv("RUN_KILL_DIR"), o); err != nil {
		panic(err)
	}
	os.Exit(3) // not killed
}

// Every registered mechanism, killed with SIGKILL after a random step and between a
// checkpoint's files and its pointer, resumes to the metrics and evaluation of an uninterrupted
// run, bit for bit.
func TestSIGKILLResumesEveryMechanism(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocesses")
	}
	o := opts(t)
	o.SkipEval = false
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct {
		attn string
		p    params.Given
	}{
		{"softmax", nil},
		{"performer", params.Given{"m": 8}},
		{"kernelized_rpe", params.Given{"m": 8, "redraw": 3}},
		{"schoenbat", params.Given{"features": 8, "redraw": 4}},
		{"skyformer", params.Given{"landmarks": 4}},
	} {
		e := tiny(10)
		e.Name = tc.attn
		e.Model.Attention, e.Model.AttentionParams = tc.attn, tc.p
		e.CheckpointEvery = 3
		e.Eval = experiment.Eval{Lengths: []int{32}, Sequences: 2, Batch: 2}
		if tc.attn != "softmax" && tc.attn != "kernelized_rpe" {
			e.Model.PosEnc = posenc.Config{Kind: "rotary"}
		}
		if tc.attn == "skyformer" {
			e.Data = experiment.Data{Task: experiment.TaskListOps, Batch: 8,
				ListOps: &experiment.ListOps{MaxDepth: 2, MaxArgs: 3, MinLength: 2, MaxLength: 12, Train: 40, Valid: 8, Test: 8, Seed: 1}}
			e.Eval = experiment.Eval{}
		}
		full, err := Train(e, t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(e)
		for _, kill := range []struct {
			at   string
			step int
		}{{"step", 1 + rng.IntN(9)}, {"checkpoint", 6}} {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run", "XXX")
			cmd.Env = append(os.Environ(), "RUN_KILL_TRAINER=1", "RUN_KILL_EXPERIMENT="+string(js), "RUN_KILL_DIR="+dir,
				"RUN_KILL_AT="+kill.at, fmt.Sprintf("RUN_KILL_STEP=%d", kill.step))
			out, err := cmd.CombinedOutput()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("%s killed at %s %d: %v\n%s", tc.attn, kill.at, kill.step, err, out)
			}
			resumed, err := Train(e, dir, o)
			if err != nil {
				t.Fatalf("%s killed at %s %d: resume: %v", tc.attn, kill.at, kill.step, err)
			}
			if !sameLosses(resumed.Metrics, full.Metrics) {
				t.Errorf("%s killed at %s %d: metrics differ from the uninterrupted run", tc.attn, kill.at, kill.step)
			}
			if !reflect.DeepEqual(resumed.Eval, full.Eval) {
				t.Errorf("%s killed at %s %d: evaluation %+v, uninterrupted %+v", tc.attn, kill.at, kill.step, resumed.Eval, full.Eval)
			}
		}
	}
}

// sameLosses compares what a run computes (step, loss, learning rate, gradient norm), not its
// timings.
func sameLosses(a, b []results.Metric) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Step != b[i].Step || a[i].Loss != b[i].Loss || a[i].LR != b[i].LR || a[i].GradNorm != b[i].GradNorm || a[i].Diverged != b[i].Diverged {
			return false
		}
	}
	return true
}
