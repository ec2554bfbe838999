package listops

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// evalSource evaluates a Source string with a stack, independently of the tree: "(" and ")" are
// ignored, "[OP" opens a frame, a digit joins the open frame, "]" closes it (numpy's median:
// the mean of the middle pair, then int()).
func evalSource(t *testing.T, src string) (value, length int) {
	t.Helper()
	type frame struct {
		op   string
		args []float64
	}
	var stack []*frame
	result := -1
	push := func(v float64) {
		if len(stack) == 0 {
			result = int(v)
			return
		}
		top := stack[len(stack)-1]
		top.args = append(top.args, v)
	}
	for _, tok := range strings.Fields(src) {
		switch {
		case tok == "(" || tok == ")":
			continue
		case strings.HasPrefix(tok, "["):
			stack = append(stack, &frame{op: tok})
		case tok == "]":
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			a := slices.Clone(f.args)
			sort.Float64s(a)
			var v float64
			switch f.op {
			case "[MIN":
				v = a[0]
			case "[MAX":
				v = a[len(a)-1]
			case "[MED":
				if m := len(a) / 2; len(a)%2 == 1 {
					v = a[m]
				} else {
					v = float64(int((a[m-1] + a[m]) / 2))
				}
			case "[SM":
				s := 0.0
				for _, x := range a {
					s += x
				}
				v = float64(int(s) % 10)
			default:
				t.Fatalf("unknown operator %q", f.op)
			}
			push(v)
		default:
			d, err := strconv.Atoi(tok)
			if err != nil || d < 0 || d > 9 {
				t.Fatalf("token %q is not a digit", tok)
			}
			push(float64(d))
		}
		length++
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed operators in %q", src)
	}
	return result, length
}

func TestGenerateAgainstIndependentEvaluator(t *testing.T) {
	cfg := Config{MinLength: 20, MaxLength: 120, Train: 400, Valid: 60, Test: 60, Seed: 3}
	train, valid, test, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 400 || len(valid) != 60 || len(test) != 60 {
		t.Fatalf("sizes %d/%d/%d", len(train), len(valid), len(test))
	}
	seen := map[string]string{}
	targets := map[int]int{}
	ops := map[string]int{}
	for name, split := range map[string][]Example{"train": train, "valid": valid, "test": test} {
		for _, e := range split {
			if prev, dup := seen[e.Source]; dup {
				t.Fatalf("expression in %s and %s", prev, name)
			}
			seen[e.Source] = name
			v, l := evalSource(t, e.Source)
			if v != e.Target {
				t.Fatalf("target %d, independent evaluation %d for %s", e.Target, v, e.Source)
			}
			if l != e.Tree.Length() || l <= 20 || l >= 120 {
				t.Fatalf("length %d (tree %d) outside (20, 120)", l, e.Tree.Length())
			}
			if strings.Count(e.Source, "(") != strings.Count(e.Source, ")") {
				t.Fatalf("unbalanced parentheses: %s", e.Source)
			}
			targets[e.Target]++
			for _, op := range Operators {
				ops[op] += strings.Count(e.Source, op+" ")
			}
			// Bracket tokens parse back to the same value.
			ids, err := BracketTokens.Encode(e.Source)
			if err != nil {
				t.Fatal(err)
			}
			var toks []string
			for _, id := range ids {
				toks = append(toks, BracketTokens.Vocab()[id])
			}
			if v2, _ := evalSource(t, strings.Join(toks, " ")); v2 != e.Target {
				t.Fatalf("bracket tokens evaluate to %d, want %d", v2, e.Target)
			}
			// LRA tokens drop "]": one id per digit and per operator.
			lra, _ := LRATokens.Encode(e.Source)
			if want := l - strings.Count(e.Source, "]"); len(lra) != want {
				t.Fatalf("LRA tokenization has %d ids, want %d", len(lra), want)
			}
		}
	}
	for v := range 10 {
		if targets[v] == 0 {
			t.Errorf("target %d never occurs in 520 examples", v)
		}
	}
	total := ops[Min] + ops[Max] + ops[Med] + ops[SumMod]
	for _, op := range Operators {
		if f := float64(ops[op]) / float64(total); f < 0.2 || f > 0.3 {
			t.Errorf("operator %s has share %.3f, want about 0.25", op, f)
		}
	}
}

func TestGenerateDeterministicAndLRADefaults(t *testing.T) {
	cfg := Config{Train: 20, Valid: 3, Test: 3, Seed: 11}
	a, _, _, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _, _ := Generate(cfg)
	cfg.Seed = 12
	c, _, _, _ := Generate(cfg)
	for i := range a {
		if a[i].Source != b[i].Source {
			t.Fatal("same seed gave different examples")
		}
		if l := a[i].Tree.Length(); l <= 500 || l >= 2000 {
			t.Fatalf("LRA default length %d outside (500, 2000)", l)
		}
		if d := strings.Count(a[i].Source, "["); d > 0 && maxDepth(a[i].Tree) > 10 {
			t.Fatalf("depth %d above 10", maxDepth(a[i].Tree))
		}
	}
	if a[0].Source == c[0].Source {
		t.Error("different seeds gave the same first example")
	}
}

func maxDepth(n *Node) int {
	d := 0
	for _, a := range n.Args {
		d = max(d, maxDepth(a))
	}
	return d + 1
}

func TestMedianOfEvenCount(t *testing.T) {
	n := &Node{Op: Med, Args: []*Node{{Value: 1}, {Value: 4}, {Value: 9}, {Value: 2}}}
	if n.Eval() != 3 { // numpy: median = 3.0 -> 3
		t.Errorf("MED(1,4,9,2) = %d, want 3", n.Eval())
	}
	n = &Node{Op: Med, Args: []*Node{{Value: 1}, {Value: 2}}}
	if n.Eval() != 1 { // median 1.5 -> int 1
		t.Errorf("MED(1,2) = %d, want 1", n.Eval())
	}
	if s := (&Node{Op: Max, Args: []*Node{{Value: 2}, {Value: 9}}}).String(); s != "( ( ( [MAX 2 ) 9 ) ] )" {
		t.Errorf("String = %q, want LRA's to_string", s)
	}
}

func TestDataset(t *testing.T) {
	ex, _, _, err := Generate(Config{MinLength: 10, MaxLength: 60, Train: 25, Valid: 1, Test: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDataset("train", ex, LRATokens, 4, 30, true, 9, 2)
	if err != nil {
		t.Fatal(err)
	}
	var firstEpoch, secondEpoch []int32
	batches := 0
	for in, tg := range d.Batches() {
		if len(in) != len(tg)*30 {
			t.Fatalf("inputs %d for %d rows", len(in), len(tg))
		}
		if batches < 7 {
			firstEpoch = append(firstEpoch, tg...)
		} else {
			secondEpoch = append(secondEpoch, tg...)
		}
		batches++
	}
	if batches != 14 || len(firstEpoch) != 25 || len(secondEpoch) != 25 {
		t.Fatalf("%d batches, epochs of %d and %d rows", batches, len(firstEpoch), len(secondEpoch))
	}
	var want []int32
	for _, e := range ex {
		want = append(want, int32(e.Target))
	}
	slices.Sort(want)
	got := slices.Clone(firstEpoch)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Error("an epoch does not visit every example once")
	}
	// Padding and truncation.
	d, _ = NewDataset("eval", ex[:1], BracketTokens, 1, 200, false, 0, 1)
	for in := range d.Batches() {
		ids, _ := BracketTokens.Encode(ex[0].Source)
		if !slices.Equal(in[:len(ids)], ids) || slices.ContainsFunc(in[len(ids):], func(x int32) bool { return x != Pad }) {
			t.Error("row is not the ids followed by padding")
		}
	}
	d, _ = NewDataset("eval", ex[:1], BracketTokens, 1, 5, false, 0, 1)
	for in := range d.Batches() {
		if len(in) != 5 {
			t.Errorf("truncated row has %d ids", len(in))
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{MaxDepth: -1}, {MaxArgs: 1}, {MinLength: 100, MaxLength: 101}, {MaxDepth: 2, MaxArgs: 2, MinLength: 50, MaxLength: 100}, {Train: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := NewDataset("x", nil, LRATokens, 1, 1, false, 0, 1); err == nil {
		t.Error("empty dataset accepted")
	}
}
