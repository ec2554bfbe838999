package main

import (
	"github.com/attnbench/attnbench/workbench/inspect"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/suite"

	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/experiment"
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
		paths, err := plotRuns(dirs, *out, *prefix)
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

// export writes figures to out with prefix and returns the first path of each.
func export(fs []suite.Named, out, prefix string) ([]string, error) {
	var written []string
	for _, f := range fs {
		p, err := f.Figure.Export(out, prefix+f.Name)
		if err != nil {
			return nil, err
		}
		written = append(written, p[0])
	}
	return written, nil
}

// plotRuns draws the training loss of every run and, for those with evaluations, perplexity
// against length and position.
func plotRuns(dirs []string, out, prefix string) ([]string, error) {
	rep, err := results.Collect(dirs)
	if err != nil {
		return nil, err
	}
	fs, err := suite.ReportFigures(rep, fmt.Sprintf("%d runs", len(dirs)), "", true)
	if err != nil {
		return nil, err
	}
	return export(fs, out, prefix)
}

func plotSpeed(rs []results.Speed, out, prefix string) ([]string, error) {
	fs, err := suite.SpeedFigures(rs, "")
	if err != nil {
		return nil, err
	}
	return export(fs, out, prefix)
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
	fs, err := suite.AttentionFigures(w, layer, filepath.Base(dir), fmt.Sprintf("%sattention-l%d", prefix, layer))
	if err != nil {
		return nil, err
	}
	return export(fs, out, "")
}
