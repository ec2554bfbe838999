package transformer_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"
)

func randomTokens(rng *rand.Rand, b, n, vocab int) [][]int32 {
	out := make([][]int32, b)
	for i := range out {
		out[i] = make([]int32, n)
		for j := range out[i] {
			out[i][j] = int32(rng.IntN(vocab))
		}
	}
	return out
}

// TestOverfitEachEncoding: a tiny LM must memorise one fixed batch of random tokens
// (initial loss ~ ln 16 = 2.77) to below 0.5 nats within 150 Adam steps, for every encoding.
func TestOverfitEachEncoding(t *testing.T) {
	const b, n, steps, bound = 4, 24, 150, 0.5
	rng := rand.New(rand.NewPCG(11, 11))
	seq := randomTokens(rng, b, n+1, 16)
	in, lab := make([]int32, b*n), make([]int32, b*n)
	for i := range b {
		copy(in[i*n:], seq[i][:n])
		copy(lab[i*n:], seq[i][1:])
	}
	for _, kind := range posenc.Names() {
		t.Run(kind, func(t *testing.T) {
			m, err := transformer.New(tiny(kind))
			if err != nil {
				t.Fatal(err)
			}
			store := model.NewStore()
			store.SetParam(model.ParamInitialSeed, int64(3))
			store.SetParam(optimizer.ParamLearningRate, 1e-2)
			tr := train.NewTrainer(backend.MustShared(), store, func(scope *model.Scope, tokens *Node) *Node {
				logits, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
				return logits
			}, loss.SparseCategoricalCrossEntropyLogits, optimizer.Adam().Done(), nil, nil)
			var first, last float64
			for s := range steps {
				metrics, err := tr.TrainStep(train.Batch{
					Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, b, n)},
					Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(lab, b, n, 1)},
				})
				if err != nil {
					t.Fatal(err)
				}
				last = float64(tensors.ToScalar[float32](metrics[0]))
				if s == 0 {
					first = last
				}
				if math.IsNaN(last) {
					t.Fatalf("step %d: loss is NaN", s)
				}
			}
			if first < 2.3 || last > bound {
				t.Errorf("loss %0.3f -> %0.3f after %d steps, want start > 2.3 and end < %v", first, last, steps, bound)
			}
		})
	}
}

// lmLoss64 builds a float64 exec of the mean next-token cross-entropy.
func lmLoss64(t *testing.T, m *transformer.Model, store *model.Store, withGrads []string) *model.Exec {
	t.Helper()
	m.DType = dtypes.Float64
	return model.MustNewExec(backend.MustShared(), store, func(scope *model.Scope, tokens, labels *Node) []*Node {
		logits, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
		l := ReduceAllMean(loss.SparseCategoricalCrossEntropyLogits([]*Node{labels}, []*Node{logits}))
		out := []*Node{l}
		for _, name := range withGrads {
			v := store.GetVariable(name)
			if v == nil {
				panic(fmt.Sprintf("no variable %s", name))
			}
			out = append(out, Gradient(l, v.NodeValue(tokens.Graph()))[0])
		}
		return out
	})
}

// TestEncodingGradients compares the gradient of the LM loss w.r.t. every learnable encoding
// parameter with central finite differences in float64.
func TestEncodingGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const b, n = 2, 9
	seq := randomTokens(rng, b, n+1, 16)
	in, lab := make([]int32, b*n), make([]int32, b*n)
	for i := range b {
		copy(in[i*n:], seq[i][:n])
		copy(lab[i*n:], seq[i][1:])
	}
	tok, labels := tensors.FromFlatDataAndDimensions(in, b, n), tensors.FromFlatDataAndDimensions(lab, b, n, 1)
	learnable := map[string]bool{"t5": true, "fire": true, "learned": true, "kerple_log": true,
		"kerple_power": true, "kerple_biaswht": true, "kerple_3paralog": true, "luo_rpe": true}
	for _, kind := range posenc.Names() {
		cfg := tiny(kind)
		m, _ := transformer.New(cfg)
		store := model.NewStore()
		store.SetParam(model.ParamInitialSeed, int64(5))
		if _, err := lmLoss64(t, m, store, nil).Call(tok, labels); err != nil { // creates variables
			t.Fatal(err)
		}
		var names []string
		for v := range store.IterVariables() {
			if p := v.Path(); strings.HasPrefix(p, "/relpos/") || strings.HasPrefix(p, "/posenc/") {
				names = append(names, p)
			}
		}
		if (len(names) > 0) != learnable[kind] {
			t.Fatalf("%s: learnable encoding variables %v, want some: %v", kind, names, learnable[kind])
		}
		if len(names) == 0 {
			continue
		}
		for _, name := range names { // move exact zeros (ReLU kinks of FIRE's zero biases) off the kink
			v := store.GetVariable(name)
			vals := tensors.MustCopyFlatData[float64](v.MustValue())
			for i := range vals {
				if vals[i] == 0 {
					vals[i] = 0.05 * rng.NormFloat64()
				}
			}
			v.MustSetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...))
		}
		exec := lmLoss64(t, m, store, names)
		res := exec.MustCall(tok, labels)
		plain := lmLoss64(t, m, store, nil)
		for vi, name := range names {
			v := store.GetVariable(name)
			vals := tensors.MustCopyFlatData[float64](v.MustValue())
			grad := tensors.MustCopyFlatData[float64](res[1+vi])
			for _, idx := range []int{0, len(vals) / 2, len(vals) - 1} {
				const eps = 1e-5
				eval := func(x float64) float64 {
					c := append([]float64(nil), vals...)
					c[idx] = x
					v.MustSetValue(tensors.FromFlatDataAndDimensions(c, v.Shape().Dimensions...))
					return tensors.ToScalar[float64](plain.MustCall(tok, labels)[0])
				}
				fd := (eval(vals[idx]+eps) - eval(vals[idx]-eps)) / (2 * eps)
				eval(vals[idx])
				if math.IsNaN(grad[idx]) || math.Abs(fd-grad[idx]) > 1e-5+1e-4*math.Abs(fd) {
					t.Errorf("%s %s[%d]: gradient %.8g, finite difference %.8g", kind, name, idx, grad[idx], fd)
				}
			}
		}
	}
}

// TestLMCausality: changing tokens after position i leaves the logits at positions <= i unchanged.
func TestLMCausality(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const n = 20
	for _, kind := range posenc.Names() {
		m, _ := transformer.New(tiny(kind))
		store := model.NewStore()
		exec := model.MustNewExec1(backend.MustShared(), store, func(scope *model.Scope, tokens *Node) *Node {
			l, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
			return l
		})
		base := randomTokens(rng, 1, n, 16)
		ref := tensors.MustCopyFlatData[float32](exec.MustCall(base))
		for _, i := range []int{0, 9, 18} {
			alt := [][]int32{append([]int32(nil), base[0]...)}
			for j := i + 1; j < n; j++ {
				alt[0][j] = (alt[0][j] + 1 + int32(rng.IntN(15))) % 16
			}
			got := tensors.MustCopyFlatData[float32](exec.MustCall(alt))
			for x := range (i + 1) * 16 {
				if math.Abs(float64(got[x]-ref[x])) > 1e-6*math.Max(1, math.Abs(float64(ref[x]))) {
					t.Fatalf("%s: changing tokens after %d changed logit %d: %v -> %v", kind, i, x, ref[x], got[x])
				}
			}
		}
	}
}

// TestProjectionAfterStep: KERPLE parameters stored below their bound are projected before use
// and written back by a training step, as the reference's in-place clamp.
func TestProjectionAfterStep(t *testing.T) {
	m, _ := transformer.New(tiny("kerple_power"))
	store := model.NewStore()
	store.SetParam(optimizer.ParamLearningRate, 0.0)
	scope := store.RootScope().In("relpos")
	scope.VariableWithValue("kerple_power_r1", []float32{0.004, -1, 0.5, 3})
	scope.VariableWithValue("kerple_power_r2", []float32{-0.3, 2.5, 1, 0})
	tr := train.NewTrainer(backend.MustShared(), store, func(scope *model.Scope, tokens *Node) *Node {
		l, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
		return l
	}, loss.SparseCategoricalCrossEntropyLogits, optimizer.StochasticGradientDescent().Done(), nil, nil)
	tok := randomTokens(rand.New(rand.NewPCG(1, 1)), 2, 8, 16)
	if _, err := tr.TrainStep(train.Batch{
		Inputs: []*tensors.Tensor{tensors.FromValue(tok)},
		Labels: []*tensors.Tensor{tensors.FromValue([][][]int32{{{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}}, {{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}}})},
	}); err != nil {
		t.Fatal(err)
	}
	r1 := tensors.MustCopyFlatData[float32](store.GetVariable("/relpos/kerple_power_r1").MustValue())
	r2 := tensors.MustCopyFlatData[float32](store.GetVariable("/relpos/kerple_power_r2").MustValue())
	want1, want2 := []float32{0.01, 0.01, 0.5, 3}, []float32{0.01, 2, 1, 0.01}
	for i := range 4 {
		if r1[i] != want1[i] || r2[i] != want2[i] {
			t.Fatalf("after a zero-LR step: r1 %v r2 %v, want %v %v", r1, r2, want1, want2)
		}
	}
}

// TestClassifier pools over real tokens only: padding tokens do not change the class logits.
func TestClassifier(t *testing.T) {
	cfg := tiny("t5")
	cfg.Classes = 3
	m, err := transformer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	exec := model.MustNewExec1(backend.MustShared(), model.NewStore(), func(scope *model.Scope, tokens, mask *Node) *Node {
		l, _ := m.ClassLogits(scope, tokens, transformer.ForwardOptions{Mask: mask})
		return l
	})
	mask := [][]bool{{true, true, true, true, false, false}}
	a := tensors.MustCopyFlatData[float32](exec.MustCall([][]int32{{1, 2, 3, 4, 5, 6}}, mask))
	b := tensors.MustCopyFlatData[float32](exec.MustCall([][]int32{{1, 2, 3, 4, 9, 0}}, mask))
	if len(a) != 3 {
		t.Fatalf("got %d logits, want 3", len(a))
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			t.Fatalf("padding changed class logits: %v vs %v", a, b)
		}
	}
}

// TestPerLayerEncoding: shared by default (one set under /relpos, as the reference), one set per
// layer with PerLayer.
func TestPerLayerEncoding(t *testing.T) {
	for _, perLayer := range []bool{false, true} {
		cfg := tiny("kerple_log")
		cfg.PosEnc.PerLayer = perLayer
		m, _ := transformer.New(cfg)
		store := model.NewStore()
		model.MustNewExec1(backend.MustShared(), store, func(scope *model.Scope, tokens *Node) *Node {
			l, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
			return l
		}).MustCall([][]int32{{1, 2, 3}})
		shared := store.GetVariable("/relpos/kerple_log_r1") != nil
		l0 := store.GetVariable("/layer_0/relpos/kerple_log_r1") != nil
		l1 := store.GetVariable("/layer_1/relpos/kerple_log_r1") != nil
		if shared == perLayer || l0 != perLayer || l1 != perLayer {
			t.Errorf("PerLayer=%v: shared %v, layer_0 %v, layer_1 %v", perLayer, shared, l0, l1)
		}
	}
}

// TestTiedOutput: the output layer is the transposed embedding table (no lm_head), so the logits
// equal hidden . E^T.
func TestTiedOutput(t *testing.T) {
	cfg := tiny("alibi")
	cfg.TiedOutput = true
	m, _ := transformer.New(cfg)
	store := model.NewStore()
	res := model.MustNewExec(backend.MustShared(), store, func(scope *model.Scope, tok *Node) []*Node {
		l, out := m.Logits(scope, tok, transformer.ForwardOptions{})
		return []*Node{l, out.Hidden}
	}).MustCall([][]int32{{1, 2, 3}})
	if v := store.GetVariable("/lm_head/weights"); v != nil {
		t.Fatal("tied model has an lm_head")
	}
	e := tensors.MustCopyFlatData[float32](store.GetVariable("/embed/embeddings").MustValue()) // [16, 32]
	logits, hidden := tensors.MustCopyFlatData[float32](res[0]), tensors.MustCopyFlatData[float32](res[1])
	for p := range 3 {
		for v := range 16 {
			want := 0.0
			for d := range 32 {
				want += float64(hidden[p*32+d]) * float64(e[v*32+d])
			}
			if math.Abs(float64(logits[p*16+v])-want) > 1e-5 {
				t.Fatalf("logit[%d,%d] = %v, want hidden.E^T = %v", p, v, logits[p*16+v], want)
			}
		}
	}
}

// TestProbsAndWindow: the model returns one probability map per layer (causal rows summing to 1),
// and a band mask of width W leaves the logits of positions < W exactly unchanged (windowed@W,
// KERPLE spec section 10) while changing later ones.
func TestProbsAndWindow(t *testing.T) {
	const n, w = 24, 8
	m, _ := transformer.New(tiny("kerple_log"))
	store := model.NewStore()
	run := func(window int) []*tensors.Tensor {
		return model.MustNewExec(backend.MustShared(), store, func(scope *model.Scope, tok *Node) []*Node {
			l, out := m.Logits(scope, tok, transformer.ForwardOptions{WantProbs: true, Window: window})
			return append([]*Node{l}, out.Probs...)
		}).MustCall(randomTokens(rand.New(rand.NewPCG(6, 6)), 2, n, 16))
	}
	full, band := run(0), run(w)
	if len(full) != 1+tiny("").Layers {
		t.Fatalf("got %d probability maps, want %d", len(full)-1, tiny("").Layers)
	}
	p := tensors.MustCopyFlatData[float32](full[1]) // [2, 4, n, n]
	for r := range 2 * 4 * n {
		i, s := r%n, 0.0
		for j := range n {
			if j > i && p[r*n+j] != 0 {
				t.Fatalf("row %d attends to future key %d", r, j)
			}
			s += float64(p[r*n+j])
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("probability row %d sums to %v", r, s)
		}
	}
	lf, lb := tensors.MustCopyFlatData[float32](full[0]), tensors.MustCopyFlatData[float32](band[0])
	changed := false
	for bi := range 2 {
		for i := range n {
			for v := range 16 {
				x := (bi*n+i)*16 + v
				if i < w && lf[x] != lb[x] {
					t.Fatalf("window %d changed the logit at position %d: %v -> %v", w, i, lf[x], lb[x])
				}
				changed = changed || (i >= w && lf[x] != lb[x])
			}
		}
	}
	if !changed {
		t.Error("window had no effect beyond position W")
	}
}
