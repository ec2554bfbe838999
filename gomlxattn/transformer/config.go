// Package transformer builds small pre-LN Transformers from a validated Config: a decoder-only
// language model and a bidirectional encoder classifier, with pluggable attention mechanisms
// (package attention) and positional encodings (package posenc).
package transformer

import (
	"fmt"
	"math"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// Config describes a model. Zero values of optional fields take the documented defaults.
type Config struct {
	Vocab  int `json:"vocab"`  // token vocabulary size
	Width  int `json:"width"`  // model width D
	Heads  int `json:"heads"`  // attention heads; must divide Width
	Layers int `json:"layers"` // Transformer blocks

	MLPRatio    float64 `json:"mlp_ratio,omitempty"`    // MLP hidden width / D; default 4
	Dropout     float64 `json:"dropout,omitempty"`      // residual and MLP dropout, in [0, 1)
	AttnDropout float64 `json:"attn_dropout,omitempty"` // attention-probability dropout, in [0, 1)
	TiedOutput  bool    `json:"tied_output,omitempty"`  // output layer shares the embedding table

	Attention       string        `json:"attention,omitempty"` // mechanism; default "softmax"
	AttentionParams params.Given  `json:"attention_params,omitempty"`
	PosEnc          posenc.Config `json:"posenc"`
	Window          int           `json:"window,omitempty"` // band mask width; 0 = none

	// Classes > 0 builds the bidirectional encoder classifier with that many classes;
	// 0 builds the causal language model.
	Classes int `json:"classes,omitempty"`
}

// Causal reports whether the model is the causal language model.
func (c Config) Causal() bool { return c.Classes == 0 }

// HeadDim is Width / Heads.
func (c Config) HeadDim() int { return c.Width / max(c.Heads, 1) }

// MLPWidth is the hidden width of the MLP.
func (c Config) MLPWidth() int {
	r := c.MLPRatio
	if r == 0 {
		r = 4
	}
	return max(1, int(math.Round(r*float64(c.Width))))
}

func (c Config) attentionKind() string {
	if c.Attention == "" {
		return "softmax"
	}
	return c.Attention
}

// Env is what positional encodings see of the model.
func (c Config) Env() posenc.Env {
	return posenc.Env{NumHeads: c.Heads, HeadDim: c.HeadDim(), Width: c.Width, Causal: c.Causal()}
}

// LayerConfig is the attention layer of every block.
func (c Config) LayerConfig() attention.LayerConfig {
	return attention.LayerConfig{Attention: c.Attention, AttentionParams: c.AttentionParams, PosEnc: c.PosEnc,
		Heads: c.Heads, HeadDim: c.HeadDim(), Width: c.Width, Causal: c.Causal()}
}

// Validate checks every field; errors name the field, the value and the valid range.
func (c Config) Validate() error {
	_, err := New(c)
	return err
}

// checkFields validates the fields that need no registry lookup.
func (c Config) checkFields() error {
	pos := func(name string, v int) error {
		if v < 1 {
			return fmt.Errorf("transformer config: %s = %d is invalid, want >= 1", name, v)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Vocab", c.Vocab}, {"Width", c.Width}, {"Heads", c.Heads}, {"Layers", c.Layers}} {
		if err := pos(f.name, f.v); err != nil {
			return err
		}
	}
	if c.Width%c.Heads != 0 {
		return fmt.Errorf("transformer config: Heads = %d does not divide Width = %d, want a divisor of %d", c.Heads, c.Width, c.Width)
	}
	if c.MLPRatio < 0 || math.IsNaN(c.MLPRatio) || c.MLPRatio > 64 {
		return fmt.Errorf("transformer config: MLPRatio = %v is invalid, want 0 (default 4) or in (0, 64]", c.MLPRatio)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Dropout", c.Dropout}, {"AttnDropout", c.AttnDropout}} {
		if !(f.v >= 0 && f.v < 1) {
			return fmt.Errorf("transformer config: %s = %v is invalid, want in [0, 1)", f.name, f.v)
		}
	}
	if c.Window < 0 {
		return fmt.Errorf("transformer config: Window = %d is invalid, want 0 (no band mask) or >= 1", c.Window)
	}
	if c.Classes < 0 {
		return fmt.Errorf("transformer config: Classes = %d is invalid, want 0 (language model) or >= 1", c.Classes)
	}
	if c.Classes > 0 && c.TiedOutput {
		return fmt.Errorf("transformer config: TiedOutput = true is invalid for a classifier (Classes = %d), want false", c.Classes)
	}
	return nil
}
