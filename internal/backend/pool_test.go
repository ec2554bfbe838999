package backend

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// stressEnv names the Go backend configuration the child process of the pool tests runs.
const stressEnv = "ATTNBENCH_POOL_STRESS"

// TestPoolStressChild is the child: eight independent large matmuls in one graph, so that in
// parallel-ops mode eight ops that each fan out on the worker pool are ready at once.
func TestPoolStressChild(t *testing.T) {
	cfg := os.Getenv(stressEnv)
	if cfg == "" {
		t.Skip("run by the pool tests in a child process")
	}
	b, err := compute.NewWithConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	exec := MustNewExec(b, func(x *Node) *Node {
		var sum *Node
		for i := range 8 {
			xi := Reshape(Slice(x, AxisElem(i)), 1, 384, 384)
			p := ReduceAllSum(DotGeneral(xi, []int{2}, []int{0}, xi, []int{1}, []int{0}))
			if sum == nil {
				sum = p
			} else {
				sum = Add(sum, p)
			}
		}
		return sum
	})
	in := make([]float32, 8*384*384)
	for i := range in {
		in[i] = float32(i%7) / 7
	}
	for range 60 {
		exec.MustCall1(tensors.FromFlatDataAndDimensions(in, 8, 1, 384, 384)).MustFinalizeAll()
	}
}

// runStress runs the child with cfg and reports whether it finished within limit.
func runStress(t *testing.T, cfg string, limit time.Duration) (finished bool, out []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPoolStressChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), stressEnv+"="+cfg)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return false, out
	}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		t.Fatalf("child with %q failed: %v\n%s", cfg, err, out)
	}
	return true, out
}

// TestGoConfigDoesNotDeadlock: the configuration the chooser uses runs the stress graph to the
// end. (compute v0.1.2's bounded pool deadlocks on it: a matmul op running on a pool worker
// fans out with Saturate and waits for workers that the other ready matmul ops hold.)
func TestGoConfigDoesNotDeadlock(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if ok, out := runStress(t, GoConfig, 3*time.Minute); !ok {
		t.Fatalf("%s: the stress graph did not finish in 3 minutes (deadlock)\n%s", GoConfig, out)
	}
}

// TestBoundedPoolDeadlocks documents the bug the chooser avoids; it runs only when asked
// (ATTNBENCH_REPRO_DEADLOCK=1), since it waits for the deadlock to last a minute.
func TestBoundedPoolDeadlocks(t *testing.T) {
	if os.Getenv("ATTNBENCH_REPRO_DEADLOCK") != "1" {
		t.Skip("set ATTNBENCH_REPRO_DEADLOCK=1 to reproduce compute v0.1.2's worker-pool deadlock")
	}
	if ok, _ := runStress(t, "go:ops_parallel", time.Minute); ok {
		t.Fatal("the default bounded pool with parallel ops finished: the deadlock did not reproduce")
	}
}
