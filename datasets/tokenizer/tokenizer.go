// Package tokenizer turns text into token ids: byte-level (vocabulary 256, the default) and GPT-2
// BPE (the r50k_base ranks of GPT-2, used by KERPLE's GPT-NeoX setup).
package tokenizer

import (
	"fmt"
	"strings"
)

// Tokenizer encodes text into ids in [0, VocabSize()) and back.
type Tokenizer interface {
	// Name identifies the tokenizer; it is part of the token cache key.
	Name() string
	// VocabSize is the number of distinct ids.
	VocabSize() int
	// EOD is the end-of-document id placed between documents, or -1 when there is none.
	EOD() int32
	// Encode appends the ids of text to dst.
	Encode(dst []int32, text []byte) ([]int32, error)
	// Decode returns the text of ids.
	Decode(ids []int32) (string, error)
}

// Names lists the tokenizers New accepts.
func Names() []string { return []string{"byte", "gpt2"} }

// New returns the tokenizer called name: "byte" or "gpt2" (alias "r50k_base").
func New(name string) (Tokenizer, error) {
	switch name {
	case "byte", "":
		return Byte{}, nil
	case "gpt2", "r50k_base":
		return NewGPT2()
	}
	return nil, fmt.Errorf("tokenizer: %q is unknown, valid tokenizers: %s", name, strings.Join(Names(), ", "))
}

// Byte is the byte-level tokenizer: each byte is its own id.
type Byte struct{}

func (Byte) Name() string   { return "byte" }
func (Byte) VocabSize() int { return 256 }
func (Byte) EOD() int32     { return -1 }

func (Byte) Encode(dst []int32, text []byte) ([]int32, error) {
	dst = growInt32(dst, len(text))
	for _, c := range text {
		dst = append(dst, int32(c))
	}
	return dst, nil
}

func (Byte) Decode(ids []int32) (string, error) {
	b := make([]byte, len(ids))
	for i, id := range ids {
		if id < 0 || id > 255 {
			return "", fmt.Errorf("tokenizer byte: id %d at position %d is outside [0, 255]", id, i)
		}
		b[i] = byte(id)
	}
	return string(b), nil
}

func growInt32(s []int32, n int) []int32 {
	if cap(s)-len(s) < n {
		t := make([]int32, len(s), len(s)+n)
		copy(t, s)
		return t
	}
	return s
}
