package nbview

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attnbench/attnbench/workbench/nbrun"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
)

// RequireEnv makes a missing Jupyter, Chromium or ChromeDriver fail the test instead of skipping it
// (CI installs them).
const RequireEnv = "ATTNBENCH_REQUIRE_BROWSER"

func needTools(t *testing.T) {
	t.Helper()
	for _, p := range []string{Jupyter, Chromium, ChromeDriver, nbrun.Python} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv(RequireEnv) != "" {
				t.Fatalf("%s is missing and %s is set", p, RequireEnv)
			}
			t.Skipf("%s is missing (Debian's jupyter-notebook, chromium and chromium-driver)", p)
		}
	}
}

// figureOutput is the display data plots.Figure.Show sends.
func figureOutput(t *testing.T, seed uint64) map[string]any {
	r := rand.New(rand.NewPCG(seed, 7))
	s := results.Series{Label: "loss"}
	for i := range 5 + r.IntN(20) {
		s.X, s.Y = append(s.X, float64(i+1)), append(s.Y, 1+r.Float64())
	}
	f, err := plots.Lines([]results.Series{s}, "figure", "step", "loss", false, false)
	if err != nil {
		t.Fatal(err)
	}
	data, metadata, err := f.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"output_type": "display_data", "metadata": metadata, "data": data}
}

func writeNotebook(t *testing.T, path string, cells ...[]map[string]any) {
	var cs []map[string]any
	for i, outs := range cells {
		cs = append(cs, map[string]any{"cell_type": "code", "execution_count": i + 1, "id": "c" + string(rune('a'+i)), "metadata": map[string]any{},
			"source": "%% cell", "outputs": outs})
	}
	cs = append([]map[string]any{{"cell_type": "markdown", "id": "md", "metadata": map[string]any{}, "source": "# A notebook"}}, cs...)
	nb := map[string]any{"nbformat": 4, "nbformat_minor": 5, "cells": cs, "metadata": map[string]any{
		"kernelspec": map[string]any{"name": "gonb", "display_name": "Go (gonb)", "language": "go"}}}
	b, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A notebook's figures show as images of non-zero size in Chromium: as inline SVG once signed,
// as PNG in an unsigned copy; an image that does not decode is reported.
func TestFiguresShowInTheBrowser(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", filepath.Join(dir, "jupyter")) // a fresh notary: nothing is trusted until signed
	text := map[string]any{"output_type": "stream", "name": "stdout", "text": "trained\n"}
	signed, unsigned := filepath.Join(dir, "signed.ipynb"), filepath.Join(dir, "unsigned.ipynb")
	for i, p := range []string{signed, unsigned} {
		seed := uint64(10 * i) // other figures: a signature is for the notebook's content
		writeNotebook(t, p, []map[string]any{text, figureOutput(t, seed+1)}, []map[string]any{}, []map[string]any{figureOutput(t, seed+2), figureOutput(t, seed+3)})
	}
	if err := nbrun.Sign(signed); err != nil {
		t.Fatal(err)
	}
	broken := figureOutput(t, 4)
	data := broken["data"].(map[string]any)
	delete(data, "image/svg+xml")
	data["image/png"] = base64.StdEncoding.EncodeToString([]byte("not a PNG at all"))
	brokenPath := filepath.Join(dir, "broken.ipynb")
	writeNotebook(t, brokenPath, []map[string]any{figureOutput(t, 5)}, []map[string]any{broken})

	s, err := StartServer(dir, filepath.Join(dir, "jupyter.log"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := StartBrowser(1200, 900, filepath.Join(dir, "chromedriver.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	for _, c := range []struct {
		path    string
		trusted bool
		kind    string
	}{{signed, true, "svg"}, {unsigned, false, "png"}} {
		r, err := View(s, b, c.path, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Err(); err != nil {
			t.Error(err)
		}
		if r.Trusted != c.trusted {
			t.Errorf("%s: trusted %v on the page, want %v", c.path, r.Trusted, c.trusted)
		}
		if want := []int{1, 3, 3}; len(r.Expected) != 3 || r.Expected[0] != want[0] || r.Expected[2] != want[2] {
			t.Errorf("%s: figure cells %v in the file, want %v", c.path, r.Expected, want)
		}
		if len(r.Figures) != 3 {
			t.Fatalf("%s: %d figures on the page, want 3: %+v", c.path, len(r.Figures), r.Figures)
		}
		for _, f := range r.Figures {
			// 6 x 4 inches at 96 CSS pixels per inch, as PNG or SVG.
			if f.Kind != c.kind || math.Abs(f.Width-576) > 1 || math.Abs(f.Height-384) > 1 {
				t.Errorf("%s: figure %+v, want a %s image of 576x384", c.path, f, c.kind)
			}
		}
		shot, err := b.Screenshot(r.Height)
		if err != nil {
			t.Fatal(err)
		}
		// The whole notebook: taller than its three figures.
		if cfg, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil || cfg.Width != 1200 || cfg.Height != r.Height || cfg.Height < 3*384 {
			t.Errorf("screenshot: %v, %dx%d; want a PNG of 1200x%d", err, cfg.Width, cfg.Height, r.Height)
		}
	}

	r, err := View(s, b, brokenPath, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "cell 3") || strings.Contains(err.Error(), "cell 2:") {
		t.Errorf("broken image: Err() = %v, want cell 3 named and cell 2 not", err)
	}
}

func TestReportErr(t *testing.T) {
	ok := Figure{Cell: 1, Kind: "png", Width: 10, Height: 10, Natural: 640}
	for _, c := range []struct {
		r    Report
		want string
	}{
		{Report{Expected: []int{1}, Figures: []Figure{ok}}, ""},
		{Report{Expected: []int{1, 1}, Figures: []Figure{ok}}, "cell 2: 2 figure(s) in the file, 1 shown"},
		{Report{Expected: nil, Figures: []Figure{ok}}, "cell 2: 1 figure(s) shown, 0 in the file"},
		{Report{Expected: []int{1}, Figures: []Figure{{Cell: 1, Kind: "svg", Width: 0, Height: 10}}}, "size 0x10"},
		{Report{Expected: []int{1}, Figures: []Figure{{Cell: 1, Kind: "png", Width: 10, Height: 10}}}, "decoded width 0"},
	} {
		err := c.r.Err()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: Err() = %v, want %q", c.r, err, c.want)
		}
	}
}
