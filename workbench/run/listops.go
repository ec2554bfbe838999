package run

import (
	"fmt"
	"time"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/attnbench/attnbench/datasets/listops"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/training"
)

// ListOpsConfig is a small LRA ListOps run: an encoder classifier over the expression's tokens.
type ListOpsConfig struct {
	Model    transformer.Config // Vocab and Classes are set here
	Data     listops.Config
	Tokens   listops.Tokenization
	MaxLen   int // LRA truncates to 2000
	Batch    int
	Steps    int
	LR       float64
	ClipNorm float64
	Seed     uint64
}

// ListOpsResult holds the accuracies and the loss curve.
type ListOpsResult struct {
	Losses        []float64
	ValidAccuracy float64
	TestAccuracy  float64
	Majority      float64 // accuracy of always predicting the most frequent training label
	TokensPS      float64
}

// TrainListOps trains and evaluates a classifier on generated ListOps (padding masked out).
func TrainListOps(o Options, c ListOpsConfig) (*ListOpsResult, error) {
	if o.Backend == nil {
		return nil, fmt.Errorf("run: Options.Backend is nil")
	}
	if c.Batch < 1 || c.Steps < 1 || c.MaxLen < 1 || !(c.LR > 0 && c.LR <= 1) {
		return nil, fmt.Errorf("run: listops batch %d, steps %d, max length %d must be >= 1 and lr %g in (0, 1]", c.Batch, c.Steps, c.MaxLen, c.LR)
	}
	trainEx, validEx, testEx, err := listops.Generate(c.Data)
	if err != nil {
		return nil, err
	}
	cfg := c.Model
	cfg.Vocab = len(c.Tokens.Vocab())
	cfg.Classes = 10
	m, err := transformer.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.ValidateSeqLen(c.MaxLen); err != nil {
		return nil, err
	}
	trainDS, err := listops.NewDataset("listops train", trainEx, c.Tokens, c.Batch, c.MaxLen, true, c.Seed, 0)
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(c.Seed)+1)
	store.SetParam(optimizer.ParamLearningRate, c.LR)
	logitsFn := func(scope *model.Scope, tok *Node) *Node {
		mask := NotEqual(tok, ScalarZero(tok.Graph(), tok.DType()))
		l, _ := m.ClassLogits(scope, tok, transformer.ForwardOptions{Mask: mask})
		return l
	}
	lossFn := func(labels, predictions []*Node) *Node {
		return ReduceAllMean(TokenLoss(ExpandAxes(predictions[0], 1), ExpandAxes(ExpandAxes(labels[0], -1), -1)))
	}
	opt := training.ClipGlobalNorm(optimizer.Adam().WeightDecay(0.01).Done(), c.ClipNorm)
	tr := train.NewTrainer(o.Backend, store, logitsFn, lossFn, opt, nil, nil)
	res := &ListOpsResult{}
	counts := make([]int, 10)
	for _, e := range trainEx {
		counts[e.Target]++
	}
	best := 0
	for _, n := range counts {
		best = max(best, n)
	}
	t0 := time.Now()
	step := 0
	for in, tg := range trainDS.Batches() {
		if step >= c.Steps {
			break
		}
		out, err := tr.TrainStep(train.Batch{
			Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, len(tg), c.MaxLen)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(tg, len(tg))}})
		if err != nil {
			return res, fmt.Errorf("run: listops step %d: %w", step+1, err)
		}
		step++
		l := float64(tensors.ToScalar[float32](out[0]))
		res.Losses = append(res.Losses, l)
		if o.Progress != nil && (step%max(1, c.Steps/10) == 0 || step == c.Steps) {
			fmt.Fprintf(o.Progress, "listops step %d/%d loss %.4f\n", step, c.Steps, l)
		}
	}
	res.TokensPS = float64(step*c.Batch*c.MaxLen) / time.Since(t0).Seconds()
	exec, err := model.NewExec(o.Backend, store, func(scope *model.Scope, tok *Node) *Node {
		return ConvertDType(ArgMax(logitsFn(scope, tok), -1), dtypes.Int32)
	})
	if err != nil {
		return res, err
	}
	accuracy := func(ex []listops.Example) (float64, error) {
		ds, err := listops.NewDataset("listops eval", ex, c.Tokens, c.Batch, c.MaxLen, false, 0, 1)
		if err != nil {
			return 0, err
		}
		right, total := 0, 0
		for in, tg := range ds.Batches() {
			out, err := exec.Exec(tensors.FromFlatDataAndDimensions(in, len(tg), c.MaxLen))
			if err != nil {
				return 0, err
			}
			for i, p := range tensors.MustCopyFlatData[int32](out[0]) {
				if p == tg[i] {
					right++
				}
				total++
			}
		}
		return float64(right) / float64(total), nil
	}
	if res.ValidAccuracy, err = accuracy(validEx); err != nil {
		return res, err
	}
	if res.TestAccuracy, err = accuracy(testEx); err != nil {
		return res, err
	}
	res.Majority = float64(best) / float64(len(trainEx))
	return res, nil
}
