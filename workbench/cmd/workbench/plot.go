package main

import (
	"github.com/attnbench/attnbench/workbench/inspect"
	"github.com/attnbench/attnbench/workbench/results"

	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/run"
)

func plotCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot", stderr)
	runs := fs.String("runs", "", "run directories or globs (comma-separated) for the stability and extrapolation figures")
	speedFile := fs.String("speed", "", "speed.json of `workbench bench` for the speed and memory figures")
	attn := fs.String("attention", "", "run directory whose attention maps to draw (one figure per head)")
	text := fs.String("text", "func main() {\n\tfmt.Println(\"hello\")\n}\n", "text the attention maps are computed on")
	layer := fs.Int("layer", -1, "layer of the attention maps (0-based; -1 = last)")
	out := fs.String("out", "figures", "output directory")
	prefix := fs.String("prefix", "", "prefix of the file names")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runs == "" && *speedFile == "" && *attn == "" {
		return fmt.Errorf("plot: give -runs, -speed, -attention or several")
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
		rs, err := results.ReadSpeed(*speedFile)
		if err != nil {
			return err
		}
		paths, err := plotSpeed(rs, *out, *prefix)
		if err != nil {
			return err
		}
		written = append(written, paths...)
	}
	if *attn != "" {
		paths, err := plotAttention(*attn, *text, *layer, *out, *prefix)
		if err != nil {
			return err
		}
		written = append(written, paths...)
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(written, " "))
	return nil
}

// plotRuns draws the stability figure from every run and the extrapolation and position-wise
// figures from those with evaluation results.
func plotRuns(dirs []string, out, prefix string, stability, extrapolation bool) ([]string, error) {
	rep, err := results.Collect(dirs)
	if err != nil {
		return nil, err
	}
	var written []string
	export := func(f *plots.Figure, err error, name string) error {
		if err != nil {
			return err
		}
		p, err := f.Export(out, prefix+name)
		if err != nil {
			return err
		}
		written = append(written, p[0])
		return nil
	}
	if stability {
		if len(rep.Curves) == 0 {
			return nil, fmt.Errorf("plot: no run with metrics among %d directories", len(dirs))
		}
		f, err := plots.Stability(rep.Curves, "Training stability")
		if err := export(f, err, "stability"); err != nil {
			return nil, err
		}
	}
	if extrapolation && len(rep.Perplexity) > 0 {
		f, err := plots.Extrapolation(rep.Perplexity, rep.TrainLen, "Perplexity against evaluation length")
		if err := export(f, err, "extrapolation"); err != nil {
			return nil, err
		}
		if len(rep.Position) > 0 {
			f, err := plots.PositionLoss(rep.Position, "Position-wise perplexity at the longest length")
			if err := export(f, err, "position"); err != nil {
				return nil, err
			}
		}
	}
	return written, nil
}

func plotSpeed(rs []results.Speed, out, prefix string) ([]string, error) {
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

// plotAttention draws one attention map per head of the given layer of the run in dir.
func plotAttention(dir, text string, layer int, out, prefix string) ([]string, error) {
	e, err := experiment.Load(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	if layer < -1 || layer >= e.Model.Layers {
		return nil, fmt.Errorf("plot: -layer %d is outside [-1, %d]", layer, e.Model.Layers-1)
	}
	if layer == -1 {
		layer = e.Model.Layers - 1
	}
	ch, err := backend.New()
	if err != nil {
		return nil, err
	}
	w, err := inspect.AttentionWeights(dir, text, run.Options{Backend: ch.Backend})
	if err != nil {
		return nil, err
	}
	var written []string
	for h, m := range w[layer] {
		f, err := plots.AttentionMap(m, fmt.Sprintf("%s: layer %d, head %d", filepath.Base(dir), layer, h))
		if err != nil {
			return nil, err
		}
		p, err := f.Export(out, fmt.Sprintf("%sattention-l%d-h%d", prefix, layer, h))
		if err != nil {
			return nil, err
		}
		written = append(written, p[0])
	}
	return written, nil
}
