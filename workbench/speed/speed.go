// Package speed measures attention layers against sequence length on the current backend: time
// of the forward pass and of forward+backward (median and spread over repetitions after a
// warm-up) and peak memory, with time and memory budgets beyond which larger sizes are skipped
// and reported as skipped. Results are CSV and JSON that the plots read.
package speed

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	_ "github.com/attnbench/attnbench/gomlxattn/mechanisms" // every registered mechanism
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/memprobe"
	"github.com/attnbench/attnbench/workbench/results"
)

// Variant is one attention layer: a mechanism with its parameters and a positional encoding.
type Variant struct {
	Name      string        `json:"name"`
	Attention string        `json:"attention"`
	Params    params.Given  `json:"params,omitempty"`
	PosEnc    posenc.Config `json:"posenc"`
}

// Config of a measurement.
type Config struct {
	Variants []Variant
	Lengths  []int
	Batch    int  // default 1
	Heads    int  // default 8 (batch x heads = 8, as the benchmarks of the specs)
	HeadDim  int  // default 64
	Causal   bool // causal attention (the language-model setting)
	Warmup   int  // untimed calls after compiling; default 1
	Reps     int  // timed calls; default 3
	// TimeBudget skips the larger sizes of a variant once one call took longer; 0 = none.
	TimeBudget time.Duration
	// MemBudgetMB skips the larger sizes of a variant once its peak memory, extrapolated to the
	// next size with the growth exponent of its last two sizes (quadratic after the first size),
	// would exceed it; 0 = none.
	MemBudgetMB float64
	// Backward also measures forward+backward (gradients of q, k, v and the encoding).
	Backward bool
	Progress io.Writer
}

func (c *Config) defaults() error {
	if c.Batch == 0 {
		c.Batch = 1
	}
	if c.Heads == 0 {
		c.Heads = 8
	}
	if c.HeadDim == 0 {
		c.HeadDim = 64
	}
	if c.Warmup == 0 {
		c.Warmup = 1
	}
	if c.Reps == 0 {
		c.Reps = 3
	}
	switch {
	case len(c.Variants) == 0:
		return fmt.Errorf("speed: no variants")
	case len(c.Lengths) == 0:
		return fmt.Errorf("speed: no lengths")
	case c.Batch < 1 || c.Heads < 1 || c.HeadDim < 1:
		return fmt.Errorf("speed: batch %d, heads %d and head dim %d must be at least 1", c.Batch, c.Heads, c.HeadDim)
	case c.Warmup < 0 || c.Reps < 1:
		return fmt.Errorf("speed: warmup %d must be >= 0 and reps %d >= 1", c.Warmup, c.Reps)
	}
	for _, n := range c.Lengths {
		if n < 1 {
			return fmt.Errorf("speed: length %d must be at least 1", n)
		}
	}
	return nil
}

// NewLayer returns the attention layer of v exactly as a transformer.Model with c's heads, head
// dimension and causality builds it. Absolute encodings are refused: they act on the
// embeddings, not in the attention layer, so the harness would measure the mechanism alone.
func NewLayer(v Variant, c Config) (*attention.Layer, error) {
	l, err := attention.NewLayer(attention.LayerConfig{Attention: v.Attention, AttentionParams: v.Params, PosEnc: v.PosEnc,
		Heads: c.Heads, HeadDim: c.HeadDim, Causal: c.Causal})
	if err != nil {
		return nil, fmt.Errorf("speed: variant %s: %w", v.Name, err)
	}
	if l.Family == posenc.FamilyAbsolute {
		return nil, fmt.Errorf("speed: variant %s: posenc %s is absolute (added to the embeddings, outside the attention layer), want a relative, QK or no encoding", v.Name, l.Encoding.Name())
	}
	return l, nil
}

// Attend is the measured graph: the layer's bias under scope and its attention under
// scope/layer_0/attn, the scopes of a transformer.Model with encodings shared across layers.
func Attend(l *attention.Layer, scope *model.Scope, q, k, v *Node) *Node {
	bias := l.Bias(scope, q.Graph(), q.Shape().Dim(1), q.DType())
	out, _ := l.Attend(scope.In("layer_0").In("attn"), q, k, v, bias, attention.Options{})
	return out
}

// Step is the measured work. Forward: the layer's output. Forward + backward: a training graph
// (mechanisms with a hand-written backward use it) and the gradients of sum(out^2) with respect
// to q, k, v and the layer's trainable variables (the encoding's parameters), in that order, as
// a training step and the peer compute them.
func Step(l *attention.Layer, scope *model.Scope, q, k, v *Node, bwd bool) []*Node {
	g := q.Graph()
	if bwd {
		scope.Store().SetTraining(g, true)
	}
	out := Attend(l, scope, q, k, v)
	if !bwd {
		return []*Node{out}
	}
	wrt := []*Node{q, k, v}
	for _, vr := range Trainable(scope, g) {
		wrt = append(wrt, vr.NodeValue(g))
	}
	return Gradient(ReduceAllSum(Mul(out, out)), wrt...)
}

// Trainable returns the trainable variables under scope that g uses, in the order of Step's
// gradients after q, k and v.
func Trainable(scope *model.Scope, g *Graph) []*model.Variable {
	var vs []*model.Variable
	for vr := range scope.IterVariables() {
		if vr.Trainable && vr.InUseByGraph(g) {
			vs = append(vs, vr)
		}
	}
	return vs
}

// Run measures every variant at every length, smallest first.
func Run(b compute.Backend, c Config) ([]results.Speed, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	lengths := slices.Sorted(slices.Values(c.Lengths))
	layers := make([]*attention.Layer, len(c.Variants))
	for i, v := range c.Variants {
		l, err := NewLayer(v, c)
		if err != nil {
			return nil, err
		}
		layers[i] = l
	}
	modes := []string{"fwd"}
	if c.Backward {
		modes = append(modes, "fwdbwd")
	}
	var out []results.Speed
	for vi, v := range c.Variants {
		for _, mode := range modes {
			skip := ""
			lastPeak, lastN := 0.0, 0
			prevPeak, prevN := 0.0, 0
			for _, n := range lengths {
				r := results.Speed{Variant: v.Name, N: n, Mode: mode}
				if skip == "" && c.MemBudgetMB > 0 && lastN > 0 {
					exp := 2.0
					if prevN > 0 && prevPeak > 0 && lastPeak > prevPeak {
						exp = min(max(math.Log(lastPeak/prevPeak)/math.Log(float64(lastN)/float64(prevN)), 1), 2)
					}
					if est := lastPeak * math.Pow(float64(n)/float64(lastN), exp); est > c.MemBudgetMB {
						skip = fmt.Sprintf("estimated %.0f MB above the %.0f MB budget", est, c.MemBudgetMB)
					}
				}
				if skip != "" {
					r.Skipped = skip
					out = append(out, r)
					continue
				}
				if err := measure(b, layers[vi], c, n, mode == "fwdbwd", &r); err != nil {
					// Out of memory on a device, typically: this size and the larger ones are skipped.
					skip = fmt.Sprintf("failed at n=%d: %s", n, firstLine(err.Error()))
					r = results.Speed{Variant: v.Name, N: n, Mode: mode, Skipped: skip}
					if c.Progress != nil {
						fmt.Fprintf(c.Progress, "%-16s n=%-6d %-6s %s\n", v.Name, n, mode, skip)
					}
					out = append(out, r)
					continue
				}
				if c.Progress != nil {
					fmt.Fprintf(c.Progress, "%-16s n=%-6d %-6s %8.4f s  (%.4f..%.4f)  %8.1f MB\n", v.Name, n, mode, r.MedianS, r.MinS, r.MaxS, r.PeakMB)
				}
				out = append(out, r)
				prevPeak, prevN = lastPeak, lastN
				lastPeak, lastN = r.PeakMB, n
				if c.TimeBudget > 0 && time.Duration(r.MedianS*float64(time.Second)) > c.TimeBudget {
					skip = fmt.Sprintf("n=%d took %.2f s, above the %v budget", n, r.MedianS, c.TimeBudget)
				}
			}
		}
	}
	return out, nil
}

func measure(b compute.Backend, l *attention.Layer, c Config, n int, bwd bool, r *results.Speed) error {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	rnd := func() *tensors.Tensor {
		x := make([]float32, c.Batch*n*c.Heads*c.HeadDim)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(x, c.Batch, n, c.Heads, c.HeadDim)
	}
	q, k, v := rnd(), rnd(), rnd()
	store := model.NewStore()
	exec, err := model.NewExec(b, store, func(scope *model.Scope, q, k, v *Node) []*Node {
		res := Step(l, scope, q, k, v, bwd)
		sum := ReduceAllSum(res[0])
		for _, x := range res[1:] {
			sum = Add(sum, ReduceAllSum(x))
		}
		return append(res, sum)
	})
	if err != nil {
		return err
	}
	// The last output, a scalar of every result, is read on the host: the call has finished on
	// an asynchronous device when it returns.
	call := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		res, err := exec.Exec(q, k, v)
		if err == nil {
			_ = tensors.ToScalar[float32](res[len(res)-1])
		}
		for _, t := range res {
			t.MustFinalizeAll()
		}
		return err
	}
	for range c.Warmup + 1 { // the first call compiles
		if err := call(); err != nil {
			return err
		}
	}
	var callErr error
	peak := memprobe.Peak(func() { callErr = call() })
	if callErr != nil {
		return callErr
	}
	times := make([]float64, c.Reps)
	for i := range times {
		t0 := time.Now()
		if err := call(); err != nil {
			return err
		}
		times[i] = time.Since(t0).Seconds()
	}
	slices.Sort(times)
	r.MinS, r.MaxS = times[0], times[len(times)-1]
	r.MedianS = times[len(times)/2]
	if len(times)%2 == 0 {
		r.MedianS = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	r.PeakMB = float64(peak) / (1 << 20)
	return nil
}

// Defaults lists the variants of the speed figure: softmax, Performer, FFT-RPE with m = 16, 32,
// 64 (KERPLE-log bias; the quadratic weights where they cost less, kernelized.EvalAuto) and
// with m = 16, 64 held to the Toeplitz product (fftrpe-toeplitz-mM), SchoenbAt, the decayed recurrences with m = 64 for ALiBi (exact) and
// KERPLE-log (its exponential sum) and, for bidirectional attention, Skyformer; then every other
// registered mechanism at its defaults, with the KERPLE-log bias where it takes one.
func Defaults(causal bool) []Variant {
	kl := posenc.Config{Kind: "kerple_log"}
	vs := []Variant{
		{Name: "softmax", Attention: "softmax", PosEnc: kl},
		{Name: "performer-m64", Attention: "performer", Params: params.Given{"m": 64}},
		{Name: "fftrpe-m16", Attention: "kernelized_rpe", Params: params.Given{"m": 16}, PosEnc: kl},
		{Name: "fftrpe-m32", Attention: "kernelized_rpe", Params: params.Given{"m": 32}, PosEnc: kl},
		{Name: "fftrpe-m64", Attention: "kernelized_rpe", Params: params.Given{"m": 64}, PosEnc: kl},
		{Name: "fftrpe-toeplitz-m16", Attention: "kernelized_rpe", Params: params.Given{"m": 16, "evaluation": "toeplitz"}, PosEnc: kl},
		{Name: "fftrpe-toeplitz-m64", Attention: "kernelized_rpe", Params: params.Given{"m": 64, "evaluation": "toeplitz"}, PosEnc: kl},
		{Name: "schoenbat-d64", Attention: "schoenbat", Params: params.Given{"features": 64}},
		{Name: "decay-alibi-m64", Attention: "kernelized_rpe", Params: params.Given{"m": 64}, PosEnc: posenc.Config{Kind: "alibi"}},
		{Name: "decay-kerple-m64", Attention: "kernelized_rpe", Params: params.Given{"m": 64, "decay": "on"}, PosEnc: kl},
	}
	if !causal {
		vs = append(vs, Variant{Name: "skyformer-l64", Attention: "skyformer", Params: params.Given{"landmarks": 64}})
	}
	seen := map[string]bool{"skyformer": true}
	for _, v := range vs {
		seen[v.Attention] = true
	}
	c := Config{Heads: 1, HeadDim: 8, Causal: causal}
	for _, name := range attention.Names() {
		if seen[name] {
			continue
		}
		for _, pe := range []posenc.Config{kl, {Kind: "none"}} {
			v := Variant{Name: name, Attention: name, PosEnc: pe}
			if _, err := NewLayer(v, c); err == nil {
				vs = append(vs, v)
				break
			}
		}
	}
	return vs
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return line
}
