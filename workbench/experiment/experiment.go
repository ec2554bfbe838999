// Package experiment describes a training experiment as one Go struct that is also a JSON or YAML
// file: model, data, optimizer, schedule, seed, divergence detection and evaluation lengths.
package experiment

import (
	"github.com/attnbench/attnbench/internal/atomicfile"

	"github.com/attnbench/attnbench/internal/memprobe"

	"github.com/attnbench/attnbench/datasets/builtin"

	"errors"
	"io"
	"maps"
	"reflect"
	"slices"

	"github.com/attnbench/attnbench/datasets/listops"
	"github.com/attnbench/attnbench/datasets/synthetic"

	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
)

// Experiment is one training run's full description. Zero fields take the defaults of Resolve.
type Experiment struct {
	Name  string             `json:"name"`
	Model transformer.Config `json:"model"` // Vocab is set from the tokenizer
	Data  Data               `json:"data"`
	Optim Optim              `json:"optim"`
	Seed  uint64             `json:"seed"`
	// Divergence marks a run diverged at a NaN or Inf loss, or at a loss above SpikeFactor times
	// the median of the previous SpikeWindow losses.
	Divergence Divergence `json:"divergence"`
	Eval       Eval       `json:"eval"`
	// CheckpointEvery steps a checkpoint is written (and at the end); LogEvery steps a metrics line.
	CheckpointEvery int `json:"checkpoint_every"`
	LogEvery        int `json:"log_every"`
	// MemoryBudgetMB refuses, before any graph is built, a model whose training step is
	// estimated above it, and skips evaluation lengths above it; 0 is 3/4 of this machine's
	// memory.
	MemoryBudgetMB float64 `json:"memory_budget_mb,omitempty"`
}

// BudgetBytes is the memory budget in bytes.
func (e Experiment) BudgetBytes() float64 {
	if e.MemoryBudgetMB > 0 {
		return e.MemoryBudgetMB * (1 << 20)
	}
	return 0.75 * memprobe.Physical()
}

// Tasks: what a model learns.
const (
	TaskLM      = "lm"      // next-token prediction on Data.Corpus (the default)
	TaskListOps = "listops" // LRA ListOps: an encoder classifier of generated expressions (Data.ListOps)
	TaskRecall  = "recall"  // associative recall: predict the value of a queried key (Data.Recall)
)

// Data selects the task, the corpus and the training windows.
type Data struct {
	Task      string `json:"task,omitempty"` // lm (default), listops or recall
	Corpus    string `json:"corpus"`         // embedded name (prose, code, latex) or a path, directory or glob
	Format    string `json:"format"`         // corpus format on disk; "" = auto
	Tokenizer string `json:"tokenizer"`      // byte or gpt2
	SeqLen    int    `json:"seq_len"`        // training length L (listops: truncation; recall: 2 pairs + 1)
	Batch     int    `json:"batch"`          // sequences per step

	ListOps *ListOps `json:"listops,omitempty"` // task listops
	Recall  *Recall  `json:"recall,omitempty"`  // task recall
}

// ListOps generates the expressions of the listops task (package listops; zero fields take LRA's
// values) and names their tokenization.
type ListOps struct {
	MaxDepth  int    `json:"max_depth"`
	MaxArgs   int    `json:"max_args"`
	MinLength int    `json:"min_length"`
	MaxLength int    `json:"max_length"`
	Train     int    `json:"train"`
	Valid     int    `json:"valid"`
	Test      int    `json:"test"`
	Seed      uint64 `json:"seed"`
	Tokens    string `json:"tokens"` // lra (LRA's, brackets dropped) or bracket (default)
}

// Generator is the listops.Config of the task.
func (l ListOps) Generator() listops.Config {
	return listops.Config{MaxDepth: l.MaxDepth, MaxArgs: l.MaxArgs, MinLength: l.MinLength, MaxLength: l.MaxLength,
		Train: l.Train, Valid: l.Valid, Test: l.Test, Seed: l.Seed}
}

// Tokenization is the listops.Tokenization named by Tokens.
func (l ListOps) Tokenization() (listops.Tokenization, error) {
	switch l.Tokens {
	case "", "bracket":
		return listops.BracketTokens, nil
	case "lra":
		return listops.LRATokens, nil
	}
	return 0, fmt.Errorf("data.listops.tokens = %q is invalid, want bracket or lra", l.Tokens)
}

// Recall is the associative-recall task of package synthetic: Pairs key-value pairs from Keys
// keys and Values values, then a query key; accuracy is measured at EvalPairs pairs (default
// Pairs; more pairs are longer sequences).
type Recall struct {
	Pairs     int   `json:"pairs"`
	Keys      int   `json:"keys"`
	Values    int   `json:"values"`
	EvalPairs []int `json:"eval_pairs,omitempty"`
}

// Optim is AdamW with linear warmup then cosine decay, and global-norm gradient clipping.
type Optim struct {
	Steps       int     `json:"steps"`
	LR          float64 `json:"lr"`
	MinLR       float64 `json:"min_lr"`
	WarmupSteps int     `json:"warmup_steps"`
	WeightDecay float64 `json:"weight_decay"`
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Eps         float64 `json:"eps"`
	ClipNorm    float64 `json:"clip_norm"` // 0 = no clipping (the norm is still logged)
}

// Divergence configures divergence detection.
type Divergence struct {
	SpikeFactor float64 `json:"spike_factor"` // default 4; negative disables the spike rule
	SpikeWindow int     `json:"spike_window"` // default 50
}

// Eval lists the evaluation lengths (KERPLE: L, 2L, ..., 16L) and the number of sequences.
type Eval struct {
	Lengths   []int `json:"lengths"`
	Sequences int   `json:"sequences"` // per length, non-overlapping from the test split; 0: by tokens
	// Tokens is, when Sequences is 0, about how many tokens to evaluate at each length (default
	// 16384, a standard error of the loss near 2%), or the whole test split if it is shorter.
	Tokens int `json:"tokens,omitempty"`
	Batch  int `json:"batch"` // sequences per evaluation batch; default 1
	// Windowed adds an evaluation with a band mask of width L_train at every length.
	Windowed bool `json:"windowed"`
}

// TokensOrDefault is Tokens, or 16384 when 0.
func (ev Eval) TokensOrDefault() int {
	if ev.Tokens > 0 {
		return ev.Tokens
	}
	return 1 << 14
}

// Default is a small byte-level LM on the embedded code corpus that trains in about a minute on
// two cores, with KERPLE's gradient clipping at 1.0 (the command line's defaults).
func Default() Experiment {
	return Experiment{
		Name:  "quick",
		Model: transformer.Config{Width: 64, Heads: 4, Layers: 2, Attention: "softmax", PosEnc: posenc.Config{Kind: "kerple_log"}},
		Data:  Data{Corpus: "code", Tokenizer: "byte", SeqLen: 64, Batch: 16},
		Optim: Optim{Steps: 200, LR: 3e-3, ClipNorm: 1},
		Seed:  1,
	}
}

// Resolve fills zero fields with defaults: KERPLE's optimizer settings (betas 0.9/0.999, eps
// 1e-8, 1% warmup, cosine to 0) with AdamW weight decay 0.01, and evaluation at L, 2L, 4L, 8L,
// 16L. optim.clip_norm 0 stays 0, no clipping (KERPLE clips at 1.0, as Default does): a zero
// cannot mean both "none" and "the default".
func (e Experiment) Resolve() Experiment {
	if e.Name == "" {
		e.Name = "experiment"
	}
	if e.Data.Task == "" {
		e.Data.Task = TaskLM
	}
	switch {
	case e.Data.Task == TaskListOps && e.Data.ListOps != nil:
		l := *e.Data.ListOps
		if l.Tokens == "" {
			l.Tokens = "bracket"
		}
		e.Data.ListOps = &l
		if e.Data.SeqLen == 0 {
			e.Data.SeqLen = l.Generator().WithDefaults().MaxLength
		}
		if e.Model.Classes == 0 {
			e.Model.Classes = 10
		}
	case e.Data.Task == TaskRecall && e.Data.Recall != nil:
		r := *e.Data.Recall
		if len(r.EvalPairs) == 0 {
			r.EvalPairs = []int{r.Pairs}
		}
		e.Data.Recall = &r
		if e.Data.SeqLen == 0 {
			e.Data.SeqLen = 2*r.Pairs + 1
		}
	}
	if e.Data.Tokenizer == "" {
		e.Data.Tokenizer = "byte"
	}
	if e.Model.Attention == "" {
		e.Model.Attention = "softmax"
	}
	if e.Model.PosEnc.Kind == "" {
		e.Model.PosEnc.Kind = "none"
	}
	o := &e.Optim
	if o.WarmupSteps == 0 {
		o.WarmupSteps = max(1, o.Steps/100)
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	if o.Eps == 0 {
		o.Eps = 1e-8
	}
	if o.WeightDecay == 0 {
		o.WeightDecay = 0.01
	}
	if e.Divergence.SpikeFactor == 0 {
		e.Divergence.SpikeFactor = 4
	}
	if e.Divergence.SpikeWindow == 0 {
		e.Divergence.SpikeWindow = 50
	}
	if len(e.Eval.Lengths) == 0 && e.Data.SeqLen > 0 && e.Data.Task == TaskLM {
		for f := 1; f <= 16; f *= 2 {
			e.Eval.Lengths = append(e.Eval.Lengths, f*e.Data.SeqLen)
		}
	}
	if e.Eval.Batch == 0 {
		e.Eval.Batch = 1
	}
	if e.CheckpointEvery == 0 {
		e.CheckpointEvery = max(1, e.Optim.Steps/4)
	}
	if e.LogEvery == 0 {
		e.LogEvery = max(1, e.Optim.Steps/50)
	}
	return e
}

// Validate checks a resolved experiment; every error names the field, its value and the valid
// range. The model is checked with a placeholder vocabulary (the tokenizer's).
func (e Experiment) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("experiment %s: %s = %v is invalid, want %s", e.Name, field, v, want)
	}
	m, err := e.ModelConfig()
	if err != nil {
		return fmt.Errorf("experiment %s: %w", e.Name, err)
	}
	o := e.Optim
	switch {
	case e.Data.Task == TaskLM && e.Data.Corpus == "":
		return bad("data.corpus", `""`, "an embedded corpus (prose, code, latex) or a path")
	case e.Data.Format != "" && slices.Contains(builtin.Names(), strings.TrimPrefix(e.Data.Corpus, "builtin:")):
		return bad("data.format", e.Data.Format, fmt.Sprintf(`"" for the embedded corpus %s (format applies to corpora on disk)`, e.Data.Corpus))
	case e.Data.Task == TaskListOps && e.Model.Classes != 10:
		return bad("model.classes", e.Model.Classes, "10 (the values of a ListOps expression) for task listops")
	case e.Data.Task != TaskListOps && e.Model.Classes != 0:
		return bad("model.classes", e.Model.Classes, "0 (a causal model) for task "+e.Data.Task)
	case e.Data.Task == TaskRecall && e.Data.SeqLen != 2*e.Data.Recall.Pairs+1:
		return bad("data.seq_len", e.Data.SeqLen, fmt.Sprintf("%d (2 pairs + 1) for task recall", 2*e.Data.Recall.Pairs+1))
	case e.Data.SeqLen < 1:
		return bad("data.seq_len", e.Data.SeqLen, ">= 1")
	case e.Data.Batch < 1:
		return bad("data.batch", e.Data.Batch, ">= 1")
	case o.Steps < 1:
		return bad("optim.steps", o.Steps, ">= 1")
	case !(o.LR > 0 && o.LR <= 1):
		return bad("optim.lr", o.LR, "in (0, 1]")
	case !(o.MinLR >= 0 && o.MinLR <= o.LR):
		return bad("optim.min_lr", o.MinLR, fmt.Sprintf("in [0, lr = %g]", o.LR))
	case o.WarmupSteps < 0 || o.WarmupSteps > o.Steps:
		return bad("optim.warmup_steps", o.WarmupSteps, fmt.Sprintf("in [0, steps = %d]", o.Steps))
	case !(o.WeightDecay >= 0 && o.WeightDecay < 1):
		return bad("optim.weight_decay", o.WeightDecay, "in [0, 1)")
	case !(o.Beta1 > 0 && o.Beta1 < 1):
		return bad("optim.beta1", o.Beta1, "in (0, 1)")
	case !(o.Beta2 > 0 && o.Beta2 < 1):
		return bad("optim.beta2", o.Beta2, "in (0, 1)")
	case !(o.Eps > 0 && o.Eps < 1):
		return bad("optim.eps", o.Eps, "in (0, 1)")
	case !(o.ClipNorm >= 0) || math.IsInf(o.ClipNorm, 0):
		return bad("optim.clip_norm", o.ClipNorm, "0 (none) or > 0")
	case math.IsNaN(e.Divergence.SpikeFactor) || (e.Divergence.SpikeFactor > 0 && e.Divergence.SpikeFactor <= 1):
		return bad("divergence.spike_factor", e.Divergence.SpikeFactor, "> 1, or negative to disable")
	case e.Divergence.SpikeWindow < 1:
		return bad("divergence.spike_window", e.Divergence.SpikeWindow, ">= 1")
	case e.Eval.Sequences < 0:
		return bad("eval.sequences", e.Eval.Sequences, "0 (by eval.tokens) or >= 1")
	case e.Eval.Tokens < 0:
		return bad("eval.tokens", e.Eval.Tokens, "0 (16384) or >= 1")
	case e.Eval.Batch < 1:
		return bad("eval.batch", e.Eval.Batch, ">= 1")
	case e.CheckpointEvery < 1:
		return bad("checkpoint_every", e.CheckpointEvery, ">= 1")
	case e.LogEvery < 1:
		return bad("log_every", e.LogEvery, ">= 1")
	}
	for i, l := range e.Eval.Lengths {
		if l < 1 {
			return bad(fmt.Sprintf("eval.lengths[%d]", i), l, ">= 1")
		}
	}
	if r := e.Data.Recall; e.Data.Task == TaskRecall {
		for i, p := range r.EvalPairs {
			if _, err := synthetic.NewRecall(p, r.Keys, r.Values); err != nil {
				return bad(fmt.Sprintf("data.recall.eval_pairs[%d]", i), p, fmt.Sprintf("in [1, keys = %d]", r.Keys))
			}
		}
	}
	if !(e.MemoryBudgetMB >= 0) || math.IsInf(e.MemoryBudgetMB, 0) {
		return bad("memory_budget_mb", e.MemoryBudgetMB, "0 (3/4 of this machine's memory) or > 0")
	}
	mod, err := transformer.New(m)
	if err != nil {
		return fmt.Errorf("experiment %s: model: %w", e.Name, err)
	}
	if need, budget := mod.StepBytes(e.Data.Batch, e.Data.SeqLen, true), e.BudgetBytes(); need > budget {
		return fmt.Errorf("experiment %s: a training step needs about %.0f MB (%.3g parameters, batch %d x %d tokens), above the memory budget "+
			"of %.0f MB (memory_budget_mb; default 3/4 of this machine's memory); reduce model.width, model.layers, data.batch or data.seq_len, "+
			"or raise memory_budget_mb", e.Name, need/(1<<20), m.Parameters(), e.Data.Batch, e.Data.SeqLen, budget/(1<<20))
	}
	if err := mod.ValidateSeqLen(e.Data.SeqLen); err != nil {
		return fmt.Errorf("experiment %s: data.seq_len: %w", e.Name, err)
	}
	return nil
}

// ModelConfig is the model with the task's vocabulary filled in.
func (e Experiment) ModelConfig() (transformer.Config, error) {
	m := e.Model
	v, err := e.Vocab()
	m.Vocab = v
	return m, err
}

// Vocab is the vocabulary size of the task: the tokenizer's for lm, the tokens of listops, keys
// plus values for recall. It checks the task's own settings.
func (e Experiment) Vocab() (int, error) {
	switch e.Data.Task {
	case TaskLM, "":
		tok, err := tokenizer.New(e.Data.Tokenizer)
		if err != nil {
			return 0, fmt.Errorf("data.tokenizer: %w", err)
		}
		return tok.VocabSize(), nil
	case TaskListOps:
		if e.Data.ListOps == nil {
			return 0, fmt.Errorf("data.listops is missing, want the expression settings for task listops")
		}
		if err := e.Data.ListOps.Generator().Validate(); err != nil {
			return 0, fmt.Errorf("data.listops: %w", err)
		}
		t, err := e.Data.ListOps.Tokenization()
		if err != nil {
			return 0, err
		}
		return len(t.Vocab()), nil
	case TaskRecall:
		r := e.Data.Recall
		if r == nil {
			return 0, fmt.Errorf("data.recall is missing, want pairs, keys and values for task recall")
		}
		task, err := synthetic.NewRecall(r.Pairs, r.Keys, r.Values)
		if err != nil {
			return 0, fmt.Errorf("data.recall: %w", err)
		}
		return task.Vocab(), nil
	}
	return 0, fmt.Errorf("data.task = %q is invalid, want lm, listops or recall", e.Data.Task)
}

// Load reads an experiment from a .json, .yaml or .yml file. Keys must match the field names
// exactly (case included), unknown keys, a second document, non-finite numbers and an empty
// file are errors naming the file and the field.
func Load(path string) (Experiment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Experiment{}, fmt.Errorf("experiment: %w", err)
	}
	fail := func(err error) (Experiment, error) { return Experiment{}, fmt.Errorf("experiment: %s: %w", path, err) }
	if len(bytes.TrimSpace(b)) == 0 {
		return fail(errors.New("the file is empty, want an experiment (see workbench train -help)"))
	}
	var v any
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&v); err != nil {
			return fail(err)
		}
		var extra any
		if err := dec.Decode(&extra); err != io.EOF {
			return fail(errors.New("a second YAML document follows the experiment, want one"))
		}
	case ".json":
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return fail(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return fail(errors.New("more data follows the experiment's JSON object, want one object"))
		}
	default:
		return Experiment{}, fmt.Errorf("experiment: %s: extension %q is not .json, .yaml or .yml", path, filepath.Ext(path))
	}
	e, err := Decode(v)
	if err != nil {
		return fail(err)
	}
	return e, nil
}

// Decode fills an experiment from a decoded JSON or YAML document (maps, lists, strings,
// numbers), with the checks of Load: every key a field's JSON name, every number finite.
func Decode(v any) (Experiment, error) {
	if err := checkKeys(v, reflect.TypeOf(Experiment{}), ""); err != nil {
		return Experiment{}, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return Experiment{}, err
	}
	var e Experiment
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Experiment{}, err
	}
	return e, nil
}

// checkKeys walks a decoded document against the type it fills: every key must be a field's
// JSON name exactly, and every number finite. Free-form maps (parameters) are checked for
// numbers only.
func checkKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	field := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s = %v is invalid, want a finite number", path, x)
		}
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			names := map[string]reflect.Type{}
			for i := range t.NumField() {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" {
					name = f.Name
				}
				if name != "-" && f.IsExported() {
					names[name] = f.Type
				}
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				ft, ok := names[k]
				if !ok {
					return fmt.Errorf("%s is not a field, valid fields here: %s", field(k), strings.Join(slices.Sorted(maps.Keys(names)), ", "))
				}
				if err := checkKeys(x[k], ft, field(k)); err != nil {
					return err
				}
			}
		case reflect.Map:
			for k, e := range x {
				if err := checkKeys(e, t.Elem(), field(k)); err != nil {
					return err
				}
			}
		}
	case []any:
		elem := t
		if t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		for i, e := range x {
			if err := checkKeys(e, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Save writes e as indented JSON, atomically.
func (e Experiment) Save(path string) error { return atomicfile.WriteJSON(path, e) }
