package inspect

import (
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/run"
)

// Convert evaluates the last checkpoint of the run in dir with the model changed by modify (nil
// for none), without writing anything: the conversion experiment of Luo et al. 2021,
// softmax-trained weights evaluated with random-feature attention. Variables the new model has
// and the checkpoint lacks (random projections) are initialized as in a new model.
func Convert(dir string, ev experiment.Eval, modify func(*transformer.Config), o run.Options) ([]results.Eval, error) {
	r, err := run.Restore(dir, modify)
	if err != nil {
		return nil, err
	}
	return run.EvaluateRestored(r, ev, o)
}
