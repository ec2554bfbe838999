// Package corpus reads text corpora as streams of documents with a train/valid/test split by
// document: the embedded corpora, plain text files, directories and globs, enwik8 and text8,
// WikiText raw files and JSON Lines (plain, gzip or zstd), the format of OpenWebText2 and the Pile.
package corpus

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Split is one of the three parts of a corpus.
type Split int

const (
	Train Split = iota
	Valid
	Test
)

// Splits lists the splits in order.
var Splits = []Split{Train, Valid, Test}

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Valid:
		return "valid"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// ParseSplit accepts "train", "valid" (or "validation", "val") and "test".
func ParseSplit(s string) (Split, error) {
	switch strings.ToLower(s) {
	case "train":
		return Train, nil
	case "valid", "validation", "val":
		return Valid, nil
	case "test":
		return Test, nil
	}
	return 0, fmt.Errorf("corpus: split %q is unknown, valid splits: train, valid, test", s)
}

// Document is one document, or one piece of a long one.
type Document struct {
	Name  string
	Split Split
	Text  []byte
	// Continued marks a piece that continues the previous document: no separator goes between them.
	Continued bool
}

// Source streams the documents of a corpus in a fixed order.
type Source interface {
	// Name describes the corpus for messages.
	Name() string
	// Key identifies the content and the split: equal keys mean equal documents.
	Key() (string, error)
	// Documents calls fn for each document; it stops at the first error.
	Documents(fn func(Document) error) error
}

// Fingerprinter is implemented by sources on disk: a cheap identity from file names, sizes,
// modification times and settings, so that the content hash (Key), which reads every byte, need
// not be recomputed each time an unchanged corpus is opened.
type Fingerprinter interface {
	Fingerprint() (string, error)
}

// Fractions sets the share of documents in the valid and test splits; the rest is train.
type Fractions struct {
	Valid, Test float64
}

// DefaultFractions puts 5% of the documents in valid and 5% in test.
var DefaultFractions = Fractions{Valid: 0.05, Test: 0.05}

// Validate checks that both fractions are in [0, 1) and sum below 1.
func (f Fractions) Validate() error {
	if f.Valid < 0 || f.Valid >= 1 {
		return fmt.Errorf("corpus: valid fraction %g is outside [0, 1)", f.Valid)
	}
	if f.Test < 0 || f.Test >= 1 {
		return fmt.Errorf("corpus: test fraction %g is outside [0, 1)", f.Test)
	}
	if f.Valid+f.Test >= 1 {
		return fmt.Errorf("corpus: valid + test fractions %g leave no training documents; their sum must be below 1", f.Valid+f.Test)
	}
	return nil
}

// Assign picks the split of a document from a hash of its identity (name and ordinal), so the
// split is fixed by the content and does not depend on how many documents follow.
func (f Fractions) Assign(id string) Split {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64() // FNV's high bits mix poorly; finish with SplitMix64's finalizer
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	u := float64(x>>11) / (1 << 53)
	switch {
	case u < f.Test:
		return Test
	case u < f.Test+f.Valid:
		return Valid
	}
	return Train
}

func (f Fractions) key() string { return fmt.Sprintf("valid=%g,test=%g", f.Valid, f.Test) }
