// Package synthetic generates algorithmic sequence tasks with controllable length for
// extrapolation tests: copying and associative recall. A task yields next-token prediction
// batches with a weight per position that is 1 where the answer is scored and 0 elsewhere, so a
// model trained at one length can be evaluated at longer ones.
package synthetic

import (
	"fmt"
	"math/rand/v2"
)

// Batch holds inputs, next-token labels and weights, all [Size, Len] row-major.
type Batch struct {
	Size, Len int
	Inputs    []int32
	Labels    []int32
	Weights   []float32
}

// Task draws batches; batch k depends only on the seed and k.
type Task interface {
	Name() string
	// Vocab is the number of distinct ids.
	Vocab() int
	// Len is the sequence length of every example.
	Len() int
	Batch(seed uint64, k, size int) *Batch
}

func newBatch(size, length int) *Batch {
	return &Batch{Size: size, Len: length, Inputs: make([]int32, size*length),
		Labels: make([]int32, size*length), Weights: make([]float32, size*length)}
}

// setRow writes the sequence seq (length Len+1) to row r: inputs seq[:Len], labels seq[1:], and
// weights 1 from position scoreFrom on.
func (b *Batch) setRow(r int, seq []int32, scoreFrom int) {
	copy(b.Inputs[r*b.Len:(r+1)*b.Len], seq[:b.Len])
	copy(b.Labels[r*b.Len:(r+1)*b.Len], seq[1:])
	for t := scoreFrom; t < b.Len; t++ {
		b.Weights[r*b.Len+t] = 1
	}
}

// Copy is the copy task: k random symbols, a separator, then the same k symbols. The model must
// predict the second copy; ids: 0 separator, 1..Symbols the symbols.
type Copy struct {
	K, Symbols int
}

// NewCopy returns the copy task for sequences of k symbols from an alphabet of symbols.
func NewCopy(k, symbols int) (*Copy, error) {
	if k < 1 {
		return nil, fmt.Errorf("synthetic: copy length k = %d must be at least 1", k)
	}
	if symbols < 2 || symbols > 1<<20 {
		return nil, fmt.Errorf("synthetic: copy alphabet of %d symbols is outside [2, 1048576]", symbols)
	}
	return &Copy{K: k, Symbols: symbols}, nil
}

func (c *Copy) Name() string { return fmt.Sprintf("copy-k%d", c.K) }
func (c *Copy) Vocab() int   { return c.Symbols + 1 }
func (c *Copy) Len() int     { return 2 * c.K }

// Batch: sequence x_1..x_k 0 x_1..x_k; inputs are its first 2k ids, and the scored labels are
// the second copy (positions k..2k-1 predict x_1..x_k).
func (c *Copy) Batch(seed uint64, k, size int) *Batch {
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	b := newBatch(size, c.Len())
	seq := make([]int32, 2*c.K+1)
	for r := range size {
		for i := range c.K {
			x := int32(1 + rng.IntN(c.Symbols))
			seq[i], seq[c.K+1+i] = x, x
		}
		seq[c.K] = 0
		b.setRow(r, seq, c.K)
	}
	return b
}

// Recall is associative recall: n key-value pairs with distinct keys, then a query key; the
// model must predict the query's value. Ids: 0..Keys-1 keys, Keys..Keys+Values-1 values.
type Recall struct {
	Pairs, Keys, Values int
}

// NewRecall returns the recall task with n pairs drawn from keys keys and values values.
func NewRecall(n, keys, values int) (*Recall, error) {
	if n < 1 {
		return nil, fmt.Errorf("synthetic: recall needs at least 1 pair, got %d", n)
	}
	if keys < n {
		return nil, fmt.Errorf("synthetic: %d keys cannot give %d distinct keys; keys must be at least the number of pairs", keys, n)
	}
	if values < 2 || keys+values > 1<<20 {
		return nil, fmt.Errorf("synthetic: %d values with %d keys is outside values >= 2, keys+values <= 1048576", values, keys)
	}
	return &Recall{Pairs: n, Keys: keys, Values: values}, nil
}

func (a *Recall) Name() string { return fmt.Sprintf("recall-n%d", a.Pairs) }
func (a *Recall) Vocab() int   { return a.Keys + a.Values }
func (a *Recall) Len() int     { return 2*a.Pairs + 1 }

// Batch: sequence k_1 v_1 ... k_n v_n q v(q); only the last position (predicting v(q)) is scored.
func (a *Recall) Batch(seed uint64, k, size int) *Batch {
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	b := newBatch(size, a.Len())
	seq := make([]int32, 2*a.Pairs+2)
	keys := make([]int32, a.Keys)
	for i := range keys {
		keys[i] = int32(i)
	}
	for r := range size {
		// Partial Fisher-Yates: the first n keys are a uniform sample without replacement.
		for i := range a.Pairs {
			j := i + rng.IntN(a.Keys-i)
			keys[i], keys[j] = keys[j], keys[i]
		}
		for i := range a.Pairs {
			seq[2*i] = keys[i]
			seq[2*i+1] = int32(a.Keys + rng.IntN(a.Values))
		}
		q := rng.IntN(a.Pairs)
		seq[2*a.Pairs] = seq[2*q]
		seq[2*a.Pairs+1] = seq[2*q+1]
		b.setRow(r, seq, 2*a.Pairs)
	}
	return b
}
