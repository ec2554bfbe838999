// Package tokens holds tokenized corpora: token sequences per split, tokenized in memory or once
// into a memory-mapped cache on disk keyed by the corpus content and the tokenizer.
package tokens

import (
	"fmt"

	"github.com/attnbench/attnbench/datasets/corpus"
)

// Seq is a read-only sequence of token ids.
type Seq interface {
	Len() int
	// Read copies the tokens starting at off into dst; off+len(dst) must not exceed Len().
	Read(dst []int32, off int)
}

// Slice is a Seq in memory.
type Slice []int32

func (s Slice) Len() int                  { return len(s) }
func (s Slice) Read(dst []int32, off int) { copy(dst, s[off:off+len(dst)]) }

type u16Seq []uint16

func (s u16Seq) Len() int { return len(s) }
func (s u16Seq) Read(dst []int32, off int) {
	for i, v := range s[off : off+len(dst)] {
		dst[i] = int32(v)
	}
}

// Splits is a tokenized corpus.
type Splits struct {
	// Source names the corpus in messages.
	Source string
	// Tokenizer is the tokenizer's name and Vocab its vocabulary size.
	Tokenizer string
	Vocab     int
	// Seqs holds the train, valid and test tokens, indexed by corpus.Split.
	Seqs [3]Seq
	// Docs counts the documents of each split.
	Docs [3]int

	close func() error
}

// Split returns the tokens of one split.
func (s *Splits) Split(sp corpus.Split) Seq { return s.Seqs[sp] }

// Close releases a memory-mapped cache; it is a no-op for tokens in memory.
func (s *Splits) Close() error {
	if s.close == nil {
		return nil
	}
	c := s.close
	s.close = nil
	return c()
}

// All copies a whole sequence into memory.
func All(s Seq) []int32 {
	out := make([]int32, s.Len())
	s.Read(out, 0)
	return out
}

// checkNonEmpty reports an empty corpus or split by name.
func (s *Splits) checkNonEmpty() error {
	if s.Seqs[0].Len()+s.Seqs[1].Len()+s.Seqs[2].Len() == 0 {
		return fmt.Errorf("tokens: corpus %s is empty", s.Source)
	}
	for _, sp := range corpus.Splits {
		if s.Seqs[sp].Len() == 0 {
			return fmt.Errorf("tokens: corpus %s has no %s tokens (documents by split, train/valid/test: %v); "+
				"every split needs text: add documents or change the split fractions", s.Source, sp, s.Docs)
		}
	}
	return nil
}
