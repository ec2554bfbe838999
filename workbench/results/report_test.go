package results

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/attnbench/attnbench/workbench/experiment"
)

// writeRun lays out a run directory as run.Train leaves it.
func writeRun(t *testing.T, root, name string, seed uint64, losses []float64, ev []Eval) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := experiment.Default()
	e.Name, e.Seed = name, seed
	if err := e.Save(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(filepath.Join(dir, "metrics.jsonl"))
	for i, l := range losses {
		b, _ := json.Marshal(Metric{Step: 10 * (i + 1), Loss: Float(l), Diverged: math.IsNaN(l)})
		fmt.Fprintf(f, "%s\n", b)
	}
	f.Close()
	if ev != nil {
		if err := WriteEval(dir, ev); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Perplexity across seeds is the geometric mean; windowed and skipped lengths are kept apart;
// a diverged run keeps its NaN and its step.
func TestCollect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	root := t.TempDir()
	ppl := [2][3]float64{}
	for s := range 2 {
		for i := range 3 {
			ppl[s][i] = 2 + 10*rng.Float64()
		}
		ev := []Eval{{Length: 64, Perplexity: ppl[s][0]}, {Length: 256, Perplexity: ppl[s][1], PositionLoss: []float64{1, 2, 3}},
			{Length: 128, Perplexity: ppl[s][2]}, {Length: 64, Windowed: true, Perplexity: 100}, {Length: 4096, Skipped: "too long"}}
		writeRun(t, root, fmt.Sprintf("alibi-s%d", s+1), uint64(s+1), []float64{3, 2.5}, ev)
	}
	writeRun(t, root, "performer-s1", 1, []float64{3, math.NaN()}, nil)
	rep, err := Collect(RunDirs(root))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Curves) != 3 || len(rep.Perplexity) != 1 || len(rep.Windowed) != 1 || len(rep.Position) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	p := rep.Perplexity[0]
	if p.Label != "alibi" || fmt.Sprint(p.X) != "[64 128 256]" {
		t.Fatalf("perplexity series %+v", p)
	}
	for i, li := range []int{0, 2, 1} {
		want := math.Sqrt(ppl[0][li] * ppl[1][li])
		if math.Abs(p.Y[i]-want) > 1e-9*want {
			t.Errorf("ppl at %v = %v, want the geometric mean %v", p.X[i], p.Y[i], want)
		}
	}
	for _, c := range rep.Curves {
		if c.Variant == "performer" && (c.DivergedAt != 20 || !math.IsNaN(c.Loss[1])) {
			t.Errorf("diverged curve %+v", c)
		}
	}
	if got := rep.Position[0].Y; math.Abs(got[2]-math.Exp(3)) > 1e-9 {
		t.Errorf("position-wise perplexity %v, want exp of the losses", got)
	}
}

func TestMeanSE(t *testing.T) {
	m, se := MeanSE([]float64{1, 2, 3, 4})
	// sample sd of 1..4 is sqrt(5/3); se = sd/2.
	if m != 2.5 || math.Abs(se-math.Sqrt(5.0/3)/2) > 1e-12 {
		t.Errorf("MeanSE(1..4) = %v, %v", m, se)
	}
	if _, se := MeanSE([]float64{7}); se != 0 {
		t.Errorf("one value: se %v, want 0", se)
	}
}
