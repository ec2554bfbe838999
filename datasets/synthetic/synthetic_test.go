package synthetic

import (
	"slices"
	"testing"
)

func TestRecall(t *testing.T) {
	for _, n := range []int{1, 4, 50} {
		a, err := NewRecall(n, n+3, 10)
		if err != nil {
			t.Fatal(err)
		}
		b := a.Batch(2, 5, 8)
		for r := range 8 {
			in := b.Inputs[r*b.Len : (r+1)*b.Len]
			lab := b.Labels[r*b.Len : (r+1)*b.Len]
			w := b.Weights[r*b.Len : (r+1)*b.Len]
			pairs := map[int32]int32{}
			for i := range n {
				if _, dup := pairs[in[2*i]]; dup || in[2*i] >= int32(a.Keys) {
					t.Fatalf("n=%d: key %d repeated or not a key", n, in[2*i])
				}
				pairs[in[2*i]] = in[2*i+1]
			}
			q := in[2*n]
			if v, ok := pairs[q]; !ok || lab[2*n] != v {
				t.Fatalf("n=%d: query %d, label %d, want %d", n, q, lab[2*n], v)
			}
			for i, x := range w {
				if (x == 1) != (i == 2*n) {
					t.Fatalf("weight %g at %d", x, i)
				}
			}
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewRecall(5, 4, 10); err == nil {
		t.Error("fewer keys than pairs accepted")
	}
}

func TestRecallDeterministic(t *testing.T) {
	a, _ := NewRecall(6, 9, 5)
	if !slices.Equal(a.Batch(1, 3, 4).Inputs, a.Batch(1, 3, 4).Inputs) || slices.Equal(a.Batch(1, 3, 4).Inputs, a.Batch(1, 4, 4).Inputs) {
		t.Error("batches are not a function of (seed, k)")
	}
}
