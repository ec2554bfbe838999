package transformer

import "github.com/attnbench/attnbench/gomlxattn/attention"

// Parameters estimates the number of trainable parameters: embeddings, per block the q, k, v,
// output and MLP projections with biases and two LayerNorms, the final LayerNorm and the output
// layer. Float64, so that absurd sizes give a large number rather than an overflow.
func (c Config) Parameters() float64 {
	d, v, l, mlp := float64(c.Width), float64(c.Vocab), float64(c.Layers), float64(c.MLPWidth())
	p := v * d
	p += l * (4*d*d + 4*d + 2*d*mlp + mlp + d + 4*d)
	p += 2 * d
	if c.Classes > 0 {
		p += d*float64(c.Classes) + float64(c.Classes)
	} else if !c.TiedOutput {
		p += d * v
	}
	return p
}

// StepBytes estimates the peak memory in bytes of one float32 step on batch x n tokens: for
// training, the parameters with their gradient and two AdamW moments plus the activations kept
// for the backward pass; for inference, the parameters and one block's activations. The
// attention's share comes from the mechanism (attention.MemoryEstimator), O(n^2) otherwise.
// It is an order of magnitude for refusing sizes that cannot fit, not a measurement.
func (m *Model) StepBytes(batch, n int, training bool) float64 {
	c := m.Config
	b, t, d := float64(batch), float64(n), float64(c.Width)
	h, dh := c.Heads, c.HeadDim()
	attn := 4 * b * float64(h) * t * t * 3 // logits, probabilities and their gradient
	if e, ok := m.Mechanism.(attention.MemoryEstimator); ok {
		attn = e.ActivationBytes(batch, n, h, dh)
	}
	block := 4*b*t*(8*d+2*float64(c.MLPWidth())) + attn
	out := 4 * b * t * float64(max(c.Vocab, c.Classes)) * 2 // logits and their softmax
	params := 4 * c.Parameters()
	if !training {
		return params + block + out
	}
	return 4*params + float64(c.Layers)*block + out
}
