// Package training holds the optimizer pieces of the workbench: global-norm gradient clipping with
// the norm logged, the warmup + cosine learning-rate schedule, and random-feature redraws.
package training

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// GradNormPath is the variable holding the global gradient norm of the last step (before clipping).
const GradNormPath = "/training/grad_norm"

// ClipGlobalNorm wraps an optimizer: gradients g are scaled by min(1, maxNorm/||g||_2), the norm
// taken over all trainable variables together; maxNorm = 0 only records the norm.
func ClipGlobalNorm(opt optimizer.Interface, maxNorm float64) optimizer.Interface {
	return clipGlobalNorm{opt, maxNorm}
}

type clipGlobalNorm struct {
	optimizer.Interface
	maxNorm float64
}

func (c clipGlobalNorm) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	grads := scope.BuildTrainableVariablesGradientsGraph(loss)
	sq := ScalarZero(g, dtypes.Float32)
	for _, gr := range grads {
		sq = Add(sq, ConvertDType(ReduceAllSum(Square(gr)), dtypes.Float32))
	}
	norm := Sqrt(sq)
	scope.Store().Scope("/training").VariableWithValue("grad_norm", float32(0)).SetTrainable(false).SetNodeValue(norm)
	if c.maxNorm > 0 {
		factor := Min(ScalarOne(g, dtypes.Float32), MulScalar(Inverse(MaxScalar(norm, 1e-12)), c.maxNorm))
		for i := range grads {
			grads[i] = Mul(grads[i], ConvertDType(factor, grads[i].DType()))
		}
	}
	c.Interface.(train.OptimizeWithGradients).UpdateGraphWithGradients(scope, grads, loss.DType())
}
