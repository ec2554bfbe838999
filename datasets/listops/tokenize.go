package listops

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
)

// Tokenization selects how a Source string becomes ids.
type Tokenization int

const (
	// LRATokens is LRA's input pipeline: tfds's Tokenizer keeps alphanumeric runs only, so the
	// tokens are MIN, MAX, MED, SM and the digits; brackets and parentheses are dropped (the
	// expression's structure is then not fully recoverable from the input).
	LRATokens Tokenization = iota
	// BracketTokens keeps the operators with their "[" and the closing "]" and drops the
	// parentheses, so every expression can be parsed back.
	BracketTokens
)

// Pad is the padding id of both tokenizations; LRA pads batches with 0.
const Pad = 0

var vocabs = [...][]string{
	LRATokens:     {"<pad>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "MAX", "MED", "MIN", "SM", "<oov>"},
	BracketTokens: {"<pad>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "[MAX", "[MED", "[MIN", "[SM", "]"},
}

// Vocab returns the tokens of a tokenization, indexed by id: 0 is padding, as in LRA's
// TokenTextEncoder; LRA's last id is its out-of-vocabulary bucket.
func (t Tokenization) Vocab() []string { return vocabs[t] }

// Encode tokenizes a Source string.
func (t Tokenization) Encode(src string) ([]int32, error) {
	ids := map[string]int32{}
	for i, s := range vocabs[t] {
		ids[s] = int32(i)
	}
	var out []int32
	for _, f := range strings.Fields(src) {
		if f == "(" || f == ")" {
			continue
		}
		if t == LRATokens {
			f = strings.Trim(f, "[]")
			if f == "" {
				continue
			}
		}
		id, ok := ids[f]
		if !ok {
			return nil, fmt.Errorf("listops: token %q is not in the vocabulary", f)
		}
		out = append(out, id)
	}
	return out, nil
}

// Dataset batches examples for classification: inputs [B, MaxLen] int32, padded with Pad and
// truncated to MaxLen as LRA does; labels [B] int32 (the value 0..9).
type Dataset struct {
	name    string
	ids     [][]int32
	targets []int32
	size    int
	maxLen  int
	shuffle bool
	seed    uint64
	epochs  int
}

// NewDataset tokenizes examples. With shuffle, each epoch visits the examples in a new order
// drawn from seed; epochs <= 0 repeats forever (for training loops that count steps).
func NewDataset(name string, ex []Example, tok Tokenization, size, maxLen int, shuffle bool, seed uint64, epochs int) (*Dataset, error) {
	if len(ex) == 0 {
		return nil, fmt.Errorf("listops: dataset %s has no examples", name)
	}
	if size < 1 || maxLen < 1 {
		return nil, fmt.Errorf("listops: batch size %d and max length %d must be at least 1", size, maxLen)
	}
	d := &Dataset{name: name, size: size, maxLen: maxLen, shuffle: shuffle, seed: seed, epochs: epochs}
	for _, e := range ex {
		ids, err := tok.Encode(e.Source)
		if err != nil {
			return nil, err
		}
		if len(ids) > maxLen {
			ids = ids[:maxLen]
		}
		d.ids = append(d.ids, ids)
		d.targets = append(d.targets, int32(e.Target))
	}
	return d, nil
}

// Name names the dataset in errors.
func (d *Dataset) Name() string { return d.name }

// Batches yields inputs [rows*MaxLen] and targets [rows]; the last batch of an epoch may be smaller.
func (d *Dataset) Batches() iter.Seq2[[]int32, []int32] {
	return func(yield func([]int32, []int32) bool) {
		per := d.PerEpoch()
		for k := 0; d.epochs <= 0 || k < d.epochs*per; k++ {
			if !yield(d.At(k)) {
				return
			}
		}
	}
}

// PerEpoch is the number of batches of one pass over the examples.
func (d *Dataset) PerEpoch() int { return (len(d.ids) + d.size - 1) / d.size }

// Examples is the number of examples.
func (d *Dataset) Examples() int { return len(d.ids) }

// At returns batch k of the endless sequence of epochs: a function of the seed and k alone, so
// a resumed training run sees the batches it would have seen.
func (d *Dataset) At(k int) (inputs, targets []int32) {
	per := d.PerEpoch()
	epoch, first := k/per, (k%per)*d.size
	order := make([]int, len(d.ids))
	for i := range order {
		order[i] = i
	}
	if d.shuffle {
		rng := rand.New(rand.NewPCG(d.seed, uint64(epoch)))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	rows := order[first:min(first+d.size, len(order))]
	inputs = make([]int32, len(rows)*d.maxLen)
	targets = make([]int32, len(rows))
	for r, i := range rows {
		copy(inputs[r*d.maxLen:], d.ids[i])
		targets[r] = d.targets[i]
	}
	return inputs, targets
}
