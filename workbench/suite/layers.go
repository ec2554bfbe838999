package suite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/approx"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/run"
	"github.com/attnbench/attnbench/workbench/speed"
)

// Speed times the attention layers of speed.Defaults (bidirectional, so Skyformer is included)
// forward and forward+backward against n, with 8 heads of 64 dimensions, and writes speed.json
// and speed.csv under the recipe's run root. Figures: speed-fwd, speed-fwdbwd, memory-fwd,
// memory-fwdbwd.
func Speed(env Env) error {
	root, err := env.root("speed")
	if err != nil {
		return err
	}
	cfg := speed.Config{Variants: speed.Defaults(false), Heads: pick(env.Scale, 2, 8, 8), HeadDim: pick(env.Scale, 8, 64, 64), Backward: true,
		TimeBudget: 30 * time.Second, MemBudgetMB: 12000, Progress: env.Out,
		Lengths: pick(env.Scale, []int{16, 32}, []int{128, 256, 512, 1024}, []int{256, 512, 1024, 2048, 4096, 8192}),
		Reps:    pick(env.Scale, 1, 1, 3)}
	rs, err := speed.Run(env.Backend, cfg)
	if err != nil {
		return err
	}
	for _, name := range []string{"speed.json", "speed.csv"} {
		if err := results.WriteSpeed(filepath.Join(root, name), rs); err != nil {
			return err
		}
	}
	for _, r := range rs {
		if r.Skipped != "" {
			env.printf("skipped %s n=%d %s: %s\n", r.Variant, r.N, r.Mode, r.Skipped)
		}
	}
	fs, err := SpeedFigures(rs, env.Backend.Name())
	if err != nil {
		return err
	}
	gpu, err := GPUSpeedFigures(env.GPUSpeed)
	if err != nil {
		return err
	}
	return env.emitAll(append(fs, gpu...))
}

// GPUSpeedFigures draws the GPU check's results at path (speed-gpu-fwd, speed-gpu-fwdbwd, with
// the PyTorch peer dashed), or none when path is "" or absent. A file that exists but does not
// read is an error naming it.
func GPUSpeedFigures(path string) ([]Named, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	rs, err := results.ReadSpeed(path)
	if err != nil {
		return nil, fmt.Errorf("GPU speed results %s: %w", path, err)
	}
	fs, err := SpeedFigures(rs, "XLA CUDA (GPU check)")
	if err != nil {
		return nil, fmt.Errorf("GPU speed results %s: %w", path, err)
	}
	var out []Named
	for _, f := range fs {
		if strings.HasPrefix(f.Name, "speed-") {
			out = append(out, Named{"speed-gpu-" + strings.TrimPrefix(f.Name, "speed-"), f.Figure})
		}
	}
	return out, nil
}

// Approximation measures the relative error of the attention output of every approx.Defaults
// variant against its reference as its size grows, on random queries and keys of scale 0.6.
// Figure: approximation.
func Approximation(env Env) error {
	cfg := approx.Config{Heads: pick(env.Scale, 2, 4, 4), Dim: pick(env.Scale, 8, 32, 32), Scale: 0.6, Seed: 1,
		N: pick(env.Scale, 32, 128, 512), Draws: pick(env.Scale, 2, 4, 16)}
	ss, err := approx.Curves(env.Backend, approx.Defaults(), func(v approx.Variant) []int {
		if v.SizeParam == "landmarks" {
			return pick(env.Scale, []int{4, 8}, []int{4, 8, 16, 32, 64}, []int{4, 8, 16, 32, 64})
		}
		return pick(env.Scale, []int{8, 32}, []int{8, 16, 32, 64, 128, 256, 512}, []int{8, 16, 32, 64, 128, 256, 512})
	}, cfg)
	if err != nil {
		return err
	}
	for _, s := range ss {
		env.printf("%-10s sizes %v: error %.3f\n", s.Label, s.X, s.Y)
	}
	f, err := plots.ApproxError(ss, fmt.Sprintf("Approximation error of the attention output (n = %d, d = %d)", cfg.N, cfg.Dim))
	return env.emit("approximation", f, err)
}

// classifierVariant is a mechanism of the classification recipes with the encoding it is
// compared with.
type classifierVariant struct {
	name, attn string
	params     params.Given
	pe         string
}

// classifierVariants are the mechanisms of the classification recipes. Skyformer's convergent
// pseudo-inverse (40 Newton-Schulz iterations) is for full scale; below it takes the reference's
// 6, since each iteration is several small matmuls, slow on the pure-Go backend.
func classifierVariants(s Scale) []classifierVariant {
	return []classifierVariant{
		{"softmax + ALiBi", "softmax", nil, "alibi"},
		{"Performer", "performer", params.Given{"m": 32}, "none"},
		{"FFT-RPE + KERPLE-log", "kernelized_rpe", params.Given{"m": 32}, "kerple_log"},
		{"SchoenbAt", "schoenbat", params.Given{"features": 64}, "none"},
		{"Skyformer", "skyformer", params.Given{"landmarks": 32, "pinv": pick(s, "reference", "reference", "convergent")}, "none"},
	}
}

// ListOps trains an encoder classifier per mechanism on generated ListOps (LRA, Tay et al.
// 2021) and reports validation and test accuracy against the majority class. Figure:
// listops-loss.
func ListOps(env Env) error {
	root, err := env.root("listops")
	if err != nil {
		return err
	}
	data := pick(env.Scale,
		experiment.ListOps{MaxDepth: 3, MaxArgs: 3, MinLength: 4, MaxLength: 24, Train: 200, Valid: 40, Test: 40, Seed: 1},
		experiment.ListOps{MaxDepth: 4, MaxArgs: 4, MinLength: 8, MaxLength: 40, Train: 1500, Valid: 200, Test: 300, Seed: 1},
		experiment.ListOps{MaxDepth: 6, MaxArgs: 6, MinLength: 20, MaxLength: 128, Train: 8000, Valid: 500, Test: 500, Seed: 1})
	steps := pick(env.Scale, 6, 100, 400)
	var curves []results.Curve
	env.printf("%-22s %9s %9s %9s\n", "variant", "valid", "test", "majority")
	for _, v := range classifierVariants(env.Scale) {
		e := experiment.Experiment{
			Name:  v.name,
			Model: transformer.Config{Width: pick(env.Scale, 16, 64, 64), Heads: 4, Layers: 2, Attention: v.attn, AttentionParams: v.params, PosEnc: posenc.Config{Kind: v.pe}},
			Data:  experiment.Data{Task: experiment.TaskListOps, ListOps: &data, Batch: 32},
			Optim: experiment.Optim{Steps: steps, LR: 1e-3, ClipNorm: 1},
			Seed:  1, LogEvery: 1,
		}
		res, err := run.Train(e, filepath.Join(root, v.name), env.optionsFor(v.name, steps))
		if err != nil {
			return err
		}
		acc := map[string]results.Eval{}
		for _, r := range res.Eval {
			acc[r.Split] = r
		}
		env.printf("%-22s %9.3f %9.3f %9.3f\n", v.name, acc["valid"].Accuracy, acc["test"].Accuracy, acc["test"].Baseline)
		curves = append(curves, results.CurveOf(v.name, 1, res.Metrics))
	}
	f, err := plots.Stability(curves, "ListOps: training loss")
	return env.emit("listops-loss", f, err)
}

// Recall trains a causal model per mechanism and sequence length on associative recall and
// draws the test accuracy against length: the task where linear attention's fixed-size state
// falls behind softmax as the number of pairs grows. Figure: recall.
func Recall(env Env) error {
	root, err := env.root("recall")
	if err != nil {
		return err
	}
	pairs := pick(env.Scale, []int{2, 4}, []int{4, 8}, []int{8, 16, 32, 64, 128})
	steps := pick(env.Scale, 6, 120, 1000)
	var exps []experiment.Experiment
	var names []string
	for _, v := range classifierVariants(env.Scale) {
		if v.attn == "skyformer" { // bidirectional only
			continue
		}
		names = append(names, v.name)
		for _, p := range pairs {
			e := experiment.Experiment{
				Name:  fmt.Sprintf("%s-n%d", v.name, p),
				Model: transformer.Config{Width: pick(env.Scale, 16, 64, 64), Heads: 4, Layers: 2, Attention: v.attn, AttentionParams: v.params, PosEnc: posenc.Config{Kind: v.pe}},
				Data:  experiment.Data{Task: experiment.TaskRecall, Recall: &experiment.Recall{Pairs: p, Keys: max(64, 2*p), Values: 64}, Batch: 32},
				Optim: experiment.Optim{Steps: steps, LR: 1e-3, ClipNorm: 1},
				Eval:  experiment.Eval{Sequences: pick(env.Scale, 2, 16, 32)},
				Seed:  1,
			}
			exps = append(exps, e)
		}
	}
	if _, err := run.Sweep(exps, root, env.options()); err != nil {
		return err
	}
	var ss []results.Series
	env.printf("%-22s", "recall accuracy")
	for _, p := range pairs {
		env.printf(" %6d", 2*p+1)
	}
	env.printf("  (sequence length)\n")
	for _, name := range names {
		s := results.Series{Label: name}
		env.printf("%-22s", name)
		for _, p := range pairs {
			ev, err := results.ReadEval(filepath.Join(root, fmt.Sprintf("%s-n%d", name, p)))
			if err != nil || len(ev) == 0 || ev[0].Skipped != "" {
				env.printf(" %6s", "-")
				continue
			}
			s.X, s.Y = append(s.X, float64(ev[0].Length)), append(s.Y, ev[0].Accuracy)
			env.printf(" %6.3f", ev[0].Accuracy)
		}
		env.printf("\n")
		ss = append(ss, s)
	}
	f, err := plots.Lines(ss, "Associative recall (64 values, chance 1/64)", "sequence length (2 pairs + 1)", "test accuracy", true, false)
	return env.emit("recall", f, err)
}
