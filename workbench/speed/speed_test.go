package speed

import (
	"github.com/attnbench/attnbench/workbench/results"

	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/attnbench/attnbench/workbench/backend"
)

func TestRunAllVariants(t *testing.T) {
	b := backend.MustShared()
	for _, causal := range []bool{true, false} {
		vs := Defaults(causal)
		rs, err := Run(b, Config{Variants: vs, Lengths: []int{33, 4}, Heads: 2, HeadDim: 8, Causal: causal, Reps: 2, Backward: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != len(vs)*2*2 {
			t.Fatalf("causal=%v: %d results, want %d", causal, len(rs), len(vs)*4)
		}
		for _, r := range rs {
			if r.Skipped != "" || !(r.MedianS > 0) || r.MinS > r.MedianS || r.MedianS > r.MaxS || r.PeakMB < 0 {
				t.Errorf("%+v", r)
			}
		}
		if rs[0].N != 4 || rs[1].N != 33 {
			t.Errorf("lengths not measured smallest first: %d, %d", rs[0].N, rs[1].N)
		}
	}
}

func TestBudgetsAndFiles(t *testing.T) {
	b := backend.MustShared()
	v := Defaults(true)[:1]
	rs, err := Run(b, Config{Variants: v, Lengths: []int{8, 16, 32}, Heads: 1, HeadDim: 4, Causal: true, Reps: 1, TimeBudget: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Skipped != "" || !strings.Contains(rs[1].Skipped, "budget") || !strings.Contains(rs[2].Skipped, "budget") {
		t.Errorf("time budget: %+v", rs)
	}
	rs, err = Run(b, Config{Variants: v, Lengths: []int{64, 4096}, Heads: 1, HeadDim: 4, Causal: true, Reps: 1, MemBudgetMB: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Skipped != "" || !strings.Contains(rs[1].Skipped, "MB") {
		t.Errorf("memory budget: %+v", rs)
	}
	dir := t.TempDir()
	if err := results.WriteSpeed(filepath.Join(dir, "s.json"), rs); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteSpeed(filepath.Join(dir, "s.csv"), rs); err != nil {
		t.Fatal(err)
	}
	back, err := results.ReadSpeed(filepath.Join(dir, "s.json"))
	if err != nil || !reflect.DeepEqual(back, rs) {
		t.Errorf("JSON round trip: %v", err)
	}
	if _, err := Run(b, Config{Variants: []Variant{{Name: "x", Attention: "skyformer"}}, Lengths: []int{8}, Causal: true}); err == nil {
		t.Error("causal Skyformer accepted")
	}
	if _, err := Run(b, Config{Variants: v, Lengths: []int{0}}); err == nil {
		t.Error("length 0 accepted")
	}
}
