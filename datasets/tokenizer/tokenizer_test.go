package tokenizer

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestByteRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 1000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		ids, err := Byte{}.Encode(nil, b)
		if err != nil || len(ids) != n {
			t.Fatalf("n=%d: %d ids, err %v", n, len(ids), err)
		}
		s, err := Byte{}.Decode(ids)
		if err != nil || s != string(b) {
			t.Fatalf("n=%d: round trip differs (err %v)", n, err)
		}
	}
	if _, err := (Byte{}).Decode([]int32{3, 256}); err == nil {
		t.Fatal("Decode accepted id 256")
	}
}

// GPT-2's published ids (tiktoken's r50k_base tests; the same ranks as gpt2-vocab.json).
func TestGPT2KnownIDs(t *testing.T) {
	tok, err := New("gpt2")
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string][]int32{
		"hello world":  {31373, 995},
		"hello  world": {31373, 220, 995},
		"We know what we are, but know not what we may be.": {1135, 760, 644, 356, 389, 11, 475, 760, 407, 644, 356, 743, 307, 13},
	} {
		got, err := tok.Encode(nil, []byte(text))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, %v; want %v", text, got, err, want)
		}
		back, err := tok.Decode(got)
		if err != nil || back != text {
			t.Errorf("Decode(Encode(%q)) = %q, %v", text, back, err)
		}
	}
	if tok.EOD() != 50256 || tok.VocabSize() != 50257 {
		t.Errorf("EOD %d vocab %d", tok.EOD(), tok.VocabSize())
	}
}

func TestNewUnknown(t *testing.T) {
	if _, err := New("sentencepiece"); err == nil {
		t.Fatal("New accepted an unknown tokenizer")
	}
}
