package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/internal/testrun"
	"github.com/attnbench/attnbench/workbench/plots"
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
	want := []string{"quickstart-loss", "quickstart-attention-h0", "stability", "conversion", "speed-fwd", "speed-fwdbwd", "memory-fwd",
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
	for _, f := range []string{"stability-tiny/table.csv", "speed-tiny/speed.json", "extrapolation-tiny/code/table.csv"} {
		if _, err := os.Stat(filepath.Join(dir, "runs", f)); err != nil {
			t.Error(err)
		}
	}
	for _, s := range []string{"final training loss", "perplexity by evaluation length", "recall accuracy", "majority"} {
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
