package run

import (
	"fmt"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/attnbench/attnbench/datasets"
	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/datasets/tokens"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/experiment"
)

// OpenData returns o.Data, or opens the experiment's corpus; done releases what it opened.
func OpenData(e experiment.Experiment, o Options) (data *tokens.Splits, done func(), err error) {
	if o.Data != nil {
		return o.Data, func() {}, nil
	}
	d, err := datasets.Open(e.Data.Corpus, datasets.Options{Tokenizer: e.Data.Tokenizer, Format: e.Data.Format})
	if err != nil {
		return nil, nil, err
	}
	return d, func() { d.Close() }, nil
}

// Restored is a finished or interrupted run restored from its directory: what the readouts of
// package inspect start from.
type Restored struct {
	Dir   string
	Exp   experiment.Experiment
	Tok   tokenizer.Tokenizer
	Model *transformer.Model
	Store *model.Store
}

// Restore restores the run in dir from its config and last complete checkpoint, with the model
// changed by modify (nil for none). Variables the changed model has and the checkpoint lacks
// (random projections) are initialized as in a new model, from the run's seed.
func Restore(dir string, modify func(*transformer.Config)) (*Restored, error) {
	e, err := experiment.Load(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.New(e.Data.Tokenizer)
	if err != nil {
		return nil, err
	}
	p, _, err := readPointer(dir)
	if err != nil {
		return nil, err
	}
	if p.Step == 0 {
		return nil, fmt.Errorf("run: %s has no checkpoint", dir)
	}
	cfg, err := e.ModelConfig()
	if err != nil {
		return nil, err
	}
	if modify != nil {
		modify(&cfg)
	}
	m, err := transformer.New(cfg)
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(e.Seed)+1)
	if _, err := checkpoint.Load(store).Dir(checkpointDir(dir)).ExcludeAllParams().Done(); err != nil {
		return nil, damaged(dir, p.Step, err)
	}
	freeze(store, p.Frozen)
	return &Restored{Dir: dir, Exp: e, Tok: tok, Model: m, Store: store}, nil
}
