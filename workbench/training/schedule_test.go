package training

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/workbench/backend"
)

// The graph schedule equals the float64 one at every step, warms up linearly and ends at min.
func TestScheduleGraphMatchesHost(t *testing.T) {
	b := backend.MustShared()
	for _, c := range []struct{ warmup, steps int }{{0, 7}, {1, 1}, {3, 20}, {10, 100}} {
		exec := MustNewExec(b, func(k *Node) *Node { return ScheduleGraph(k, 0.01, 1e-4, c.warmup, c.steps) })
		for k := range c.steps {
			got := float64(tensors.ToScalar[float32](exec.MustCall(tensors.FromScalar(float32(k)))[0]))
			want := Schedule(k, 0.01, 1e-4, c.warmup, c.steps)
			if math.Abs(got-want) > 1e-6 {
				t.Errorf("warmup %d steps %d: k=%d graph %g host %g", c.warmup, c.steps, k, got, want)
			}
		}
	}
	if s := Schedule(0, 1, 0, 4, 100); s != 0.25 {
		t.Errorf("first warmup step %g, want 0.25", s)
	}
	if s := Schedule(99, 1, 0.1, 0, 100); math.Abs(s-0.1) > 1e-3 {
		t.Errorf("last step %g, want about min 0.1", s)
	}
}
