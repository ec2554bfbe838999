package transformer_test

import (
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/attntest"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/internal/backend"
)

// small keeps the sizes of the mechanisms registered here small for a 9-token model; others run
// with their defaults.
var small = map[string]params.Given{"skyformer": {"landmarks": 8}, "performer": {"m": 16}, "kernelized_rpe": {"m": 16},
	"schoenbat": {"features": 16}}

// Every registered mechanism passes the conformance checks of attntest.
func TestEveryRegisteredMechanism(t *testing.T) {
	for _, name := range attention.Names() {
		t.Run(name, func(t *testing.T) { attntest.Check(t, backend.MustShared(), name, small[name]) })
	}
}
