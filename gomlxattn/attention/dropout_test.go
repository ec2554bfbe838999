package attention_test

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestAttentionDropout: in training graphs about rate of the probabilities are zeroed and the rest
// scaled by 1/(1-rate); evaluation graphs are unchanged.
func TestAttentionDropout(t *testing.T) {
	const b, n, h, d, rate = 2, 64, 4, 8, 0.25
	rng := rand.New(rand.NewPCG(3, 3))
	q, k, v := toTensor(randn(rng, 1, b, n, h, d)), toTensor(randn(rng, 1, b, n, h, d)), toTensor(randn(rng, 1, b, n, h, d))
	probs := func(training bool) []float32 {
		store := model.NewStore()
		exec := model.MustNewExec1(backend.MustShared(), store, func(scope *model.Scope, q, k, v *Node) *Node {
			store.SetTraining(q.Graph(), training)
			_, p := attention.Exact(q, k, v, attention.Options{DropoutRate: rate, Scope: scope, WantProbs: true})
			return p
		})
		return tensors.MustCopyFlatData[float32](exec.MustCall(q, k, v))
	}
	eval := probs(false)
	for r := 0; r < b*h*n; r++ { // evaluation: rows are probability distributions
		s := 0.0
		for j := range n {
			s += float64(eval[r*n+j])
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("evaluation row %d sums to %v", r, s)
		}
	}
	train := probs(true)
	zeros := 0
	for i, p := range train {
		switch {
		case p == 0:
			zeros++
		case math.Abs(float64(p)-float64(eval[i])/(1-rate)) > 1e-6:
			t.Fatalf("kept probability %d = %v, want %v/(1-%v)", i, p, eval[i], rate)
		}
	}
	if frac := float64(zeros) / float64(len(train)); math.Abs(frac-rate) > 0.02 {
		t.Errorf("dropped fraction %.3f, want about %v", frac, rate)
	}
}
