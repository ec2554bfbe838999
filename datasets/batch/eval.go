package batch

import (
	"fmt"
	"iter"

	"github.com/attnbench/attnbench/datasets/tokens"
)

// Sequences are the evaluation sequences of one length: N non-overlapping windows taken in order
// from the start of a split, as KERPLE evaluates (perplexity = exp of the mean token loss). Column
// t of every row is position t, so the mean loss per column is the position-wise loss curve.
type Sequences struct {
	name          string
	seq           tokens.Seq
	length, count int
	size          int
}

// NewSequences returns up to n sequences of length tokens (all that fit when n <= 0), batched by
// size. Fewer than n is not an error (Count says how many); none is.
func NewSequences(seq tokens.Seq, length, n, size int, name string) (*Sequences, error) {
	if name == "" {
		name = "eval"
	}
	if length < 1 {
		return nil, fmt.Errorf("batch: evaluation length %d must be at least 1", length)
	}
	if size < 1 {
		return nil, fmt.Errorf("batch: batch size %d must be at least 1", size)
	}
	total := 0
	if seq != nil {
		total = seq.Len()
	}
	fit := (total - 1) / length
	if fit < 1 {
		return nil, fmt.Errorf("batch: %s has %d tokens, shorter than one evaluation sequence of length %d (+1 for the labels)", name, total, length)
	}
	if n <= 0 || n > fit {
		n = fit
	}
	return &Sequences{name: name, seq: seq, length: length, count: n, size: size}, nil
}

// Count is the number of sequences; Len their length.
func (s *Sequences) Count() int { return s.count }
func (s *Sequences) Len() int   { return s.length }

// Name implements train.Dataset.
func (s *Sequences) Name() string { return s.name }

// Batches yields the sequences in order, size at a time (the last batch may be smaller).
func (s *Sequences) Batches() iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		buf := make([]int32, s.length+1)
		for first := 0; first < s.count; first += s.size {
			rows := min(s.size, s.count-first)
			b := newBatch(rows, s.length)
			for r := range rows {
				b.fill(s.seq, r, (first+r)*s.length, buf)
			}
			if !yield(b) {
				return
			}
		}
	}
}
