package transformer_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

type variant struct {
	name, attn, pos string
	params          params.Given
	classes         int
}

var kernelVariants = []variant{
	{"performer", "performer", "none", nil, 0},
	{"performer-rotary", "performer", "rotary", params.Given{"m": 32, "redraw": 0}, 0},
	{"kernelized_rpe-luo", "kernelized_rpe", "luo_rpe", params.Given{"m": 32}, 0},
	{"kernelized_rpe-kerple_log", "kernelized_rpe", "kerple_log", nil, 0},
	{"kernelized_rpe-alibi-block", "kernelized_rpe", "alibi", params.Given{"toeplitz": "block"}, 0},
	{"kernelized_rpe-t5-trf", "kernelized_rpe", "t5", params.Given{"feature": "trf"}, 0},
	{"kernelized_rpe-plain-orf", "kernelized_rpe", "kerple_power", params.Given{"normalize": 0, "projection": "orthogonal"}, 0},
	{"schoenbat", "schoenbat", "none", params.Given{"features": 64}, 0},
	{"skyformer-classifier", "skyformer", "learned", params.Given{"landmarks": 16}, 3},
	{"kernelized_rpe-classifier", "kernelized_rpe", "kerple_log", nil, 3},
}

func (v variant) config() transformer.Config {
	c := tiny(v.pos)
	c.Attention, c.AttentionParams, c.Classes = v.attn, v.params, v.classes
	if v.pos == "learned" {
		c.PosEnc.Params = params.Given{"max_len": 64}
	}
	return c
}

// TestOverfitEachMechanism: every kernelized mechanism plugs into the Transformer and a tiny
// model memorises one fixed batch (LM: 4 x 24 random tokens to < 0.5 nats; classifier: 8
// random labels to < 0.1).
func TestOverfitEachMechanism(t *testing.T) {
	const b, n, steps = 4, 24, 150
	rng := rand.New(rand.NewPCG(12, 12))
	seq := randomTokens(rng, 2*b, n+1, 16)
	for _, v := range kernelVariants {
		t.Run(v.name, func(t *testing.T) {
			m, err := transformer.New(v.config())
			if err != nil {
				t.Fatal(err)
			}
			bs := b
			if v.classes > 0 {
				bs = 2 * b
			}
			in, lab := make([]int32, bs*n), make([]int32, 0, bs*n)
			for i := range bs {
				copy(in[i*n:], seq[i][:n])
				if v.classes > 0 {
					lab = append(lab, int32(i%v.classes))
				} else {
					lab = append(lab, seq[i][1:]...)
				}
			}
			var labels *tensors.Tensor
			if v.classes > 0 {
				labels = tensors.FromFlatDataAndDimensions(lab, bs, 1)
			} else {
				labels = tensors.FromFlatDataAndDimensions(lab, bs, n, 1)
			}
			store := model.NewStore()
			store.SetParam(model.ParamInitialSeed, int64(3))
			store.SetParam(optimizer.ParamLearningRate, 1e-2)
			tr := train.NewTrainer(backend.MustShared(), store, func(scope *model.Scope, tokens *Node) *Node {
				if v.classes > 0 {
					l, _ := m.ClassLogits(scope, tokens, transformer.ForwardOptions{})
					return l
				}
				l, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
				return l
			}, loss.SparseCategoricalCrossEntropyLogits, optimizer.Adam().Done(), nil, nil)
			var first, last float64
			for s := range steps {
				metrics, err := tr.TrainStep(train.Batch{
					Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, bs, n)},
					Labels: []*tensors.Tensor{labels},
				})
				if err != nil {
					t.Fatal(err)
				}
				last = float64(tensors.ToScalar[float32](metrics[0]))
				if s == 0 {
					first = last
				}
				if math.IsNaN(last) || math.IsInf(last, 0) {
					t.Fatalf("step %d: loss is %v", s, last)
				}
			}
			bound, start := 0.5, 2.3
			if v.classes > 0 {
				bound, start = 0.1, 0.8
			}
			if first < start || last > bound {
				t.Errorf("loss %0.3f -> %0.3f after %d steps, want start > %v and end < %v", first, last, steps, start, bound)
			}
		})
	}
}

// TestKernelizedLMCausality: with the key stabiliser off, logits at position i do not depend
// on tokens after i (Toeplitz products by FFT: to 1e-5).
func TestKernelizedLMCausality(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const n = 40
	for _, v := range kernelVariants {
		if v.classes > 0 {
			continue
		}
		p := params.Given{"stabilize": 0}
		if v.attn == "schoenbat" {
			p = params.Given{}
		}
		for k, x := range v.params {
			p[k] = x
		}
		v.params = p
		m, err := transformer.New(v.config())
		if err != nil {
			t.Fatal(err)
		}
		exec := model.MustNewExec1(backend.MustShared(), model.NewStore(), func(scope *model.Scope, tokens *Node) *Node {
			l, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
			return l
		})
		base := randomTokens(rng, 1, n, 16)
		ref := tensors.MustCopyFlatData[float32](exec.MustCall(base))
		for _, i := range []int{0, 17, 38} {
			alt := [][]int32{append([]int32(nil), base[0]...)}
			for j := i + 1; j < n; j++ {
				alt[0][j] = (alt[0][j] + 1 + int32(rng.IntN(15))) % 16
			}
			got := tensors.MustCopyFlatData[float32](exec.MustCall(alt))
			for x := range (i + 1) * 16 {
				if math.Abs(float64(got[x]-ref[x])) > 1e-5*math.Max(1, math.Abs(float64(ref[x]))) {
					t.Fatalf("%s: changing tokens after %d changed logit %d: %v -> %v", v.name, i, x, ref[x], got[x])
				}
			}
		}
	}
}

// TestKernelizedCompatibility: unsupported combinations fail in New with a clear message.
func TestKernelizedCompatibility(t *testing.T) {
	for _, tc := range []struct {
		attn, pos string
		classes   int
		want      []string
	}{
		{"performer", "alibi", 0, []string{"performer", "alibi", "kernelized_rpe"}},
		{"kernelized_rpe", "fire", 0, []string{"fire", "Toeplitz"}},
		{"kernelized_rpe", "kerple_biaswht", 0, []string{"kerple_biaswht", "multiplies"}},
		{"skyformer", "none", 0, []string{"skyformer", "bidirectional", "Classes"}},
		{"schoenbat", "t5", 0, []string{"schoenbat", "t5"}},
	} {
		c := tiny(tc.pos)
		c.Attention, c.Classes = tc.attn, tc.classes
		_, err := transformer.New(c)
		if err == nil {
			t.Errorf("%s with %s: no error", tc.attn, tc.pos)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s with %s: error %q does not mention %q", tc.attn, tc.pos, err, w)
			}
		}
	}
	c := tiny("none")
	c.Attention, c.AttentionParams = "performer", params.Given{"m": 0}
	if _, err := transformer.New(c); err == nil || !strings.Contains(err.Error(), `"m" = 0`) {
		t.Errorf("m = 0: error %v, want one naming the parameter and the value", err)
	}
	_ = posenc.Names
}
