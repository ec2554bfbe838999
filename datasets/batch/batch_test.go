package batch

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attnbench/attnbench/datasets/tokens"
)

func randomSeq(rng *rand.Rand, n int) tokens.Slice {
	s := make(tokens.Slice, n)
	for i := range s {
		s[i] = int32(rng.IntN(50000))
	}
	return s
}

func checkRows(t *testing.T, seq tokens.Slice, b *Batch) {
	t.Helper()
	for r := range b.Size {
		off := b.Offsets[r]
		if off < 0 || off+b.Len+1 > len(seq) {
			t.Fatalf("row %d: offset %d out of range for %d tokens", r, off, len(seq))
		}
		if !slices.Equal(b.Inputs[r*b.Len:(r+1)*b.Len], seq[off:off+b.Len]) ||
			!slices.Equal(b.Labels[r*b.Len:(r+1)*b.Len], seq[off+1:off+b.Len+1]) {
			t.Fatalf("row %d: inputs/labels are not the window at %d shifted by one", r, off)
		}
	}
}

func TestWindowsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct{ n, size, length int }{{2, 1, 1}, {100, 3, 7}, {5000, 8, 129}} {
		seq := randomSeq(rng, tc.n)
		w, err := NewWindows(seq, tc.size, tc.length, WindowOptions{Seed: 42, Limit: 30})
		if err != nil {
			t.Fatal(err)
		}
		w2, _ := NewWindows(seq, tc.size, tc.length, WindowOptions{Seed: 42, Start: 10, Limit: 5, Prefetch: 1})
		w3, _ := NewWindows(seq, tc.size, tc.length, WindowOptions{Seed: 43, Limit: 30})
		var first []*Batch
		count := 0
		for k, b := range w.Batches() {
			if k != count {
				t.Fatalf("batch index %d, want %d", k, count)
			}
			checkRows(t, seq, b)
			first = append(first, b)
			count++
		}
		if count != 30 {
			t.Fatalf("Limit 30 gave %d batches", count)
		}
		for k, b := range w2.Batches() {
			if !slices.Equal(b.Offsets, first[k].Offsets) || !slices.Equal(b.Inputs, first[k].Inputs) {
				t.Fatalf("resumed batch %d differs from the uninterrupted one", k)
			}
		}
		differ := false
		for k, b := range w3.Batches() {
			differ = differ || !slices.Equal(b.Offsets, first[k].Offsets)
		}
		if !differ && tc.n-tc.length > 1 {
			t.Errorf("n=%d: seeds 42 and 43 gave the same offsets", tc.n)
		}
	}
}

func TestWindowsCoverOffsets(t *testing.T) {
	seq := randomSeq(rand.New(rand.NewPCG(2, 2)), 20)
	w, _ := NewWindows(seq, 4, 5, WindowOptions{Seed: 7})
	hit := make([]int, 20)
	for k := range 500 {
		for _, off := range w.At(k).Offsets {
			hit[off]++
		}
	}
	// Offsets 0..14 are valid (14+5+1 = 20); each should be drawn about 2000/15 times.
	for off := range 15 {
		if hit[off] < 80 || hit[off] > 200 {
			t.Errorf("offset %d drawn %d times in 2000, want about 133", off, hit[off])
		}
	}
	if hit[15] != 0 {
		t.Errorf("offset 15 drawn: window runs past the end")
	}
}

func TestWindowsBatchesAndStop(t *testing.T) {
	seq := randomSeq(rand.New(rand.NewPCG(3, 3)), 1000)
	w, _ := NewWindows(seq, 2, 16, WindowOptions{Seed: 1, Name: "train"})
	before := runtime.NumGoroutine()
	n := 0
	for _, b := range w.Batches() {
		in, lab := b.Tensors()
		if got := in.Shape().Dimensions; !slices.Equal(got, []int{2, 16}) {
			t.Fatalf("inputs shape %v", got)
		}
		if got := lab.Shape().Dimensions; !slices.Equal(got, []int{2, 16, 1}) {
			t.Fatalf("labels shape %v", got)
		}
		if n++; n == 10 {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("prefetch goroutine still running after break (%d goroutines, %d before)", after, before)
	}
}

func TestSequences(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	seq := randomSeq(rng, 1001)
	for _, tc := range []struct{ length, n, size, want int }{
		{10, 0, 7, 100}, {10, 50, 7, 50}, {999, 3, 2, 1}, {1000, 0, 1, 1}, {1, 5, 5, 5}, {333, 10, 4, 3},
	} {
		s, err := NewSequences(seq, tc.length, tc.n, tc.size, "test")
		if err != nil {
			t.Fatal(err)
		}
		if s.Count() != tc.want {
			t.Errorf("length %d n %d: %d sequences, want %d", tc.length, tc.n, s.Count(), tc.want)
		}
		next := 0
		for b := range s.Batches() {
			if b.Size > tc.size {
				t.Fatalf("batch of %d rows, size %d", b.Size, tc.size)
			}
			checkRows(t, seq, b)
			for _, off := range b.Offsets {
				if off != next {
					t.Fatalf("sequence at %d, want %d (in order, non-overlapping)", off, next)
				}
				next += tc.length
			}
		}
		if next != tc.want*tc.length {
			t.Errorf("yielded %d tokens, want %d", next, tc.want*tc.length)
		}
	}
}

func TestErrors(t *testing.T) {
	short := randomSeq(rand.New(rand.NewPCG(5, 5)), 64)
	if _, err := NewWindows(short, 4, 64, WindowOptions{Name: "wiki test"}); err == nil || !strings.Contains(err.Error(), "wiki test") || !strings.Contains(err.Error(), "64 tokens") {
		t.Errorf("short corpus: %v", err)
	}
	if _, err := NewWindows(short, 0, 8, WindowOptions{}); err == nil || !strings.Contains(err.Error(), "batch size 0") {
		t.Errorf("batch 0: %v", err)
	}
	if _, err := NewSequences(short, 64, 1, 1, "code test"); err == nil || !strings.Contains(err.Error(), "code test") {
		t.Errorf("short eval: %v", err)
	}
	if _, err := NewSequences(short, 0, 1, 1, ""); err == nil || !strings.Contains(err.Error(), "length 0") {
		t.Errorf("length 0: %v", err)
	}
}
