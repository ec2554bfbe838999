// Package attntest checks that a registered attention mechanism works inside the transformer, as
// testing/fstest checks a file system: for an encoding of each form (none, Toeplitz bias, QK
// rotation, absolute table, query-dependent matrix) in the causal language model and in the
// bidirectional classifier, the model builds or refuses with a message, its outputs are finite,
// a causal model's logits at a position ignore later tokens, and a few optimizer steps lower the
// loss on a fixed batch. The transformer's tests run it for every registered mechanism.
package attntest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
)

// Encodings are the encodings Check pairs a mechanism with, one of each form.
var Encodings = []string{"none", "alibi", "rotary", "learned", "fire"}

const vocab, n, batch = 12, 9, 4

// Check runs the checks for the mechanism name with parameters p (nil for defaults). A
// mechanism's "stabilize" parameter, when it has one, is set to 0 so that causality is exact.
func Check(t *testing.T, b compute.Backend, name string, p params.Given) {
	t.Helper()
	spec, ok := attention.Lookup(name)
	if !ok {
		t.Fatalf("attntest: mechanism %q is not registered (registered: %v)", name, attention.Names())
	}
	given := params.Given{}
	for k, v := range p {
		given[k] = v
	}
	if _, set := given["stabilize"]; !set && slices.Contains(params.Names(spec.Params), "stabilize") {
		given["stabilize"] = 0
	}
	built := 0
	for _, pe := range Encodings {
		for _, classes := range []int{0, 3} {
			cfg := transformer.Config{Vocab: vocab, Width: 16, Heads: 2, Layers: 2, Attention: name, AttentionParams: given,
				PosEnc: posenc.Config{Kind: pe}, Classes: classes}
			if pe == "learned" {
				cfg.PosEnc.Params = params.Given{"max_len": 64}
			}
			m, err := transformer.New(cfg)
			if err != nil {
				if err.Error() == "" {
					t.Errorf("%s with %s (classes %d): refused without a message", name, pe, classes)
				}
				continue
			}
			built++
			t.Run(pe+map[bool]string{true: "/lm", false: "/classifier"}[classes == 0], func(t *testing.T) {
				checkModel(t, b, m)
			})
		}
	}
	if built == 0 {
		t.Errorf("%s: no model built with any of %v, causal or bidirectional", name, Encodings)
	}
}

func tokens(rng *rand.Rand, rows int) [][]int32 {
	out := make([][]int32, rows)
	for r := range out {
		out[r] = make([]int32, n)
		for i := range out[r] {
			out[r][i] = int32(rng.IntN(vocab))
		}
	}
	return out
}

func checkModel(t *testing.T, b compute.Backend, m *transformer.Model) {
	rng := rand.New(rand.NewPCG(1, 2))
	causal := m.Config.Causal()
	out := func(scope *model.Scope, tok *Node) *Node {
		if causal {
			l, _ := m.Logits(scope, tok, transformer.ForwardOptions{})
			return l
		}
		l, _ := m.ClassLogits(scope, tok, transformer.ForwardOptions{})
		return l
	}
	store := model.NewStore()
	exec := model.MustNewExec1(b, store, out)
	base := tokens(rng, 1)
	ref := tensors.MustCopyFlatData[float32](exec.MustCall(base))
	for i, v := range ref {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("output %d is %v", i, v)
		}
	}
	if causal {
		for _, i := range []int{0, n / 2, n - 2} {
			alt := [][]int32{slices.Clone(base[0])}
			for j := i + 1; j < n; j++ {
				alt[0][j] = (alt[0][j] + 1 + int32(rng.IntN(vocab-1))) % vocab
			}
			got := tensors.MustCopyFlatData[float32](exec.MustCall(alt))
			for x := range (i + 1) * vocab {
				if math.Abs(float64(got[x]-ref[x])) > 1e-4*math.Max(1, math.Abs(float64(ref[x]))) {
					t.Fatalf("changing tokens after position %d changed logit %d: %v -> %v", i, x, ref[x], got[x])
				}
			}
		}
	}
	// A few Adam steps on one fixed batch lower the loss.
	seq := tokens(rng, batch)
	var in, lab *tensors.Tensor
	lossFn := loss.SparseCategoricalCrossEntropyLogits
	if causal {
		flatIn, flatLab := make([]int32, 0, batch*(n-1)), make([]int32, 0, batch*(n-1))
		for _, row := range seq {
			flatIn, flatLab = append(flatIn, row[:n-1]...), append(flatLab, row[1:]...)
		}
		in, lab = tensors.FromFlatDataAndDimensions(flatIn, batch, n-1), tensors.FromFlatDataAndDimensions(flatLab, batch, n-1, 1)
	} else {
		flat, labels := make([]int32, 0, batch*n), make([]int32, batch)
		for r, row := range seq {
			flat, labels[r] = append(flat, row...), int32(r%3)
		}
		in, lab = tensors.FromFlatDataAndDimensions(flat, batch, n), tensors.FromFlatDataAndDimensions(labels, batch, 1)
	}
	tstore := model.NewStore()
	tstore.SetParam(optimizer.ParamLearningRate, 1e-2)
	tr := train.NewTrainer(b, tstore, out, lossFn, optimizer.Adam().Done(), nil, nil)
	var first, last float64
	for step := range 40 {
		res, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{in}, Labels: []*tensors.Tensor{lab}})
		if err != nil {
			t.Fatal(err)
		}
		last = float64(tensors.ToScalar[float32](res[0]))
		if step == 0 {
			first = last
		}
		if math.IsNaN(last) || math.IsInf(last, 0) {
			t.Fatalf("step %d: loss %v", step, last)
		}
	}
	if !(last < first) {
		t.Errorf("40 Adam steps on one batch: loss %.4f -> %.4f, want lower", first, last)
	}
}
