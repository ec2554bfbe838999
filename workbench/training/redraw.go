package training

import (
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/features"
)

// RedrawIfDue redraws the random-feature projections of store after optimizer step `step`
// (1-based) when the mechanism asks for a redraw every N steps and step is a multiple of N.
// It reports whether it redrew. Evaluation never redraws: it uses the current draw.
func RedrawIfDue(mech attention.Mechanism, store *model.Store, step int) (bool, error) {
	r, ok := mech.(attention.Redrawing)
	if !ok || r.RedrawEvery() <= 0 || step%r.RedrawEvery() != 0 {
		return false, nil
	}
	_, err := features.Redraw(store)
	return err == nil, err
}
