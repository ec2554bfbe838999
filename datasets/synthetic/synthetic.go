// Package synthetic generates associative recall (Ba et al. 2016; the "induction head" task), an
// algorithmic sequence task of any length: next-token prediction batches with a weight per
// position that is 1 where the answer is scored and 0 elsewhere. Batch k depends only on the seed
// and k.
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
