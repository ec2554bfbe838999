package run

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/attnbench/attnbench/internal/testrun"

	"github.com/attnbench/attnbench/workbench/results"

	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokens"
	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
)

func tiny(steps int) experiment.Experiment { return testrun.Tiny(steps) }

func opts(t *testing.T) Options {
	t.Helper()
	return Options{Backend: testrun.Backend(t), Data: testrun.Prose(t), SkipEval: true}
}

func TestResumeMatchesUninterrupted(t *testing.T) {
	o := opts(t)
	e := tiny(12)
	full, err := Train(e, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stop := o
	stop.StopAt = 6
	if _, err := Train(e, dir, stop); err != nil {
		t.Fatal(err)
	}
	// A checkpoint cut short by a kill: files newer than the pointer.
	junk := filepath.Join(dir, "checkpoints", "checkpoint-n0000009-20261122-000000-step-00000007.json")
	os.WriteFile(junk, []byte("{trunc"), 0o644)
	resumed, err := Train(e, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.ResumedAt != 4 {
		t.Errorf("resumed at step %d, want 4", resumed.ResumedAt)
	}
	if _, err := os.Stat(junk); !os.IsNotExist(err) {
		t.Error("unfinished checkpoint file was not removed")
	}
	if resumed.FinalLoss != full.FinalLoss {
		t.Errorf("resumed final loss %.8f, uninterrupted %.8f", resumed.FinalLoss, full.FinalLoss)
	}
	if len(resumed.Metrics) != 12 {
		t.Fatalf("%d metric lines, want 12", len(resumed.Metrics))
	}
	for i, m := range resumed.Metrics {
		if m.Step != i+1 {
			t.Fatalf("metric line %d has step %d", i, m.Step)
		}
		if f := full.Metrics[i]; m.Loss != f.Loss || m.LR != f.LR || m.GradNorm != f.GradNorm {
			t.Errorf("step %d: resumed (%g, %g, %g) vs uninterrupted (%g, %g, %g)", m.Step, m.Loss, m.LR, m.GradNorm, f.Loss, f.LR, f.GradNorm)
		}
		if !(m.GradNorm > 0) || !(m.LR > 0) || !(m.TokensPS > 0) {
			t.Errorf("step %d: grad norm %g, lr %g, tokens/s %g", m.Step, m.GradNorm, m.LR, m.TokensPS)
		}
	}
	// Checkpoints do not keep the trainer's running metrics (a fresh name per process).
	cks, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "checkpoint-*.json"))
	for _, f := range cks {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), "Moving Average") {
			t.Errorf("%s keeps the trainer's moving-average metric", f)
		}
	}
	// The learning rate follows warmup + cosine.
	if lr := float64(full.Metrics[11].LR); lr > 1e-4 {
		t.Errorf("last-step learning rate %g, want about 0 at the end of the cosine", lr)
	}
	// A finished run is not retrained; a different experiment in the same directory is refused.
	e2 := e
	e2.Optim.LR = 1e-3
	if _, err := Train(e2, dir, o); err == nil || !strings.Contains(err.Error(), "different experiment") {
		t.Errorf("different experiment in the same directory: %v", err)
	}
}

func TestDivergence(t *testing.T) {
	o := opts(t)
	e := tiny(30)
	e.Divergence = experiment.Divergence{SpikeFactor: 3, SpikeWindow: 5}
	for _, tc := range []struct {
		name    string
		perturb func(int, float64) float64
		step    int
		reason  string
	}{
		{"nan", func(s int, l float64) float64 {
			if s == 9 {
				return math.NaN()
			}
			return l
		}, 9, "NaN"},
		{"spike", func(s int, l float64) float64 {
			if s == 13 {
				return 50 * l
			}
			return l
		}, 13, "median"},
	} {
		dir := t.TempDir()
		oo := o
		oo.perturb = tc.perturb
		res, err := Train(e, dir, oo)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status.State != "diverged" || res.Status.Step != tc.step || !strings.Contains(res.Status.Reason, tc.reason) {
			t.Errorf("%s: status %+v, want diverged at %d (%s)", tc.name, res.Status, tc.step, tc.reason)
		}
		st, _ := ReadStatus(dir)
		if st != res.Status {
			t.Errorf("%s: status.json %+v differs from the result", tc.name, st)
		}
		last := res.Metrics[len(res.Metrics)-1]
		if !last.Diverged || last.Step != tc.step {
			t.Errorf("%s: last metric %+v", tc.name, last)
		}
		// The last good checkpoint stays; a rerun does not train past the divergence.
		p, _ := prepareCheckpoints(dir)
		if p.Step != (tc.step-1)/4*4 {
			t.Errorf("%s: last checkpoint at %d, want %d", tc.name, p.Step, (tc.step-1)/4*4)
		}
		again, err := Train(e, dir, o)
		if err != nil || again.Status.State != "diverged" {
			t.Errorf("%s: rerun of a diverged run: %+v, %v", tc.name, again.Status, err)
		}
	}
	d := &Detector{Factor: 2, Window: 3}
	for _, l := range []float64{5, 4, 3, 3, 5.9} {
		if r := d.Check(l); r != "" {
			t.Fatalf("loss %g flagged: %s", l, r)
		}
	}
	if d.Check(20) == "" || d.Check(math.Inf(1)) == "" {
		t.Error("spike or Inf not flagged")
	}
}

// A small model trained on prose beats the unigram baseline on the test split.
func TestEvaluationBeatsUnigram(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	e := tiny(80)
	e.Eval.Windowed = true
	res, err := Train(e, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	test := tokens.All(o.Data.Split(corpus.Test))
	counts := make([]float64, 256)
	for _, tok := range test {
		counts[tok]++
	}
	unigram := 0.0
	for _, c := range counts {
		if c > 0 {
			p := c / float64(len(test))
			unigram -= p * math.Log(p)
		}
	}
	if len(res.Eval) != 4 {
		t.Fatalf("%d evaluation results, want 2 lengths x (plain, windowed)", len(res.Eval))
	}
	for _, r := range res.Eval {
		if r.Skipped != "" || r.Sequences != 4 || len(r.PositionLoss) != r.Length {
			t.Fatalf("result %+v", r)
		}
		mean := 0.0
		for _, l := range r.PositionLoss {
			mean += l / float64(len(r.PositionLoss))
		}
		if math.Abs(mean-r.Loss) > 1e-6 {
			t.Errorf("mean position loss %g != loss %g", mean, r.Loss)
		}
		// A model trained on the same distribution scores near its training loss at L_train.
		if r.Length == 32 && !r.Windowed && (r.Loss < 0.7*res.FinalLoss || r.Loss > 1.3*res.FinalLoss) {
			t.Errorf("test loss %g far from the final training loss %g", r.Loss, res.FinalLoss)
		}
		if !(r.Loss < unigram) {
			t.Errorf("length %d windowed %v: loss %.3f not below the unigram entropy %.3f", r.Length, r.Windowed, r.Loss, unigram)
		}
		if math.Abs(r.Perplexity-math.Exp(r.Loss)) > 1e-9*r.Perplexity {
			t.Errorf("perplexity %g != exp(loss %g)", r.Perplexity, r.Loss)
		}
	}
	// At the training length a band of width L_train changes nothing.
	if math.Abs(res.Eval[0].Loss-res.Eval[2].Loss) > 1e-4 {
		t.Errorf("windowed loss %g differs from plain %g at L_train", res.Eval[2].Loss, res.Eval[0].Loss)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "eval.csv")); err != nil {
		t.Error(err)
	}
}

func TestSweepAndEvaluateDir(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	e := tiny(8)
	bad := tiny(8)
	bad.Name = "bad"
	bad.Data.Corpus = "" // invalid: recorded as failed, the sweep goes on
	root := t.TempDir()
	rows, err := Sweep(append(Seeds(e, 1, 2), bad), root, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].State != "done" || rows[1].State != "done" || rows[2].State != "failed" {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].FinalLoss == rows[1].FinalLoss {
		t.Error("seeds 1 and 2 gave the same loss")
	}
	if p := rows[0].Perplexity[64]; !(p > 1) {
		t.Errorf("perplexity at 64: %g", p)
	}
	if err := WriteTable(filepath.Join(root, "table.csv"), rows); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "table.csv"))
	if !strings.Contains(string(b), "ppl@32,ppl@64") || strings.Count(string(b), "\n") != 4 {
		t.Errorf("table:\n%s", b)
	}
	ev, err := EvaluateDir(rows[0].Dir, experiment.Eval{Lengths: []int{128}, Sequences: 2}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].Length != 128 || ev[0].Sequences != 2 || !(ev[0].Perplexity > 1) {
		t.Errorf("EvaluateDir: %+v", ev)
	}
	if rows, _ := Sweep(Seeds(e, 1, 1), root, Options{}); rows[0].State != "failed" || !strings.Contains(rows[0].Reason, "Backend") {
		t.Errorf("nil backend: %+v", rows[0])
	}
}

// A small classifier learns ListOps beyond the majority class on short expressions.
func TestListOps(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	e := experiment.Experiment{
		Name:  "listops",
		Model: transformer.Config{Width: 32, Heads: 2, Layers: 2, PosEnc: posenc.Config{Kind: "alibi"}},
		Data: experiment.Data{Task: experiment.TaskListOps, Batch: 32,
			ListOps: &experiment.ListOps{MaxDepth: 3, MaxArgs: 3, MinLength: 2, MaxLength: 12, Train: 1500, Valid: 200, Test: 200, Seed: 4}},
		Optim: experiment.Optim{Steps: 300, LR: 3e-3, ClipNorm: 1},
		Seed:  1,
	}
	res, err := Train(e, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Eval) != 2 || res.Eval[1].Split != "test" || res.Status.State != "done" {
		t.Fatalf("%+v", res)
	}
	test := res.Eval[1]
	if test.Accuracy < test.Baseline+0.1 || test.Sequences != 200 {
		t.Errorf("test accuracy %.3f over %d, majority baseline %.3f", test.Accuracy, test.Sequences, test.Baseline)
	}
	t.Logf("listops: valid %.3f test %.3f majority %.3f", res.Eval[0].Accuracy, test.Accuracy, test.Baseline)
}

// ListOps and recall runs share the language model's loop: a run stopped at a step resumes to
// the same losses and the same evaluation as an uninterrupted one.
func TestTasksResume(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	for _, d := range []experiment.Data{
		{Task: experiment.TaskListOps, Batch: 8, ListOps: &experiment.ListOps{MaxDepth: 2, MaxArgs: 3, MinLength: 2, MaxLength: 10, Train: 30, Valid: 10, Test: 10, Seed: 2}},
		{Task: experiment.TaskRecall, Batch: 8, Recall: &experiment.Recall{Pairs: 3, Keys: 8, Values: 5, EvalPairs: []int{3, 6}}},
	} {
		e := experiment.Experiment{Name: d.Task, Model: transformer.Config{Width: 16, Heads: 2, Layers: 1, PosEnc: posenc.Config{Kind: "alibi"}},
			Data: d, Optim: experiment.Optim{Steps: 10, LR: 3e-3}, Seed: 3, CheckpointEvery: 3, LogEvery: 1, Eval: experiment.Eval{Sequences: 2}}
		full, err := Train(e, t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		stop := o
		stop.StopAt = 5
		if _, err := Train(e, dir, stop); err != nil {
			t.Fatal(err)
		}
		resumed, err := Train(e, dir, o)
		if err != nil {
			t.Fatal(err)
		}
		if resumed.ResumedAt != 3 || len(resumed.Metrics) != 10 {
			t.Fatalf("%s: resumed at %d with %d metric lines", d.Task, resumed.ResumedAt, len(resumed.Metrics))
		}
		for i, m := range resumed.Metrics {
			if m.Loss != full.Metrics[i].Loss {
				t.Errorf("%s step %d: loss %v resumed, %v uninterrupted", d.Task, m.Step, m.Loss, full.Metrics[i].Loss)
			}
		}
		if !reflect.DeepEqual(resumed.Eval, full.Eval) || len(full.Eval) != 2 {
			t.Errorf("%s: evaluation %+v resumed, %+v uninterrupted", d.Task, resumed.Eval, full.Eval)
		}
		for _, ev := range full.Eval {
			if !(ev.Accuracy >= 0 && ev.Accuracy <= 1) || ev.Sequences == 0 || ev.Baseline <= 0 {
				t.Errorf("%s: %+v", d.Task, ev)
			}
		}
		if d.Task == experiment.TaskRecall && (full.Eval[1].Length != 13 || full.Eval[1].Sequences != 16) {
			t.Errorf("recall at 6 pairs: %+v, want length 13 and 2 batches of 8 queries", full.Eval[1])
		}
	}
}

// Softmax attention learns associative recall well above chance: 0.40 over 256 queries is more
// than five standard errors above 1/4.
func TestRecallLearns(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	e := experiment.Experiment{Name: "recall", Model: transformer.Config{Width: 32, Heads: 2, Layers: 2, PosEnc: posenc.Config{Kind: "alibi"}},
		Data:  experiment.Data{Task: experiment.TaskRecall, Batch: 32, Recall: &experiment.Recall{Pairs: 3, Keys: 6, Values: 4}},
		Optim: experiment.Optim{Steps: 300, LR: 1e-2, ClipNorm: 1}, Seed: 1, Eval: experiment.Eval{Sequences: 8}}
	res, err := Train(e, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	if a := res.Eval[0].Accuracy; a < 0.40 || res.Eval[0].Sequences != 256 {
		t.Errorf("recall accuracy %.3f after 300 steps, chance %.3f", a, res.Eval[0].Baseline)
	}
	t.Logf("recall accuracy %.3f, chance %.3f", res.Eval[0].Accuracy, res.Eval[0].Baseline)
}

func TestCollect(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	root := t.TempDir()
	e := tiny(4)
	e.Eval.Windowed = true
	if _, err := Sweep(Seeds(e, 1, 2), root, o); err != nil {
		t.Fatal(err)
	}
	rep, err := results.Collect(results.RunDirs(root))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Curves) != 2 || rep.Curves[0].Variant != "tiny" || len(rep.Curves[0].Loss) != 4 {
		t.Fatalf("curves %+v", rep.Curves)
	}
	if len(rep.Perplexity) != 1 || len(rep.Windowed) != 1 || len(rep.Perplexity[0].X) != 2 || rep.TrainLen != 32 {
		t.Fatalf("report %+v", rep)
	}
	// The geometric mean of the seeds' perplexities.
	var logs float64
	for _, d := range results.RunDirs(root) {
		b, _ := os.ReadFile(filepath.Join(d, "eval.json"))
		var ev []results.Eval
		json.Unmarshal(b, &ev)
		logs += math.Log(ev[0].Perplexity)
	}
	if got, want := rep.Perplexity[0].Y[0], math.Exp(logs/2); math.Abs(got-want) > 1e-9*want {
		t.Errorf("perplexity %g, want the geometric mean %g", got, want)
	}
}

func TestUnigram(t *testing.T) {
	seq := tokens.Slice{0, 0, 1, 1}
	if h := UnigramEntropy(seq, 4); math.Abs(h-math.Log(2)) > 1e-12 {
		t.Errorf("unigram entropy %g, want log 2", h)
	}
}

// A resumed run judges spikes with the same recent losses as an uninterrupted one, even when
// only every fifth step is logged, and a finished run is reported again without retraining.
func TestResumeKeepsDetectorAndFinishedRuns(t *testing.T) {
	o := opts(t)
	e := tiny(16)
	e.LogEvery = 5
	e.Divergence = experiment.Divergence{SpikeFactor: 3, SpikeWindow: 5}
	spike := func(s int, l float64) float64 {
		if s == 8 { // replaying only the logged losses (steps 1, 5, 6, 7) would leave the window short
			return 10 * l
		}
		return l
	}
	full := o
	full.perturb = spike
	want, err := Train(e, t.TempDir(), full)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stop := full
	stop.StopAt = 6 // checkpoint at 4 holds the losses of steps 1..4
	if _, err := Train(e, dir, stop); err != nil {
		t.Fatal(err)
	}
	got, err := Train(e, dir, full)
	if err != nil {
		t.Fatal(err)
	}
	if want.Status.State != "diverged" || got.Status != want.Status {
		t.Errorf("resumed status %+v, uninterrupted %+v (both should diverge at step 8)", got.Status, want.Status)
	}

	// A finished run: same loss and evaluation, no new metrics.
	o.SkipEval = false
	dir = t.TempDir()
	first, err := Train(tiny(8), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Train(tiny(8), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if again.FinalLoss != first.FinalLoss || len(again.Metrics) != len(first.Metrics) || len(again.Eval) != len(first.Eval) ||
		again.Eval[0].Perplexity != first.Eval[0].Perplexity {
		t.Errorf("rerun of a finished run: loss %g vs %g, %d vs %d metrics", again.FinalLoss, first.FinalLoss, len(again.Metrics), len(first.Metrics))
	}
}

func TestReadMetricsCutLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.jsonl")
	for _, tc := range []struct {
		text string
		n    int
		bad  bool
	}{
		{`{"step":1,"lo`, 0, false},                              // the first line cut by a kill
		{"{\"step\":1,\"loss\":2}\n{\"step\":2,\"lo", 1, false},  // a later line cut
		{"{\"step\":1,\"loss\":\"NaN\"}\n", 1, false},            // NaN kept as a string
		{"{\"step\":1,\"lo\n{\"step\":2,\"loss\":2}\n", 0, true}, // corruption in the middle
		{"{\"step\":1,\"loss\":2}\nnot json\n", 0, true},         // a complete bad line
	} {
		os.WriteFile(path, []byte(tc.text), 0o644)
		ms, err := results.ReadMetrics(dir)
		if (err != nil) != tc.bad || (!tc.bad && len(ms) != tc.n) {
			t.Errorf("%q: %d metrics, err %v", tc.text, len(ms), err)
		}
	}
}

// Every registered mechanism resumes bit-identically: a run stopped at a step and resumed logs
// the losses and gradient norms of an uninterrupted one and ends with the same evaluation; the
// random projections stay non-trainable after the checkpoint is loaded. Skyformer is
// bidirectional, so it runs as the ListOps classifier.
func TestResumeEveryMechanism(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	for _, e := range everyMechanism(9, 2) {
		t.Run(e.Name, func(t *testing.T) {
			full, err := Train(e, t.TempDir(), o)
			if err != nil {
				t.Fatal(err)
			}
			for _, stopAt := range []int{3, 6} {
				dir := t.TempDir()
				stop := o
				stop.StopAt = stopAt
				if _, err := Train(e, dir, stop); err != nil {
					t.Fatal(err)
				}
				resumed, err := Train(e, dir, o)
				if err != nil {
					t.Fatal(err)
				}
				for i, m := range resumed.Metrics {
					if f := full.Metrics[i]; m.Loss != f.Loss || m.GradNorm != f.GradNorm {
						t.Fatalf("stopped at %d, step %d: loss %v |g| %v resumed, %v %v uninterrupted", stopAt, m.Step, m.Loss, m.GradNorm, f.Loss, f.GradNorm)
					}
				}
				if !reflect.DeepEqual(resumed.Eval, full.Eval) {
					t.Errorf("stopped at %d: evaluation %+v resumed, %+v uninterrupted", stopAt, resumed.Eval, full.Eval)
				}
				r, err := Restore(dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				for v := range r.Store.IterVariables() {
					if strings.Contains(v.Path(), "rf_projection") && strings.Contains(v.Path(), "optimizer") {
						t.Errorf("stopped at %d: optimizer state for the projection: %s", stopAt, v.Path())
					}
				}
			}
		})
	}
}

// A missing, damaged or negative checkpoint pointer, or a damaged checkpoint, stops the run with
// an error that names the files and how to recover; nothing in the directory is deleted.
func TestDamagedCheckpointsDeleteNothing(t *testing.T) {
	o := opts(t)
	e := tiny(8)
	e.CheckpointEvery = 2
	base := t.TempDir()
	src := filepath.Join(base, "run")
	stop := o
	stop.StopAt = 7
	if _, err := Train(e, src, stop); err != nil {
		t.Fatal(err)
	}
	listing := func(dir string) string {
		var names []string
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				names = append(names, strings.TrimPrefix(p, dir)+":"+strconv.FormatInt(info.Size(), 10))
			}
			return nil
		})
		return strings.Join(names, " ")
	}
	ptr := filepath.Join("checkpoints", "latest.json")
	for i, tc := range []struct {
		damage func(dir string)
		want   []string
	}{
		{func(dir string) { os.Remove(filepath.Join(dir, ptr)) }, []string{"latest.json is missing", "step 6", "nothing was deleted"}},
		{func(dir string) { os.WriteFile(filepath.Join(dir, ptr), []byte(`{"step": -1}`), 0o644) }, []string{"step -1", "nothing was deleted"}},
		{func(dir string) { os.WriteFile(filepath.Join(dir, ptr), []byte(`{"step": 6`), 0o644) }, []string{"latest.json is damaged"}},
		{func(dir string) { os.WriteFile(filepath.Join(dir, ptr), []byte(`{"step": 5}`), 0o644) }, []string{"step 5", "no checkpoint of that step"}},
		{func(dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "*-step-00000006.bin"))
			os.WriteFile(m[0], []byte("garbage"), 0o644)
		}, []string{"step 6", "does not load", "previous kept checkpoint is step 4", "-step-00000004"}},
	} {
		dir := filepath.Join(base, fmt.Sprint(i))
		if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		tc.damage(dir)
		before := listing(dir)
		_, err := Train(e, dir, o)
		if err == nil {
			t.Errorf("case %d: damaged run trained", i)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("case %d: %q lacks %q", i, err, w)
			}
		}
		if after := listing(dir); after != before {
			t.Errorf("case %d: files changed:\n%s\n%s", i, before, after)
		}
	}
}

// An evaluation length whose estimated memory is above the budget is recorded as skipped, and
// the collected perplexity leaves it out instead of reading it as 0.
func TestEvaluationOverBudgetIsSkipped(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	e := tiny(2)
	e.MemoryBudgetMB = 200
	e.Eval.Lengths = []int{32, 20000}
	dir := filepath.Join(t.TempDir(), "r")
	res, err := Train(e, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Eval) != 2 || res.Eval[0].Skipped != "" || !strings.Contains(res.Eval[1].Skipped, "memory budget") {
		t.Fatalf("%+v", res.Eval)
	}
	rep, err := results.Collect([]string{dir})
	if err != nil || len(rep.Perplexity) != 1 || len(rep.Perplexity[0].X) != 1 {
		t.Errorf("collected %+v, %v: want the evaluated length only", rep, err)
	}
}

// A second trainer on a run directory is refused; a run stopped by an error is marked failed,
// not running, and resumes; a finished run reports its parameter count again.
func TestLockStatusAndParameters(t *testing.T) {
	o := opts(t)
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(tiny(4), dir, o); err == nil || !strings.Contains(err.Error(), "in use by another trainer") {
		t.Errorf("second trainer: %v", err)
	}
	unlock()
	failing := o
	failing.fail = func(step int) error {
		if step == 3 {
			return errors.New("disk on fire")
		}
		return nil
	}
	if _, err := Train(tiny(6), dir, failing); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("failing run: %v", err)
	}
	if st, _ := ReadStatus(dir); st.State != "failed" || !strings.Contains(st.Reason, "disk on fire") {
		t.Errorf("status after the error: %+v", st)
	}
	first, err := Train(tiny(6), dir, o)
	if err != nil || first.Status.State != "done" || first.Parameters == 0 {
		t.Fatalf("resumed failed run: %+v, %v", first, err)
	}
	again, err := Train(tiny(6), dir, o)
	if err != nil || again.Parameters != first.Parameters {
		t.Errorf("finished run reported %d parameters, then %d (%v)", first.Parameters, again.Parameters, err)
	}
}

// resumeParams keeps the mechanisms small, with random-feature redraws on.
var resumeParams = map[string]params.Given{"performer": {"m": 8, "redraw": 3}, "kernelized_rpe": {"m": 8, "redraw": 3},
	"schoenbat": {"features": 8, "redraw": 4}, "skyformer": {"landmarks": 4}}

// everyMechanism is one tiny experiment per registered mechanism (and kernelized_rpe without
// redraws too): a language model with ALiBi, else with rotary, else (a bidirectional mechanism)
// the ListOps classifier.
func everyMechanism(steps, checkpointEvery int) []experiment.Experiment {
	var out []experiment.Experiment
	for _, name := range append(attention.Names(), "kernelized_rpe-fixed") {
		e := tiny(steps)
		e.Name = name
		mech, p := name, resumeParams[name]
		if name == "kernelized_rpe-fixed" {
			mech, p = "kernelized_rpe", params.Given{"m": 8}
		}
		e.Model.Attention, e.Model.AttentionParams = mech, p
		e.CheckpointEvery = checkpointEvery
		e.Eval = experiment.Eval{Lengths: []int{32}, Sequences: 2, Batch: 2}
		for _, try := range []func(*experiment.Experiment){
			func(e *experiment.Experiment) {},
			func(e *experiment.Experiment) { e.Model.PosEnc = posenc.Config{Kind: "rotary"} },
			func(e *experiment.Experiment) {
				e.Data = experiment.Data{Task: experiment.TaskListOps, Batch: 8,
					ListOps: &experiment.ListOps{MaxDepth: 2, MaxArgs: 3, MinLength: 2, MaxLength: 12, Train: 40, Valid: 8, Test: 8, Seed: 1}}
				e.Eval = experiment.Eval{}
			},
		} {
			try(&e)
			if e.Resolve().Validate() == nil {
				out = append(out, e)
				break
			}
		}
	}
	return out
}
