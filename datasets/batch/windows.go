// Package batch turns token sequences into batches: random windows for training, as a GoMLX
// train.Dataset with prefetching, and non-overlapping sequences for evaluation at any length
// (the KERPLE protocol).
package batch

import (
	"fmt"
	"iter"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/datasets/tokens"
)

// Batch holds next-token prediction pairs: Labels[b][t] = the token after Inputs[b][t].
type Batch struct {
	Size, Len int
	Inputs    []int32 // [Size, Len] row-major
	Labels    []int32 // [Size, Len] row-major
	// Offsets are the positions in the source sequence of each row's first input token.
	Offsets []int
}

// Tensors returns the inputs as [Size, Len] and the labels as [Size, Len, 1] int32 tensors (the
// shape of GoMLX's sparse cross-entropy losses).
func (b *Batch) Tensors() (inputs, labels *tensors.Tensor) {
	return tensors.FromFlatDataAndDimensions(b.Inputs, b.Size, b.Len),
		tensors.FromFlatDataAndDimensions(b.Labels, b.Size, b.Len, 1)
}

func newBatch(size, length int) *Batch {
	return &Batch{Size: size, Len: length, Inputs: make([]int32, size*length),
		Labels: make([]int32, size*length), Offsets: make([]int, size)}
}

// fill reads row r of b from seq starting at off (Len+1 tokens).
func (b *Batch) fill(seq tokens.Seq, r, off int, buf []int32) {
	seq.Read(buf, off)
	copy(b.Inputs[r*b.Len:(r+1)*b.Len], buf[:b.Len])
	copy(b.Labels[r*b.Len:(r+1)*b.Len], buf[1:])
	b.Offsets[r] = off
}

// Windows draws training batches of windows at uniformly random offsets. Batch k depends only on
// the seed and k, so a resumed run sees the same batches from any step on.
type Windows struct {
	name         string
	seq          tokens.Seq
	size, length int
	seed         uint64
	start, limit int
	prefetch     int
}

// WindowOptions configures NewWindows.
type WindowOptions struct {
	// Name names the dataset (and the corpus in errors).
	Name string
	// Seed fixes the offsets.
	Seed uint64
	// Start is the index of the first batch Iter yields (to resume at a step).
	Start int
	// Limit is the number of batches Iter yields; 0 means endless, as GoMLX's RunSteps needs.
	Limit int
	// Prefetch is the number of batches prepared ahead on another goroutine; default 4.
	Prefetch int
}

// NewWindows returns batches of size windows of length tokens (plus one for the labels) from seq.
func NewWindows(seq tokens.Seq, size, length int, o WindowOptions) (*Windows, error) {
	if o.Name == "" {
		o.Name = "windows"
	}
	switch {
	case size < 1:
		return nil, fmt.Errorf("batch: batch size %d must be at least 1", size)
	case length < 1:
		return nil, fmt.Errorf("batch: window length %d must be at least 1", length)
	case seq == nil || seq.Len() < length+1:
		n := 0
		if seq != nil {
			n = seq.Len()
		}
		return nil, fmt.Errorf("batch: %s has %d tokens, shorter than one window of length %d (+1 for the labels)", o.Name, n, length)
	case o.Start < 0 || o.Limit < 0 || o.Prefetch < 0:
		return nil, fmt.Errorf("batch: start %d, limit %d and prefetch %d must not be negative", o.Start, o.Limit, o.Prefetch)
	}
	if o.Prefetch == 0 {
		o.Prefetch = 4
	}
	return &Windows{name: o.Name, seq: seq, size: size, length: length, seed: o.Seed,
		start: o.Start, limit: o.Limit, prefetch: o.Prefetch}, nil
}

// Name implements train.Dataset.
func (w *Windows) Name() string { return w.name }

// At returns batch k.
func (w *Windows) At(k int) *Batch {
	rng := rand.New(rand.NewPCG(w.seed, uint64(k)))
	b := newBatch(w.size, w.length)
	buf := make([]int32, w.length+1)
	span := w.seq.Len() - w.length // valid offsets: [0, span)
	for r := range w.size {
		b.fill(w.seq, r, rng.IntN(span), buf)
	}
	return b
}

// Batches yields batches Start, Start+1, ... (Limit of them, or endless), prepared ahead on
// another goroutine; breaking out of the loop stops it.
func (w *Windows) Batches() iter.Seq2[int, *Batch] {
	return func(yield func(int, *Batch) bool) {
		type item struct {
			k int
			b *Batch
		}
		ch := make(chan item, w.prefetch)
		done := make(chan struct{})
		defer close(done)
		go func() {
			defer close(ch)
			for k := w.start; w.limit == 0 || k < w.start+w.limit; k++ {
				select {
				case ch <- item{k, w.At(k)}:
				case <-done:
					return
				}
			}
		}()
		for it := range ch {
			if !yield(it.k, it.b) {
				return
			}
		}
	}
}
