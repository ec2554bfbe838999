package transformer_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestStepMatchesForward: decoding token by token with the recurrent state gives the logits of
// the whole-sequence forward pass at every position (the oracle: Logits on the full sequence,
// computed by the chunked, FFT or linear paths), for every mechanism and encoding that can
// step, at odd lengths, with sharpened attention so that the positional terms matter.
func TestStepMatchesForward(t *testing.T) {
	b := backend.MustShared()
	cases := []struct {
		name, attn, pos string
		params          params.Given
		perLayer        bool
		tol             float64
	}{
		{"performer", "performer", "none", nil, false, 1e-4},
		{"performer-eps0-orf", "performer", "none", params.Given{"eps": 0, "projection": "orthogonal"}, false, 1e-4},
		{"performer-relu", "performer", "none", params.Given{"feature": "relu"}, false, 1e-4},
		{"kernelized-none", "kernelized_rpe", "none", nil, false, 1e-4},
		{"kernelized-alibi", "kernelized_rpe", "alibi", nil, false, 1e-4},
		{"kernelized-alibi-prf", "kernelized_rpe", "alibi", params.Given{"normalize": 0}, false, 1e-4},
		{"kernelized-alibi-fft", "kernelized_rpe", "alibi", params.Given{"decay": "off"}, false, 1e-4},
		// KERPLE-log: the exponential sum is within 1e-3 of the coefficients (posenc.KerpleLog.ExpTerms).
		{"kernelized-kerple_log", "kernelized_rpe", "kerple_log", nil, false, 5e-4},
		{"kernelized-kerple_log-per-layer", "kernelized_rpe", "kerple_log", params.Given{"normalize": 0}, true, 5e-4},
	}
	rng := rand.New(rand.NewPCG(21, 7))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tiny(tc.pos)
			c.Attention, c.AttentionParams, c.PosEnc.PerLayer = tc.attn, tc.params, tc.perLayer
			m, err := transformer.New(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.CanStep(); err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 13} {
				const bs = 2
				tok := make([]int32, bs*n)
				for i := range tok {
					tok[i] = int32(rng.IntN(c.Vocab))
				}
				store := model.NewStore()
				full := model.MustNewExec(b, store, func(scope *model.Scope, tokens *Node) *Node {
					logits, _ := m.Logits(scope, tokens, transformer.ForwardOptions{})
					return logits
				})
				full.MustExec(tensors.FromFlatDataAndDimensions(tok, bs, n)) // initializes the variables
				sharpen(t, store, rng)
				want := tensors.MustCopyFlatData[float32](full.MustExec(tensors.FromFlatDataAndDimensions(tok, bs, n))[0])

				zero := MustNewExec(b, func(g *Graph) []*Node { return m.StepState(g, bs, n) })
				state := zero.MustExec()
				step := model.MustNewExec(b, store, func(scope *model.Scope, in []*Node) []*Node {
					logits, next := m.Step(scope, in[0], in[1:], n)
					return append([]*Node{logits}, next...)
				})
				worst := 0.0
				for i := range n {
					col := []int32{tok[i], tok[n+i]}
					args := []any{tensors.FromFlatDataAndDimensions(col, bs)}
					for _, s := range state {
						args = append(args, s)
					}
					out := step.MustExec(args...)
					got := tensors.MustCopyFlatData[float32](out[0])
					state = out[1:]
					for bi := range bs {
						for v := range c.Vocab {
							g, w := float64(got[bi*c.Vocab+v]), float64(want[(bi*n+i)*c.Vocab+v])
							if math.IsNaN(g) || math.IsInf(g, 0) {
								t.Fatalf("n=%d position %d: logit %g", n, i, g)
							}
							worst = math.Max(worst, math.Abs(g-w)/(1+math.Abs(w)))
						}
					}
				}
				t.Logf("n=%d: worst relative difference %.2e", n, worst)
				if worst > tc.tol {
					t.Errorf("n=%d: step logits differ from the forward pass by %.2e (relative), want <= %.0e", n, worst, tc.tol)
				}
			}
		})
	}
}

// sharpen scales the query and key projections by 4 and the value projections by 3 and draws
// KERPLE-log's parameters, so that the attention weights and the positional terms are far from
// uniform and an error in either shows in the logits.
func sharpen(t *testing.T, store *model.Store, rng *rand.Rand) {
	t.Helper()
	for v := range store.IterVariables() {
		p := v.Path()
		factor := 0.0
		switch {
		case strings.Contains(p, "/query/weights"), strings.Contains(p, "/key/weights"):
			factor = 4
		case strings.Contains(p, "/value/weights"):
			factor = 3
		case strings.Contains(p, "kerple_log_r"):
			factor = -1
		default:
			continue
		}
		x := tensors.MustCopyFlatData[float32](v.MustValue())
		for i := range x {
			if factor < 0 {
				x[i] = float32(0.2 + 2*rng.Float64())
			} else {
				x[i] *= float32(factor)
			}
		}
		v.MustSetValue(tensors.FromFlatDataAndDimensions(x, v.Shape().Dimensions...))
	}
}

// TestCanStepNamesTheObstacle: models that cannot decode with a fixed-size state say why.
func TestCanStepNamesTheObstacle(t *testing.T) {
	for _, tc := range []struct {
		attn, pos string
		window    int
		want      string
	}{
		{"softmax", "alibi", 0, "keeps every key"},
		{"performer", "rotary", 0, "posenc rotary"},
		{"performer", "sinusoidal", 0, "posenc sinusoidal"},
		{"kernelized_rpe", "luo_rpe", 0, "posenc luo_rpe"},
		{"kernelized_rpe", "t5", 0, "posenc t5"},
		{"kernelized_rpe", "alibi", 8, "window = 8"},
	} {
		c := tiny(tc.pos)
		c.Attention, c.Window = tc.attn, tc.window
		m, err := transformer.New(c)
		if err != nil {
			t.Fatalf("%s/%s: %v", tc.attn, tc.pos, err)
		}
		if err := m.CanStep(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s/%s window %d: CanStep = %v, want an error containing %q", tc.attn, tc.pos, tc.window, err, tc.want)
		}
	}
}
