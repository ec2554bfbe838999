// Package suite holds every figure recipe of the workbench at a named scale: the stability and
// conversion experiments of Luo et al. 2021, KERPLE's extrapolation, the learned kernel shapes,
// the speed and memory of the attention layers, the approximation error of random features,
// ListOps, associative recall and the quickstart. The command's `figures`, its `plot` and every
// notebook run the same recipes, so they draw the same figures from the same settings.
package suite

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute"

	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/run"
	"github.com/attnbench/attnbench/workbench/sweep"
)

// Scale is the size of a recipe.
type Scale string

const (
	Tiny  Scale = "tiny"  // seconds: the tests
	Quick Scale = "quick" // minutes on two cores: the notebooks' default and CI
	Full  Scale = "full"  // tens of minutes: the figures committed in figures/
)

// Scales lists the scales, smallest first.
var Scales = []Scale{Tiny, Quick, Full}

// ParseScale checks a scale name.
func ParseScale(s string) (Scale, error) {
	if !slices.Contains(Scales, Scale(s)) {
		return "", fmt.Errorf("suite: scale %q is unknown, valid scales: tiny, quick, full", s)
	}
	return Scale(s), nil
}

// pick returns the value of a recipe setting at scale s.
func pick[T any](s Scale, tiny, quick, full T) T {
	switch s {
	case Tiny:
		return tiny
	case Full:
		return full
	}
	return quick
}

// FigureDir is where the figures of a scale land under the repository root: full-scale figures
// in figures/ (the committed ones), the others in runs/figures/<scale>, so a quick run never
// overwrites the committed figures.
func FigureDir(root string, s Scale) string {
	if s == Full {
		return filepath.Join(root, "figures")
	}
	return filepath.Join(root, "runs", "figures", string(s))
}

// Env is where a recipe runs and where its output goes.
type Env struct {
	Backend compute.Backend
	Scale   Scale
	// Runs is the root of the run directories; a recipe trains under Runs/<recipe>-<scale>.
	Runs string
	// Figures is the export directory; "" exports nothing.
	Figures string
	// Out receives the tables and progress lines; nil discards them.
	Out io.Writer
	// Show displays a figure inline (notebooks); nil shows nothing.
	Show func(*plots.Figure) error
	// Fresh removes a recipe's runs before it starts; otherwise finished runs are reused and
	// interrupted ones resume.
	Fresh bool
	// Progress, when set, makes a per-run progress callback (notebook progress bars).
	Progress func(name string, steps int) func(results.Metric)
	// Seeds, when > 0, replaces the scale's number of seeds of the recipes that sweep seeds
	// (stability).
	Seeds int
	// RunSweep, when set, runs the unfinished runs of a sweep whose file is file (the workbench
	// command: several processes at once); nil runs them one after another in this process.
	RunSweep func(file string, f *sweep.File) error
	// GPUSpeed is the speed.json written by the GPU check (.ci/gpu-check); when the file exists
	// the speed recipe draws it beside this machine's results. "" draws none.
	GPUSpeed string
}

// GPUSpeedFile is where the GPU check's speed results are committed, under the repository root.
const GPUSpeedFile = "figures/gpu/speed.json"

// Recipe is one family of figures.
type Recipe struct {
	Name string
	Doc  string
	Run  func(env Env) error
}

var recipes = []Recipe{
	{"quickstart", "a small KERPLE-log language model on prose: loss, perplexity by length, a sample, attention maps", Quickstart},
	{"stability", "Luo et al. 2021: PRF attention without and with RPE over seeds at a high learning rate", Stability},
	{"phase", "Luo et al. 2021: where PRF attention diverges, without and with RPE, over learning rate x length x seeds", Phase},
	{"conversion", "Luo et al. 2021: a softmax-trained model evaluated with PRF attention, with and without RPE", Conversion},
	{"speed", "time and peak memory of the attention layers against sequence length", Speed},
	{"extrapolation", "KERPLE: perplexity against evaluation length per encoding, plain, windowed and per position", Extrapolation},
	{"kernels", "learned bias against distance per head, beyond the training length", Kernels},
	{"approximation", "relative error of random-feature and Nystrom attention against the number of features", Approximation},
	{"listops", "LRA ListOps accuracy and loss per mechanism", ListOps},
	{"recall", "associative recall accuracy against sequence length per mechanism", Recall},
}

// Recipes lists the recipes in the order the command runs them.
func Recipes() []Recipe { return slices.Clone(recipes) }

// Names lists the recipe names.
func Names() []string {
	var out []string
	for _, r := range recipes {
		out = append(out, r.Name)
	}
	return out
}

// RunNamed runs the named recipes (all when names is empty) in order.
func RunNamed(names []string, env Env) error {
	if err := env.check(); err != nil {
		return err
	}
	for _, n := range names {
		if !slices.Contains(Names(), n) {
			return fmt.Errorf("suite: recipe %q is unknown, valid recipes: %s", n, strings.Join(Names(), ", "))
		}
	}
	for _, r := range recipes {
		if len(names) > 0 && !slices.Contains(names, r.Name) {
			continue
		}
		if err := r.Run(env); err != nil {
			return fmt.Errorf("suite %s: %w", r.Name, err)
		}
	}
	return nil
}

func (env Env) check() error {
	if env.Backend == nil {
		return fmt.Errorf("suite: Env.Backend is nil")
	}
	if _, err := ParseScale(string(env.Scale)); err != nil {
		return err
	}
	if env.Runs == "" {
		return fmt.Errorf("suite: Env.Runs is empty, want the root of the run directories")
	}
	return nil
}

// root returns the recipe's run root, removed first when env.Fresh.
func (env Env) root(recipe string) (string, error) {
	if err := env.check(); err != nil {
		return "", err
	}
	dir := filepath.Join(env.Runs, recipe+"-"+string(env.Scale))
	if env.Fresh {
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
	}
	return dir, os.MkdirAll(dir, 0o755)
}

func (env Env) printf(format string, args ...any) {
	if env.Out != nil {
		fmt.Fprintf(env.Out, format, args...)
	}
}

// options are the training options of a recipe's runs.
func (env Env) options() run.Options {
	return run.Options{Backend: env.Backend}
}

func (env Env) optionsFor(name string, steps int) run.Options {
	o := env.options()
	if env.Progress != nil {
		o.OnStep = env.Progress(name, steps)
	}
	return o
}

// emit shows and exports a figure.
func (env Env) emit(name string, f *plots.Figure, err error) error {
	if err != nil {
		return fmt.Errorf("figure %s: %w", name, err)
	}
	if env.Show != nil {
		if err := env.Show(f); err != nil {
			return err
		}
	}
	if env.Figures != "" {
		paths, err := f.Export(env.Figures, name)
		if err != nil {
			return err
		}
		env.printf("exported %s\n", strings.Join(paths, " "))
	}
	return nil
}
