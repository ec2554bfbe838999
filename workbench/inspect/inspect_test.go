package inspect

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/testrun"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/run"
)

func tiny(steps int) experiment.Experiment { return testrun.Tiny(steps) }

func opts(t *testing.T) run.Options {
	t.Helper()
	return run.Options{Backend: testrun.Backend(t), Data: testrun.Prose(t), SkipEval: true}
}

func TestSample(t *testing.T) {
	o := opts(t)
	dir := t.TempDir()
	if _, err := run.Train(tiny(30), dir, o); err != nil {
		t.Fatal(err)
	}
	a, err := Sample(dir, "And God said", 40, 0.8, 1, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Sample(dir, "And God said", 40, 0.8, 1, o)
	g, _ := Sample(dir, "And God said", 40, 0, 1, o)
	if len(a) != 40 || a != b || len(g) != 40 {
		t.Errorf("samples %q %q %q: want 40 bytes, deterministic for a seed", a, b, g)
	}
	if _, err := Sample(dir, "x", 5, -1, 1, o); err == nil {
		t.Error("negative temperature accepted")
	}
	// draw follows the softmax: a logit 2 above another is picked about e^2 times as often.
	rng := rand.New(rand.NewPCG(1, 1))
	counts := [2]int{}
	for range 20000 {
		counts[draw(rng, []float32{0, 2}, 1)]++
	}
	if r := float64(counts[1]) / float64(counts[0]); math.Abs(r-math.Exp(2)) > 0.6 {
		t.Errorf("ratio %.2f, want %.2f", r, math.Exp(2))
	}
}

// Padding the context does not change the next-token choice: greedy samples from a prompt equal
// those from the same prompt followed by its own greedy continuation.
func TestSampleGreedyConsistent(t *testing.T) {
	o := opts(t)
	dir := t.TempDir()
	if _, err := run.Train(tiny(20), dir, o); err != nil {
		t.Fatal(err)
	}
	a, err := Sample(dir, "In the beginning", 10, 0, 1, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Sample(dir, "In the beginning"+a[:4], 6, 0, 1, o)
	if a[4:] != b {
		t.Errorf("greedy continuation %q, then %q from the extended prompt", a, b)
	}
}

// A model that can step decodes with its recurrent state; its greedy text and logits equal re-running the
// whole context for every token (the text stays within the training length, so the window sees
// all of it), for ALiBi (exact) and KERPLE-log (its exponential sum), and sampling at a
// temperature is deterministic for a seed.
func TestSampleRecurrentMatchesRerun(t *testing.T) {
	o := opts(t)
	for _, pe := range []string{"alibi", "kerple_log"} {
		e := tiny(12)
		e.Model.Attention, e.Model.PosEnc = "kernelized_rpe", posenc.Config{Kind: pe}
		dir := t.TempDir()
		if _, err := run.Train(e, dir, o); err != nil {
			t.Fatal(err)
		}
		r, err := run.Restore(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Model.CanStep(); err != nil {
			t.Fatal(err)
		}
		ids, _ := r.Tok.Encode(nil, []byte("And the"))
		rng := func() *rand.Rand { return rand.New(rand.NewPCG(3, 3)) }
		a, la, err := sampleRecurrent(o, r.Store, r.Model, ids, 20, 0, rng())
		if err != nil {
			t.Fatal(err)
		}
		b, lb, err := sampleWindow(o, r.Store, r.Model, ids, 20, e.Data.SeqLen, 0, rng())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) || len(a) != 20 {
			t.Errorf("%s: recurrent %v, re-run %v", pe, a, b)
		}
		worst := 0.0
		for i := range la {
			for v := range la[i] {
				worst = math.Max(worst, math.Abs(float64(la[i][v]-lb[i][v]))/(1+math.Abs(float64(lb[i][v]))))
			}
		}
		if worst > 5e-5 {
			t.Errorf("%s: logits differ by %.2e (relative), want <= 5e-5", pe, worst)
		}
		s1, _ := Sample(dir, "And the", 50, 0.9, 4, o)
		s2, _ := Sample(dir, "And the", 50, 0.9, 4, o)
		if len(s1) != 50 || s1 != s2 {
			t.Errorf("%s: samples %q and %q", pe, s1, s2)
		}
	}
}

// Softmax-trained weights evaluated with PRF attention (Luo et al.'s conversion): the loss moves
// away from the softmax model's but stays finite; with the original model it is unchanged.
func TestEvaluateConverted(t *testing.T) {
	o := opts(t)
	o.SkipEval = false
	dir := t.TempDir()
	e := tiny(30)
	e.Model.PosEnc = posenc.Config{Kind: "luo_rpe"}
	res, err := run.Train(e, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	ev := experiment.Eval{Lengths: []int{32}, Sequences: 4, Batch: 2}
	same, err := Convert(dir, ev, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(same[0].Loss-res.Eval[0].Loss) > 1e-5 {
		t.Errorf("reloaded model loss %g, trained %g", same[0].Loss, res.Eval[0].Loss)
	}
	conv, err := Convert(dir, ev, func(c *transformer.Config) {
		c.Attention, c.AttentionParams = "kernelized_rpe", params.Given{"m": 64}
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	if l := conv[0].Loss; math.IsNaN(l) || math.IsInf(l, 0) || l == same[0].Loss {
		t.Errorf("converted loss %g (softmax %g)", l, same[0].Loss)
	}
}

// The ALiBi bias read back from a run is the fixed -slope_h * distance of the reference.
func TestLearnedBias(t *testing.T) {
	o := opts(t)
	dir := t.TempDir()
	if _, err := run.Train(tiny(4), dir, o); err != nil { // tiny uses ALiBi, 2 heads
		t.Fatal(err)
	}
	b, err := LearnedBias(dir, 9, o)
	if err != nil {
		t.Fatal(err)
	}
	slopes := []float64{1.0 / 16, 1.0 / 256} // 2^(-8h/H), h = 1..H, for H = 2
	for h, row := range b {
		for dist, v := range row {
			if want := -slopes[h] * float64(dist); math.Abs(v-want) > 1e-5 {
				t.Errorf("head %d distance %d: %g, want %g", h, dist, v, want)
			}
		}
	}
	rot := tiny(2)
	rot.Model.PosEnc = posenc.Config{Kind: "rotary"}
	rdir := t.TempDir()
	if _, err := run.Train(rot, rdir, o); err != nil {
		t.Fatal(err)
	}
	if _, err := LearnedBias(rdir, 9, o); err == nil {
		t.Error("rotary has no bias, but LearnedBias returned one")
	}
}
