package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/internal/testrun"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
)

// Every recipe runs at tiny scale, shows each figure it exports and writes PNG, SVG and PDF.
func TestEveryRecipeAtTinyScale(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	shown := 0
	env := Env{Backend: testrun.Backend(t), Scale: Tiny, Runs: filepath.Join(dir, "runs"), Figures: filepath.Join(dir, "figs"), Out: &out,
		Show: func(*plots.Figure) error { shown++; return nil }}
	if err := RunNamed(nil, env); err != nil {
		t.Fatal(err)
	}
	want := []string{"quickstart-loss", "quickstart-attention-h0", "stability", "phase", "conversion", "speed-fwd", "speed-fwdbwd", "memory-fwd",
		"memory-fwdbwd", "extrapolation-code", "windowed-code", "position-code", "kernels-kerple_log", "kernels-alibi", "approximation",
		"listops-loss", "recall"}
	for _, name := range want {
		for _, ext := range []string{".png", ".svg", ".pdf"} {
			if st, err := os.Stat(filepath.Join(dir, "figs", name+ext)); err != nil || st.Size() == 0 {
				t.Errorf("%s%s: %v", name, ext, err)
			}
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "figs", "*.png"))
	if shown != len(pngs) || shown < len(want) {
		t.Errorf("%d figures shown, %d exported", shown, len(pngs))
	}
	for _, f := range []string{"stability-tiny/table.csv", "phase-tiny/table.csv", "phase-tiny/sweep.json", "speed-tiny/speed.json", "extrapolation-tiny/code/table.csv"} {
		if _, err := os.Stat(filepath.Join(dir, "runs", f)); err != nil {
			t.Error(err)
		}
	}
	for _, s := range []string{"final training loss", "perplexity by evaluation length", "recall accuracy", "majority", "prf-rpe    all:"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

func TestBadEnv(t *testing.T) {
	b := testrun.Backend(t)
	for _, tc := range []struct {
		names []string
		env   Env
		want  string
	}{
		{nil, Env{Scale: Tiny, Runs: "x"}, "Backend"},
		{nil, Env{Backend: b, Scale: "huge", Runs: "x"}, `"huge"`},
		{nil, Env{Backend: b, Scale: Tiny}, "Runs"},
		{[]string{"stabilty"}, Env{Backend: b, Scale: Tiny, Runs: "x"}, "stability"},
	} {
		if err := RunNamed(tc.names, tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RunNamed(%v, %+v) = %v, want an error naming %s", tc.names, tc.env, err, tc.want)
		}
	}
	if FigureDir("/r", Full) != "/r/figures" || FigureDir("/r", Quick) != "/r/runs/figures/quick" {
		t.Error("FigureDir")
	}
}

func TestGPUSpeedFigures(t *testing.T) {
	if fs, err := GPUSpeedFigures(filepath.Join(t.TempDir(), "absent.json")); err != nil || len(fs) != 0 {
		t.Fatalf("absent file: %d figures, %v", len(fs), err)
	}
	dir := t.TempDir()
	var rs []results.Speed
	for _, v := range []string{"softmax", "fftrpe-m16", "torch:softmax", "torch:fftrpe-m16"} {
		for i, n := range []int{1024, 4096, 16384} {
			for _, mode := range []string{"fwd", "fwdbwd"} {
				rs = append(rs, results.Speed{Variant: v, N: n, Mode: mode, MedianS: 0.001 * float64(i+1), MinS: 0.001, MaxS: 0.01})
			}
		}
	}
	good := filepath.Join(dir, "speed.json")
	if err := results.WriteSpeed(good, rs); err != nil {
		t.Fatal(err)
	}
	fs, err := GPUSpeedFigures(good)
	if err != nil || len(fs) != 2 || fs[0].Name != "speed-gpu-fwd" || fs[1].Name != "speed-gpu-fwdbwd" {
		t.Fatalf("got %v, %v; want speed-gpu-fwd and speed-gpu-fwdbwd", fs, err)
	}
	if _, _, err := fs[1].Figure.Bundle(); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"variant": "softmax", "n": `), 0o644)
	if _, err := GPUSpeedFigures(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("damaged file: got %v, want an error naming it", err)
	}
}
