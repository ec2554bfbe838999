// Package listops generates the ListOps task of the Long Range Arena (Tay et al. 2021), faithful
// to LRA's lra_benchmarks/data/listops.py: nested MAX, MIN, MED and SUM_MOD over digits, depth at
// most 10, 2 to 10 arguments per operator, 500 < length < 2000, 96000/2000/2000 examples.
package listops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Operators, as LRA writes them.
const (
	Min    = "[MIN"
	Max    = "[MAX"
	Med    = "[MED"
	SumMod = "[SM"
	End    = "]"
)

// Operators lists LRA's operators in its order (random.choice draws from this list).
var Operators = []string{Min, Max, Med, SumMod}

// valueP is LRA's VALUE_P: below max depth, a node is an operator with probability 0.25.
const valueP = 0.25

// Node is an operator with its arguments, or a digit when Op is "".
type Node struct {
	Op    string
	Args  []*Node
	Value int
}

// Eval computes the node: MIN, MAX, MED = int(median) (the mean of the two middle values,
// truncated, for an even count, as numpy), SM = sum mod 10.
func (n *Node) Eval() int {
	if n.Op == "" {
		return n.Value
	}
	v := make([]int, len(n.Args))
	for i, a := range n.Args {
		v[i] = a.Eval()
	}
	switch n.Op {
	case Min:
		return slices.Min(v)
	case Max:
		return slices.Max(v)
	case Med:
		slices.Sort(v)
		m := len(v) / 2
		if len(v)%2 == 1 {
			return v[m]
		}
		return (v[m-1] + v[m]) / 2
	case SumMod:
		s := 0
		for _, x := range v {
			s += x
		}
		return s % 10
	}
	panic("listops: unknown operator " + n.Op)
}

// Length counts tokens as LRA does: 1 per digit, 2 per operator (its name and "]").
func (n *Node) Length() int {
	if n.Op == "" {
		return 1
	}
	l := 2
	for _, a := range n.Args {
		l += a.Length()
	}
	return l
}

// String writes the tree as LRA's to_string: the operator and its arguments nested as pairs,
// ((op a1) a2) ... ) ], each pair in "( ... )".
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *Node) write(b *strings.Builder) {
	if n.Op == "" {
		b.WriteString(strconv.Itoa(n.Value))
		return
	}
	// t = (op, a1); t = (t, a_i) for the rest; t = (t, END).
	for range len(n.Args) + 1 {
		b.WriteString("( ")
	}
	b.WriteString(n.Op)
	for _, a := range n.Args {
		b.WriteString(" ")
		a.write(b)
		b.WriteString(" )")
	}
	b.WriteString(" " + End + " )")
}

// generate is LRA's generate_tree(depth, max_depth, max_args).
func generate(rng *rand.Rand, depth, maxDepth, maxArgs int) *Node {
	r := 1.0
	if depth < maxDepth {
		r = rng.Float64()
	}
	if r > valueP {
		return &Node{Value: rng.IntN(10)}
	}
	n := &Node{Args: make([]*Node, 2+rng.IntN(maxArgs-1))}
	for i := range n.Args {
		n.Args[i] = generate(rng, depth+1, maxDepth, maxArgs)
	}
	n.Op = Operators[rng.IntN(len(Operators))]
	return n
}

// Config sets the generator; the zero value of a field takes LRA's default.
type Config struct {
	MaxDepth  int // 10
	MaxArgs   int // 10
	MinLength int // 500 (exclusive)
	MaxLength int // 2000 (exclusive)
	Train     int // 96000
	Valid     int // 2000
	Test      int // 2000
	Seed      uint64
}

// LRA is the configuration of the LRA ListOps task.
var LRA = Config{MaxDepth: 10, MaxArgs: 10, MinLength: 500, MaxLength: 2000, Train: 96000, Valid: 2000, Test: 2000}

// WithDefaults fills zero fields with LRA's values.
func (c Config) WithDefaults() Config {
	or := func(v, d int) int {
		if v != 0 {
			return v
		}
		return d
	}
	return Config{MaxDepth: or(c.MaxDepth, LRA.MaxDepth), MaxArgs: or(c.MaxArgs, LRA.MaxArgs),
		MinLength: or(c.MinLength, LRA.MinLength), MaxLength: or(c.MaxLength, LRA.MaxLength),
		Train: or(c.Train, LRA.Train), Valid: or(c.Valid, LRA.Valid), Test: or(c.Test, LRA.Test), Seed: c.Seed}
}

// Validate checks the ranges; a configuration whose length window cannot be reached is refused.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.MaxDepth < 1 || c.MaxDepth > 64:
		return fmt.Errorf("listops: max depth %d is outside [1, 64]", c.MaxDepth)
	case c.MaxArgs < 2 || c.MaxArgs > 100:
		return fmt.Errorf("listops: max args %d is outside [2, 100]", c.MaxArgs)
	case c.MinLength < 0 || c.MaxLength <= c.MinLength+1:
		return fmt.Errorf("listops: length window (%d, %d) is empty; lengths must satisfy min < length < max", c.MinLength, c.MaxLength)
	case c.MinLength >= 3*c.MaxArgs*pow(c.MaxArgs, c.MaxDepth-1):
		return fmt.Errorf("listops: min length %d cannot be reached with depth %d and %d args", c.MinLength, c.MaxDepth, c.MaxArgs)
	case c.Train < 0 || c.Valid < 0 || c.Test < 0:
		return fmt.Errorf("listops: example counts %d/%d/%d must not be negative", c.Train, c.Valid, c.Test)
	}
	return nil
}

func pow(a, b int) int {
	r := 1
	for range b {
		if r > 1<<40 {
			return r
		}
		r *= a
	}
	return r
}

// Example is one expression with its value.
type Example struct {
	Tree   *Node
	Source string // LRA's Source column
	Target int    // LRA's Target column
}

// Generate draws distinct trees with MinLength < length < MaxLength, as LRA's main: the first
// Train unique trees are the training set, the next Valid the validation set, the next Test the
// test set. The same seed gives the same sets.
func Generate(c Config) (train, valid, test []Example, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, nil, err
	}
	c = c.WithDefaults()
	rng := rand.New(rand.NewPCG(c.Seed, 0x4c697374))
	total := c.Train + c.Valid + c.Test
	seen := make(map[string]bool, total)
	all := make([]Example, 0, total)
	for tries := 0; len(all) < total; tries++ {
		if tries > 1000*total+1_000_000 {
			return nil, nil, nil, fmt.Errorf("listops: only %d of %d examples after %d trees; widen the length window (%d, %d)",
				len(all), total, tries, c.MinLength, c.MaxLength)
		}
		t := generate(rng, 1, c.MaxDepth, c.MaxArgs)
		if l := t.Length(); l <= c.MinLength || l >= c.MaxLength {
			continue
		}
		s := t.String()
		if seen[s] {
			continue
		}
		seen[s] = true
		all = append(all, Example{Tree: t, Source: s, Target: t.Eval()})
	}
	return all[:c.Train], all[c.Train : c.Train+c.Valid], all[c.Train+c.Valid:], nil
}
