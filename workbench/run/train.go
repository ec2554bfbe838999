// Package run trains an experiment in its own directory: the resolved config (config.json),
// metrics.jsonl (step, loss, learning rate, gradient norm, tokens/s, wall time), atomic checkpoints
// that a killed run resumes from, divergence detection (status.json) and evaluation results.
package run

import (
	"strings"

	"github.com/gomlx/gomlx/ml/train/metric"

	"github.com/attnbench/attnbench/workbench/results"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/attnbench/attnbench/datasets/tokens"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/training"
)

// Options of Train.
type Options struct {
	Backend compute.Backend
	// Progress receives a progress line every LogEvery steps; nil for none.
	Progress io.Writer
	// OnStep, when set, is called after every step with its metric (notebook progress bars).
	OnStep func(results.Metric)
	// StopAt stops training after this global step as if the process were killed there (no final
	// checkpoint, no evaluation); 0 = run to the end.
	StopAt int
	// SkipEval leaves out the evaluation at the end.
	SkipEval bool
	// Data, when set, is used instead of opening the experiment's corpus.
	Data *tokens.Splits

	perturb func(step int, loss float64) float64 // tests: force a NaN or a spike
	fail    func(step int) error                 // tests: an error after a step
	crash   func(step int, at string)            // tests: a kill after a step ("step") or between a checkpoint's files and its pointer ("checkpoint")
}

// Status is status.json: "running", "done", "diverged" or "failed" (an error stopped the run;
// running it again resumes from its last checkpoint).
type Status struct {
	State      string `json:"state"`
	Step       int    `json:"step"`
	Reason     string `json:"reason,omitempty"`
	Parameters int    `json:"parameters,omitempty"`
}

// Result summarises a run.
type Result struct {
	Dir        string
	Status     Status
	Metrics    []results.Metric // every logged step of the run, including those before a resume
	FinalLoss  float64          // training loss of the last step
	ResumedAt  int              // the checkpoint step the run started from (0 = fresh)
	Eval       []results.Eval
	Parameters int
}

// ReadStatus reads a run's status.json.
func ReadStatus(dir string) (Status, error) {
	var s Status
	path := filepath.Join(dir, "status.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("run: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("run: %s is damaged: %w", path, err)
	}
	return s, nil
}

// Train runs (or resumes) the experiment in dir. A directory that holds a different experiment is
// an error; one that holds the same experiment resumes from its last checkpoint.
func Train(e experiment.Experiment, dir string, o Options) (_ *Result, err error) {
	e = e.Resolve()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if o.Backend == nil {
		return nil, errors.New("run: Options.Backend is nil")
	}
	if err := os.MkdirAll(checkpointDir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := checkConfig(dir, e); err != nil {
		return nil, err
	}
	if st, err := ReadStatus(dir); err == nil && (st.State == "done" || st.State == "diverged") {
		return resultFromDir(dir, st) // finished: report it, do not train or evaluate again
	}
	t, err := newTask(e, o)
	if err != nil {
		return nil, err
	}
	defer t.close()
	cfg, err := e.ModelConfig()
	if err != nil {
		return nil, err
	}
	m, err := transformer.New(cfg)
	if err != nil {
		return nil, err
	}

	// Resume: drop unfinished checkpoints and the metrics logged after the last complete one.
	ptr, err := prepareCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	start := ptr.Step
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(e.Seed)+1)
	store.SetParam(optimizer.ParamLearningRate, e.Optim.LR)
	ckpt, err := checkpoint.Build(store).Dir(checkpointDir(dir)).Keep(2).ExcludeAllParams().Done()
	if err != nil {
		return nil, damaged(dir, ptr.Step, err)
	}
	freeze(store, ptr.Frozen)
	if got := int(optimizer.GetGlobalStep(store)); got != start {
		return nil, fmt.Errorf("run: checkpoint in %s is at step %d, its pointer says %d", dir, got, start)
	}
	// The checkpoint loads: drop the metric lines logged after it.
	if err := truncateMetrics(dir, start); err != nil {
		return nil, err
	}
	opt := training.ClipGlobalNorm(optimizer.Adam().Betas(e.Optim.Beta1, e.Optim.Beta2).Epsilon(e.Optim.Eps).
		WeightDecay(e.Optim.WeightDecay).Done(), e.Optim.ClipNorm)
	modelFn := func(scope *model.Scope, tok *Node) *Node {
		g := tok.Graph()
		if scope.IsTraining(g) {
			step := ConvertDType(optimizer.GetGlobalStepVar(scope).NodeValue(g), dtypes.Float32)
			lr := training.ScheduleGraph(step, e.Optim.LR, e.Optim.MinLR, e.Optim.WarmupSteps, e.Optim.Steps)
			optimizer.LearningRateVarWithValue(scope, dtypes.Float32, e.Optim.LR).SetNodeValue(lr)
		}
		return t.output(m, scope, tok)
	}
	tr := train.NewTrainer(o.Backend, store, modelFn, t.loss, opt, nil, nil)

	res := &Result{Dir: dir, ResumedAt: start}
	metricsFile, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	defer metricsFile.Close()
	if err := writeJSONAtomic(filepath.Join(dir, "status.json"), Status{State: "running", Step: start}); err != nil {
		return nil, err
	}
	lastStep := start
	defer func() { // a run stopped by an error does not stay "running"
		if err != nil {
			writeJSONAtomic(filepath.Join(dir, "status.json"), Status{State: "failed", Step: lastStep, Reason: err.Error()})
		}
	}()
	det := &Detector{Factor: e.Divergence.SpikeFactor, Window: e.Divergence.SpikeWindow, recent: ptr.Recent}
	t0 := time.Now()
	tokensPerStep := t.tokensPerStep()
	save := func(step int) error {
		if err := metricsFile.Sync(); err != nil {
			return fmt.Errorf("run: %w", err)
		}
		// The trainer's running metrics live under a fresh name per process: a checkpoint that
		// kept them would grow by two variables at every resume.
		for v := range store.IterVariables() {
			if strings.HasPrefix(v.Path(), "/"+metric.Scope+"/") {
				ckpt.ExcludeVarsFromSaving(v)
			}
		}
		if err := ckpt.Save(); err != nil {
			return fmt.Errorf("run: saving checkpoint at step %d: %w", step, err)
		}
		if o.crash != nil {
			o.crash(step, "checkpoint")
		}
		return savePointer(dir, pointer{Step: step, Recent: det.recentLosses(), Frozen: frozen(store)})
	}
	var last float64 // the last step's loss
	// Batch k is a function of (seed, k), so a resumed run sees the batches it would have seen.
	for k, b := range t.batches(start, e.Optim.Steps) {
		step := k + 1
		nIn := len(b) - t.labels()
		out, err := tr.TrainStep(train.Batch{Inputs: b[:nIn], Labels: b[nIn:]})
		if err != nil {
			return res, fmt.Errorf("run: step %d: %w", step, err)
		}
		last = float64(tensors.ToScalar[float32](out[0]))
		if o.perturb != nil {
			last = o.perturb(step, last)
		}
		if o.fail != nil {
			if err := o.fail(step); err != nil {
				return res, err
			}
		}
		if o.crash != nil {
			o.crash(step, "step")
		}
		if _, err := training.RedrawIfDue(m.Mechanism, store, step); err != nil {
			return res, fmt.Errorf("run: step %d: %w", step, err)
		}
		met := results.Metric{Step: step, Loss: results.Float(last), LR: results.Float(readScalar(store, "/optimizers/learning_rate")),
			GradNorm: results.Float(readScalar(store, training.GradNormPath)),
			TokensPS: results.Float(float64((step-start)*tokensPerStep) / time.Since(t0).Seconds()),
			WallS:    results.Float(time.Since(t0).Seconds())}
		reason := det.Check(last)
		met.Diverged = reason != ""
		if met.Diverged || step%e.LogEvery == 0 || step == e.Optim.Steps || step == start+1 {
			line, _ := json.Marshal(met)
			if _, err := metricsFile.Write(append(line, '\n')); err != nil {
				return res, fmt.Errorf("run: %w", err)
			}
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "%s step %5d/%d  loss %.4f  lr %.2e  |g| %.3g  %.0f tokens/s\n",
					e.Name, step, e.Optim.Steps, last, float64(met.LR), float64(met.GradNorm), float64(met.TokensPS))
			}
		}
		if o.OnStep != nil {
			o.OnStep(met)
		}
		if met.Diverged {
			res.Status = Status{State: "diverged", Step: step, Reason: reason}
			if err := writeJSONAtomic(filepath.Join(dir, "status.json"), res.Status); err != nil {
				return res, err
			}
			metricsFile.Sync()
			return resultFromDir(dir, res.Status)
		}
		if step%e.CheckpointEvery == 0 || step == e.Optim.Steps {
			if err := save(step); err != nil {
				return res, err
			}
		}
		if o.StopAt > 0 && step >= o.StopAt {
			res.Status = Status{State: "stopped", Step: step}
			res.FinalLoss = last
			return res, nil
		}
		lastStep = step
	}
	if lastStep < e.Optim.Steps { // the data ran out: never report such a run done
		return res, fmt.Errorf("run: the training data of %s ended after step %d of %d", dir, lastStep, e.Optim.Steps)
	}
	res.Parameters = store.NumParameters()
	if !o.SkipEval && (e.Data.Task != experiment.TaskLM || len(e.Eval.Lengths) > 0) {
		ev, err := t.evaluate(o.Backend, store, m)
		if err != nil {
			return res, err
		}
		res.Eval = ev
		if err := SaveEval(dir, ev); err != nil {
			return res, err
		}
	}
	res.Status = Status{State: "done", Step: e.Optim.Steps, Parameters: res.Parameters}
	if err := writeJSONAtomic(filepath.Join(dir, "status.json"), res.Status); err != nil {
		return res, err
	}
	final, err := resultFromDir(dir, res.Status)
	if err != nil {
		return res, err
	}
	final.ResumedAt, final.Parameters = res.ResumedAt, res.Parameters
	return final, nil
}

// resultFromDir reports a run from its files: every logged metric, the loss of the last logged
// step (a run always logs its last step) and the evaluation results.
func resultFromDir(dir string, st Status) (*Result, error) {
	ms, err := results.ReadMetrics(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: dir, Status: st, Metrics: ms, Parameters: st.Parameters}
	if len(ms) > 0 {
		res.FinalLoss = float64(ms[len(ms)-1].Loss)
	}
	if res.Eval, err = results.ReadEval(dir); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return res, nil
}

func readScalar(store *model.Store, path string) float64 {
	v := store.GetVariable(path)
	if v == nil {
		return math.NaN()
	}
	t, err := v.Value()
	if err != nil || t == nil {
		return math.NaN()
	}
	switch x := t.Value().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// checkConfig writes config.json in a new run directory, or checks that an existing one holds the
// same experiment.
func checkConfig(dir string, e experiment.Experiment) error {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		bb, _ := json.MarshalIndent(e, "", "  ")
		return writeAtomic(path, append(bb, '\n'))
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	var prev experiment.Experiment
	if err := json.Unmarshal(b, &prev); err != nil {
		return fmt.Errorf("run: %s is corrupt: %v", path, err)
	}
	// Compare through JSON so nil and empty maps are equal.
	pb, _ := json.Marshal(prev)
	eb, _ := json.Marshal(e)
	var pv, ev any
	json.Unmarshal(pb, &pv)
	json.Unmarshal(eb, &ev)
	if !reflect.DeepEqual(pv, ev) {
		return fmt.Errorf("run: %s holds a different experiment (%s); use a new directory to start another run", dir, prev.Name)
	}
	return nil
}
