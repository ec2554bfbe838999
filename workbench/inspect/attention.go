package inspect

import (
	"github.com/attnbench/attnbench/workbench/run"

	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/transformer"
)

// AttentionWeights returns the attention probabilities of the run in dir on text, read from the
// last checkpoint, indexed [layer][head][query][key]; each query's row sums to 1 over the keys it
// sees. Kernelized mechanisms give the matrix their estimator implies, phi(q_i).phi(k_j) c_{j-i}
// normalized per row, formed in O(n^2) for this readout only.
func AttentionWeights(dir, text string, o run.Options) ([][][][]float64, error) {
	r, err := run.Restore(dir, nil)
	if err != nil {
		return nil, err
	}
	ids, err := r.Tok.Encode(nil, []byte(text))
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("inspect: attention text %q has no tokens; want at least 1", text)
	}
	if err := r.Model.ValidateSeqLen(len(ids)); err != nil {
		return nil, err
	}
	return attentionWeights(r, ids, o)
}

func attentionWeights(r *run.Restored, ids []int32, o run.Options) ([][][][]float64, error) {
	m := r.Model
	noProbs := false
	exec, err := model.NewExec(o.Backend, r.Store, func(scope *model.Scope, t *Node) *Node {
		out := m.Forward(scope, t, transformer.ForwardOptions{WantProbs: true})
		if len(out.Probs) == 0 {
			noProbs = true
			return Scalar(t.Graph(), dtypes.Float32, 0)
		}
		return Stack(out.Probs, 0) // [layers, 1, H, n, n]
	})
	if err != nil {
		return nil, err
	}
	n := len(ids)
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(ids, 1, n))
	// Building the graph tells whether there is a matrix; then the placeholder output uses none
	// of the model's parameters, which compute v0.1.2's Go executor can fail to run (a parameter
	// index beyond its last live node), so the missing matrix is reported first.
	if noProbs {
		return nil, fmt.Errorf("inspect: attention %q provides no attention matrix", m.Mechanism.Name())
	}
	if err != nil {
		return nil, err
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	layers, heads := m.Config.Layers, m.Config.Heads
	res := make([][][][]float64, layers)
	for l := range layers {
		res[l] = make([][][]float64, heads)
		for h := range heads {
			res[l][h] = make([][]float64, n)
			for i := range n {
				row := make([]float64, n)
				base := ((l*heads+h)*n + i) * n
				for j := range n {
					row[j] = float64(flat[base+j])
				}
				res[l][h][i] = row
			}
		}
	}
	return res, nil
}
