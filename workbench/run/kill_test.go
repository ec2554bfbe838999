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
	for _, e := range everyMechanism(10, 3) {
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
				t.Fatalf("%s killed at %s %d: %v\n%s", e.Name, kill.at, kill.step, err, out)
			}
			resumed, err := Train(e, dir, o)
			if err != nil {
				t.Fatalf("%s killed at %s %d: resume: %v", e.Name, kill.at, kill.step, err)
			}
			if !sameLosses(resumed.Metrics, full.Metrics) {
				t.Errorf("%s killed at %s %d: metrics differ from the uninterrupted run", e.Name, kill.at, kill.step)
			}
			if !reflect.DeepEqual(resumed.Eval, full.Eval) {
				t.Errorf("%s killed at %s %d: evaluation %+v, uninterrupted %+v", e.Name, kill.at, kill.step, resumed.Eval, full.Eval)
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
