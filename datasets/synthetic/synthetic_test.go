package synthetic

import (
	"slices"
	"testing"
)

func TestCopy(t *testing.T) {
	for _, k := range []int{1, 5, 64, 333} {
		c, err := NewCopy(k, 7)
		if err != nil {
			t.Fatal(err)
		}
		b := c.Batch(1, 0, 3)
		if b.Len != 2*k || len(b.Inputs) != 3*2*k {
			t.Fatalf("k=%d: len %d", k, b.Len)
		}
		for r := range 3 {
			in := b.Inputs[r*b.Len : (r+1)*b.Len]
			lab := b.Labels[r*b.Len : (r+1)*b.Len]
			w := b.Weights[r*b.Len : (r+1)*b.Len]
			if in[k] != 0 || slices.Contains(in[:k], 0) {
				t.Fatalf("k=%d: separator misplaced", k)
			}
			for i := range k {
				if lab[k+i] != in[i] || w[k+i] != 1 || w[i] != 0 {
					t.Fatalf("k=%d: position %d: label %d, want %d (weight %g)", k, k+i, lab[k+i], in[i], w[k+i])
				}
				if in[i] < 1 || in[i] > 7 {
					t.Fatalf("symbol %d outside [1, 7]", in[i])
				}
			}
			if !slices.Equal(lab[:b.Len-1], in[1:]) {
				t.Fatal("labels are not the inputs shifted by one")
			}
		}
		if !slices.Equal(c.Batch(1, 0, 3).Inputs, b.Inputs) || (k > 3 && slices.Equal(c.Batch(1, 1, 3).Inputs, b.Inputs)) {
			t.Error("batches are not a function of (seed, k)")
		}
	}
}

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
	if _, err := NewCopy(0, 5); err == nil {
		t.Error("k=0 accepted")
	}
	if _, err := NewCopy(3, 1); err == nil {
		t.Error("1 symbol accepted")
	}
	if _, err := NewRecall(5, 4, 10); err == nil {
		t.Error("fewer keys than pairs accepted")
	}
}
