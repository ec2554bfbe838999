package main

import (
	"bytes"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/attntest"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/internal/testrun"
	"github.com/attnbench/attnbench/workbench/approx"
	"github.com/attnbench/attnbench/workbench/speed"
)

// localSoftmax is a mechanism registered by this test alone, as a new mechanism's file would:
// exact softmax over the last m keys (a band of width m), which approaches softmax as m grows.
type localSoftmax struct{ m int }

func (localSoftmax) Name() string { return "local_softmax" }

func (l localSoftmax) Attend(_ *model.Scope, q, k, v *Node, opt attention.Options) (*Node, *Node) {
	if opt.Window == 0 || opt.Window > l.m {
		opt.Window = l.m
	}
	return attention.Exact(q, k, v, opt)
}

func (localSoftmax) SizeParam() string { return "m" }

func (localSoftmax) Reference() (string, params.Given, int) { return "softmax", nil, 0 }

func init() {
	attention.Register(&attention.Spec{Name: "local_softmax", Doc: "softmax over the last m keys",
		Params: []params.Param{{Name: "m", Default: 4, Min: 1, Max: 1 << 20, Integer: true, Doc: "keys each query sees"},
			{Name: "flavour", Choices: []string{"plain", "spiced"}, Doc: "a named choice"}},
		New: func(p params.Values) (attention.Mechanism, error) { return localSoftmax{m: p.Int("m")}, nil }})
}

// Registering a mechanism (the init above) is all it takes: it is listed with its parameters in
// train -help, measured by the speed harness, studied by the approximation study (it has a size
// and a reference), passes the model checks, and trains from the command line with a named
// choice.
func TestRegisteredMechanismAppearsEverywhere(t *testing.T) {
	var out, errb bytes.Buffer
	if code := execute([]string{"train", "-help"}, &out, &errb); code != 0 {
		t.Fatalf("train -help: exit %d", code)
	}
	for _, want := range []string{"local_softmax: softmax over the last m keys", "m=4 (integer in [1, 1048576]): keys each query sees",
		"flavour=plain (one of plain|spiced)"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("train -help lacks %q", want)
		}
	}
	b := testrun.Backend(t)
	var sv *speed.Variant
	for _, v := range speed.Defaults(true) {
		if v.Attention == "local_softmax" {
			sv = &v
		}
	}
	if sv == nil {
		t.Fatal("speed.Defaults lacks local_softmax")
	}
	rs, err := speed.Run(b, speed.Config{Variants: []speed.Variant{*sv}, Lengths: []int{8}, Heads: 2, HeadDim: 4, Causal: true, Reps: 1})
	if err != nil || len(rs) != 1 || !(rs[0].MedianS > 0) {
		t.Fatalf("speed harness: %v %+v", err, rs)
	}
	var av *approx.Variant
	for _, v := range approx.Defaults() {
		if v.Attention == "local_softmax" {
			av = &v
		}
	}
	if av == nil || av.Reference != "softmax" || av.SizeParam != "m" {
		t.Fatalf("approx.Defaults: %+v", av)
	}
	errs, err := approx.Error(b, *av, []int{1, 4, 16}, approx.Config{N: 16, Heads: 1, Dim: 4, Draws: 1, Scale: 1, Seed: 1})
	if err != nil || !(errs[0] > errs[1] && errs[1] > errs[2]) || errs[2] > 1e-5 {
		t.Errorf("approximation error %v (%v), want falling to 0 once m covers every key", errs, err)
	}
	attntest.Check(t, b, "local_softmax", params.Given{"m": 3})
	dir := t.TempDir()
	if code := execute([]string{"train", "-attention", "local_softmax", "-attn_params", "m=8,flavour=spiced", "-steps", "2", "-width", "16",
		"-layers", "1", "-seq", "16", "-eval_lengths", "16", "-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("train with local_softmax: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := execute([]string{"train", "-attention", "local_softmax", "-attn_params", "flavour=1", "-steps", "2", "-dir", t.TempDir()}, &out, &errb); code == 0 ||
		!strings.Contains(errb.String(), "plain, spiced") {
		t.Errorf("numeric code for a choice: exit %d: %s", code, errb.String())
	}
}
