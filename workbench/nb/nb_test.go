package nb

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/suite"
)

func TestEnvFollowsMode(t *testing.T) {
	defer func(m string) { *mode = m }(*mode)
	for _, tc := range []struct {
		mode string
		figs string
	}{{"full", "../figures"}, {"quick", "../runs/figures/quick"}, {"tiny", "../runs/figures/tiny"}} {
		*mode = tc.mode
		e := Env()
		if e.Scale != suite.Scale(tc.mode) || filepath.Clean(e.Figures) != filepath.Clean(tc.figs) || e.Runs != "../runs" || !e.Fresh || e.Backend == nil {
			t.Errorf("mode %s: %+v", tc.mode, e)
		}
	}
	*mode = "fast"
	defer func() {
		r := recover()
		if err, ok := r.(error); !ok || !strings.Contains(err.Error(), `"fast"`) || !strings.Contains(err.Error(), ModeEnv) {
			t.Errorf("unknown mode: %v", r)
		}
	}()
	Mode()
}

func TestProgressBarSilentOffTerminal(t *testing.T) {
	var buf strings.Builder
	bar := ProgressBar("x", 10, &buf)
	for s := 1; s <= 10; s++ {
		bar(results.Metric{Step: s, Loss: 1, TokensPS: 100})
	}
	if buf.Len() != 0 { // not a terminal and not a notebook: the bar stays silent
		t.Errorf("progress bar wrote %q to a non-terminal", buf.String())
	}
}
