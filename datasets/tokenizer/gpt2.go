package tokenizer

import (
	"fmt"
	"sync"

	tiktoken "github.com/tiktoken-go/tokenizer"
)

// GPT2 is byte-level BPE with GPT-2's ranks (r50k_base): 50257 ids, <|endoftext|> = 50256.
type GPT2 struct {
	codec tiktoken.Codec
}

var (
	gpt2Once  sync.Once
	gpt2Codec tiktoken.Codec
	gpt2Err   error
)

// NewGPT2 returns the GPT-2 tokenizer; its ranks are embedded in the module.
func NewGPT2() (GPT2, error) {
	gpt2Once.Do(func() { gpt2Codec, gpt2Err = tiktoken.Get(tiktoken.R50kBase) })
	if gpt2Err != nil {
		return GPT2{}, fmt.Errorf("tokenizer gpt2: %w", gpt2Err)
	}
	return GPT2{codec: gpt2Codec}, nil
}

func (GPT2) Name() string   { return "gpt2" }
func (GPT2) VocabSize() int { return 50257 }
func (GPT2) EOD() int32     { return 50256 }

// Encode treats <|endoftext|> in text as ordinary characters; documents are separated by EOD.
func (t GPT2) Encode(dst []int32, text []byte) ([]int32, error) {
	ids, _, err := t.codec.Encode(string(text))
	if err != nil {
		return dst, fmt.Errorf("tokenizer gpt2: %w", err)
	}
	dst = growInt32(dst, len(ids))
	for _, id := range ids {
		dst = append(dst, int32(id))
	}
	return dst, nil
}

func (t GPT2) Decode(ids []int32) (string, error) {
	u := make([]uint, len(ids))
	for i, id := range ids {
		if id < 0 || int(id) >= t.VocabSize() {
			return "", fmt.Errorf("tokenizer gpt2: id %d at position %d is outside [0, %d)", id, i, t.VocabSize())
		}
		u[i] = uint(id)
	}
	s, err := t.codec.Decode(u)
	if err != nil {
		return "", fmt.Errorf("tokenizer gpt2: %w", err)
	}
	return s, nil
}
