package transformer_test

import (
	"strings"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

func tiny(kind string) transformer.Config {
	return transformer.Config{Vocab: 16, Width: 32, Heads: 4, Layers: 2, PosEnc: posenc.Config{Kind: kind}}
}

func TestConfigErrors(t *testing.T) {
	mod := func(f func(*transformer.Config)) transformer.Config { c := tiny("alibi"); f(&c); return c }
	cases := []struct {
		cfg  transformer.Config
		want []string
	}{
		{mod(func(c *transformer.Config) { c.Heads = 5 }), []string{"Heads = 5", "Width = 32"}},
		{mod(func(c *transformer.Config) { c.PosEnc.Kind = "kerple_cos" }), []string{"PosEnc", `"kerple_cos"`, "kerple_log"}},
		{mod(func(c *transformer.Config) { c.Width = 0 }), []string{"Width = 0", ">= 1"}},
		{mod(func(c *transformer.Config) { c.Vocab = -3 }), []string{"Vocab = -3", ">= 1"}},
		{mod(func(c *transformer.Config) { c.Layers = 0 }), []string{"Layers = 0", ">= 1"}},
		{mod(func(c *transformer.Config) { c.Width, c.Heads, c.PosEnc.Kind = 28, 4, "rotary" }), []string{"rotary", "HeadDim 7", "even"}},
		{mod(func(c *transformer.Config) { c.Window = -1 }), []string{"Window = -1", ">= 1"}},
		{mod(func(c *transformer.Config) { c.Dropout = 1 }), []string{"Dropout = 1", "[0, 1)"}},
		{mod(func(c *transformer.Config) { c.Attention = "flash" }), []string{"Attention", `"flash"`, "softmax"}},
		{mod(func(c *transformer.Config) { c.MLPRatio = -2 }), []string{"MLPRatio = -2"}},
		{mod(func(c *transformer.Config) { c.Classes = 3; c.TiedOutput = true }), []string{"TiedOutput", "classifier"}},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if err == nil {
			t.Errorf("%+v: no error", c.cfg)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		if _, err := transformer.New(c.cfg); err == nil {
			t.Errorf("New accepted an invalid config %+v", c.cfg)
		}
	}
	lc := tiny("learned")
	lc.PosEnc.Params = params.Given{"max_len": 64}
	lm, err := transformer.New(lc)
	if err != nil {
		t.Fatal(err)
	}
	if err := lm.ValidateSeqLen(65); err == nil || !strings.Contains(err.Error(), "65") || !strings.Contains(err.Error(), "<= 64") {
		t.Errorf("sequence longer than the learned table: got %v", err)
	}
	if err := lm.ValidateSeqLen(64); err != nil {
		t.Errorf("n = max_len rejected: %v", err)
	}
}
