package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/run"
	"github.com/attnbench/attnbench/workbench/speed"
)

func plotCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot", stderr)
	runs := fs.String("runs", "", "run directories or globs (comma-separated) for the stability and extrapolation figures")
	speedFile := fs.String("speed", "", "speed.json of `workbench bench` for the speed and memory figures")
	out := fs.String("out", "figures", "output directory")
	prefix := fs.String("prefix", "", "prefix of the file names")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runs == "" && *speedFile == "" {
		return fmt.Errorf("plot: give -runs, -speed or both")
	}
	var written []string
	if *runs != "" {
		var dirs []string
		for _, pat := range splitList(*runs) {
			m, err := filepath.Glob(pat)
			if err != nil {
				return fmt.Errorf("plot: -runs %q: %w", pat, err)
			}
			for _, d := range m {
				if _, err := os.Stat(filepath.Join(d, "metrics.jsonl")); err == nil {
					dirs = append(dirs, d)
				}
			}
		}
		if len(dirs) == 0 {
			return fmt.Errorf("plot: -runs %q matches no run directory (one with metrics.jsonl)", *runs)
		}
		paths, err := plotRuns(dirs, *out, *prefix, true, true)
		if err != nil {
			return err
		}
		written = append(written, paths...)
	}
	if *speedFile != "" {
		rs, err := speed.ReadJSON(*speedFile)
		if err != nil {
			return err
		}
		paths, err := plotSpeed(rs, *out, *prefix)
		if err != nil {
			return err
		}
		written = append(written, paths...)
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(written, " "))
	return nil
}

var seedSuffix = regexp.MustCompile(`-s\d+$`)

// plotRuns draws the stability figure from every run and the extrapolation figure from those
// with evaluation results; seeds of one experiment (name-s<seed>) form one variant.
func plotRuns(dirs []string, out, prefix string, stability, extrapolation bool) ([]string, error) {
	var curves []plots.Curve
	type agg struct {
		sum map[int]float64
		n   map[int]int
		pos []float64
	}
	ext := map[string]*agg{}
	var order []string
	trainLen := 0
	for _, d := range dirs {
		e, err := experiment.Load(filepath.Join(d, "config.json"))
		if err != nil {
			return nil, err
		}
		trainLen = e.Data.SeqLen
		ms, err := run.ReadMetrics(d)
		if err != nil {
			return nil, err
		}
		variant := seedSuffix.ReplaceAllString(e.Name, "")
		c := plots.Curve{Variant: variant, Seed: e.Seed}
		for _, m := range ms {
			c.Steps = append(c.Steps, m.Step)
			c.Loss = append(c.Loss, float64(m.Loss))
			if m.Diverged {
				c.DivergedAt = m.Step
			}
		}
		curves = append(curves, c)
		ev, err := readEval(d)
		if err != nil || len(ev) == 0 {
			continue
		}
		a := ext[variant]
		if a == nil {
			a = &agg{sum: map[int]float64{}, n: map[int]int{}}
			ext[variant] = a
			order = append(order, variant)
		}
		longest := 0
		for _, r := range ev {
			if r.Windowed || r.Skipped != "" {
				continue
			}
			a.sum[r.Length] += math.Log(r.Perplexity)
			a.n[r.Length]++
			if r.Length > longest {
				longest, a.pos = r.Length, r.PositionLoss
			}
		}
	}
	var written []string
	var p []string
	if stability {
		f, err := plots.Stability(curves, "Training stability")
		if err != nil {
			return nil, err
		}
		if p, err = f.Export(out, prefix+"stability"); err != nil {
			return nil, err
		}
		written = append(written, p[0])
	}
	if extrapolation && len(order) > 0 {
		var ss, pos []plots.Series
		for _, v := range order {
			a := ext[v]
			s := plots.Series{Label: v}
			var lens []int
			for l := range a.sum {
				lens = append(lens, l)
			}
			slices.Sort(lens)
			for _, l := range lens {
				s.X = append(s.X, float64(l))
				s.Y = append(s.Y, math.Exp(a.sum[l]/float64(a.n[l]))) // geometric mean over seeds
			}
			ss = append(ss, s)
			if len(a.pos) > 0 {
				ps := plots.Series{Label: v}
				for t, l := range smooth(a.pos, max(1, len(a.pos)/64)) {
					ps.X = append(ps.X, float64(t*max(1, len(a.pos)/64)))
					ps.Y = append(ps.Y, math.Exp(l))
				}
				pos = append(pos, ps)
			}
		}
		f, err := plots.Extrapolation(ss, trainLen, "Perplexity against evaluation length")
		if err != nil {
			return nil, err
		}
		if p, err = f.Export(out, prefix+"extrapolation"); err != nil {
			return nil, err
		}
		written = append(written, p[0])
		if len(pos) > 0 {
			f, err := plots.PositionLoss(pos, "Position-wise perplexity at the longest length")
			if err != nil {
				return nil, err
			}
			if p, err = f.Export(out, prefix+"position"); err != nil {
				return nil, err
			}
			written = append(written, p[0])
		}
	}
	return written, nil
}

// smooth averages consecutive blocks of w values.
func smooth(x []float64, w int) []float64 {
	var out []float64
	for i := 0; i < len(x); i += w {
		s, n := 0.0, 0
		for _, v := range x[i:min(i+w, len(x))] {
			s, n = s+v, n+1
		}
		out = append(out, s/float64(n))
	}
	return out
}

func readEval(dir string) ([]run.EvalResult, error) {
	b, err := os.ReadFile(filepath.Join(dir, "eval.json"))
	if err != nil {
		return nil, err
	}
	var ev []run.EvalResult
	return ev, json.Unmarshal(b, &ev)
}

func plotSpeed(rs []speed.Result, out, prefix string) ([]string, error) {
	var written []string
	modes := map[string]bool{}
	for _, r := range rs {
		modes[r.Mode] = true
	}
	for _, mode := range []string{"fwd", "fwdbwd"} {
		if !modes[mode] {
			continue
		}
		label := map[string]string{"fwd": "forward", "fwdbwd": "forward + backward"}[mode]
		f, err := plots.Speed(rs, mode, "Attention time, "+label)
		if err != nil {
			return nil, err
		}
		p, err := f.Export(out, prefix+"speed-"+mode)
		if err != nil {
			return nil, err
		}
		written = append(written, p[0])
		f, err = plots.Memory(rs, mode, "Attention peak memory, "+label)
		if err != nil {
			return nil, err
		}
		if p, err = f.Export(out, prefix+"memory-"+mode); err != nil {
			return nil, err
		}
		written = append(written, p[0])
	}
	return written, nil
}
