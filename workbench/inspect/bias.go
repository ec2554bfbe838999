package inspect

import (
	"github.com/attnbench/attnbench/workbench/run"

	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// LearnedBias returns, for the run in dir, the bias its positional encoding adds to the logit of a
// query at position n-1 for the key at distance 0, 1, ..., n-1 (per head), read from the last
// checkpoint: KERPLE, ALiBi, T5, FIRE and Luo's table shapes after training. Encodings without a
// bias (absolute, rotary, none) give an error.
func LearnedBias(dir string, n int, o run.Options) ([][]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("inspect: bias length %d must be at least 1", n)
	}
	r, err := run.Restore(dir, nil)
	if err != nil {
		return nil, err
	}
	e, m := r.Exp, r.Model
	if m.Layer.Family != posenc.FamilyRelative {
		return nil, fmt.Errorf("inspect: encoding %s of %s adds no bias to the logits", e.Model.PosEnc.Kind, dir)
	}
	if e.Model.PosEnc.PerLayer {
		return nil, fmt.Errorf("inspect: %s has one encoding per layer; LearnedBias reads the shared one", dir)
	}
	exec, err := model.NewExec(o.Backend, r.Store, func(scope *model.Scope, x *Node) *Node {
		b := m.Layer.Bias(scope, x.Graph(), n, dtypes.Float32)
		full := b.Matrix() // [H, n, n]
		return Add(full, ZerosLike(ReduceAllSum(x)))
	})
	if err != nil {
		return nil, err
	}
	out, err := exec.Exec(tensors.FromScalar(float32(0)))
	if err != nil {
		return nil, err
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	h := len(flat) / (n * n)
	res := make([][]float64, h)
	for hh := range h {
		res[hh] = make([]float64, n)
		for dist := range n {
			res[hh][dist] = float64(flat[hh*n*n+(n-1)*n+(n-1-dist)])
		}
	}
	return res, nil
}
