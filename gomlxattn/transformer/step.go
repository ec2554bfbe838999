package transformer

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
)

// CanStep reports whether the language model decodes one token at a time with a recurrent state
// (Step): every layer's attention is a causal linear recurrence (attention.Layer.CanStep) and
// no part of the model reads the absolute position or a window.
func (m *Model) CanStep() error {
	c := m.Config
	switch {
	case c.Classes > 0:
		return fmt.Errorf("transformer: a classifier (classes = %d) has no next-token step", c.Classes)
	case c.Window > 0:
		return fmt.Errorf("transformer: window = %d cuts the context; recurrent steps keep all of it, want window 0", c.Window)
	}
	return m.Layer.CanStep()
}

// StepState returns the zero state of every layer for a batch of sequences and contexts up to n
// positions (CanStep must hold): per layer the mechanism's state, of a size independent of n
// but for the number of exponential terms of the encoding (KERPLE-log: about 3 log n).
func (m *Model) StepState(g *Graph, batch, n int) []*Node {
	c := m.Config
	var st []*Node
	for range c.Layers {
		st = append(st, m.Layer.StepState(g, batch, c.Heads, c.HeadDim(), m.Layer.StepTermCount(n), m.DType)...)
	}
	return st
}

// Step feeds one token per sequence, tokens [B] (Int32), through the model with the state of
// the tokens before it, and returns the next-token logits [B, Vocab] and the new state: the same
// logits as Logits at that position of the whole sequence (exactly for no encoding and ALiBi;
// within the exponential sum's bound for KERPLE-log, whose terms are built for contexts up to
// n positions), in O(1) time and memory per token.
func (m *Model) Step(scope *model.Scope, tokens *Node, state []*Node, n int) (*Node, []*Node) {
	if err := m.CanStep(); err != nil {
		panic(err)
	}
	c := m.Config
	g := tokens.Graph()
	b := tokens.Shape().Dim(0)
	if tokens.Rank() != 1 {
		panicf("transformer: step tokens have shape %s, want [batch]", tokens.Shape())
	}
	per := len(state) / c.Layers
	if per*c.Layers != len(state) || per == 0 {
		panicf("transformer: %d state tensors for %d layers", len(state), c.Layers)
	}
	x := Gather(m.embeddings(scope, g), Reshape(ConvertDType(tokens, dtypes.Int32), b, 1)) // [B, D]
	var sharedW, sharedS *Node
	if !c.PosEnc.PerLayer {
		sharedW, sharedS = m.Layer.StepTerms(scope, g, c.Heads, n, m.DType)
	}
	var next []*Node
	for l := range c.Layers {
		ls := scope.In("layer_%d", l)
		w, s := sharedW, sharedS
		if c.PosEnc.PerLayer {
			w, s = m.Layer.StepTerms(ls, g, c.Heads, n, m.DType)
		}
		h := norm.LayerNorm(ls.In("ln_attn"), x, -1).Epsilon(1e-5).Done()
		as := ls.In("attn")
		q, k, v := m.qkv(as, h) // [B, H, Dh]
		out, st := m.Layer.Step(as, q, k, v, w, s, state[l*per:(l+1)*per], 0)
		next = append(next, st...)
		x = Add(x, m.dense(as.In("output"), Reshape(out, b, c.Width), c.Width, m.outStd()))
		x = Add(x, m.mlp(ls, x))
	}
	hidden := norm.LayerNorm(scope.In("ln_final"), x, -1).Epsilon(1e-5).Done()
	return m.head(scope, hidden), next
}
