package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

func TestResolveAndValidate(t *testing.T) {
	e := Default().Resolve()
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if e.Optim.WarmupSteps != 2 || e.Optim.Beta2 != 0.999 || e.Divergence.SpikeFactor != 4 {
		t.Errorf("defaults: %+v %+v", e.Optim, e.Divergence)
	}
	if want := []int{64, 128, 256, 512, 1024}; !reflect.DeepEqual(e.Eval.Lengths, want) {
		t.Errorf("eval lengths %v, want %v", e.Eval.Lengths, want)
	}
	for field, mutate := range map[string]func(*Experiment){
		"data.seq_len = 0":              func(e *Experiment) { e.Data.SeqLen = 0 },
		"data.batch = -1":               func(e *Experiment) { e.Data.Batch = -1 },
		"optim.lr = 0":                  func(e *Experiment) { e.Optim.LR = 0 },
		"optim.min_lr = 1":              func(e *Experiment) { e.Optim.MinLR = 1 },
		"optim.warmup_steps = 9999":     func(e *Experiment) { e.Optim.WarmupSteps = 9999 },
		"optim.beta2 = 1":               func(e *Experiment) { e.Optim.Beta2 = 1 },
		"divergence.spike_factor = 0.5": func(e *Experiment) { e.Divergence.SpikeFactor = 0.5 },
		"eval.lengths[1] = 0":           func(e *Experiment) { e.Eval.Lengths = []int{4, 0} },
		"data.tokenizer":                func(e *Experiment) { e.Data.Tokenizer = "bpe" },
		"Heads":                         func(e *Experiment) { e.Model.Heads = 3 },
		`"kerple_loog"`:                 func(e *Experiment) { e.Model.PosEnc.Kind = "kerple_loog" },
	} {
		bad := e
		bad.Eval.Lengths = append([]int(nil), e.Eval.Lengths...)
		mutate(&bad)
		err := bad.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v", field, err)
		}
	}
}

func TestLoadJSONAndYAML(t *testing.T) {
	dir := t.TempDir()
	e := Default().Resolve()
	e.Model.AttentionParams = params.Given{"m": 16.0, "toeplitz": "block"}
	e.Model.Attention = "kernelized_rpe"
	if err := e.Save(filepath.Join(dir, "e.json")); err != nil {
		t.Fatal(err)
	}
	back, err := Load(filepath.Join(dir, "e.json"))
	if err != nil || !reflect.DeepEqual(back, e) {
		t.Fatalf("JSON round trip: %v\n%+v\n%+v", err, back, e)
	}
	yml := "name: y\nmodel: {width: 32, heads: 2, layers: 1, posenc: {kind: alibi}}\ndata: {corpus: prose, seq_len: 16, batch: 2}\noptim: {steps: 10, lr: 0.001}\neval: {lengths: [16, 32]}\n"
	os.WriteFile(filepath.Join(dir, "e.yaml"), []byte(yml), 0o644)
	y, err := Load(filepath.Join(dir, "e.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if y.Name != "y" || y.Model.PosEnc.Kind != "alibi" || y.Data.SeqLen != 16 || !reflect.DeepEqual(y.Eval.Lengths, []int{16, 32}) {
		t.Errorf("YAML: %+v", y)
	}
	if err := y.Resolve().Validate(); err != nil {
		t.Error(err)
	}
	// Choices are names in files; the old numeric codes are refused with the valid names.
	for code, want := range map[string]string{"block": "", "2": "auto, dense, block, fft"} {
		f := filepath.Join(dir, "c.yaml")
		os.WriteFile(f, []byte(strings.Replace(yml, "posenc: {kind: alibi}", "posenc: {kind: alibi}, attention: kernelized_rpe, attention_params: {m: 8, toeplitz: "+code+"}", 1)), 0o644)
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Resolve().Validate()
		if want == "" && err != nil {
			t.Errorf("toeplitz: %s: %v", code, err)
		}
		if want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "toeplitz")) {
			t.Errorf("toeplitz: %s: %v, want an error naming toeplitz and %s", code, err, want)
		}
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: y\nsteps: 3\n"), 0o644)
	if _, err := Load(filepath.Join(dir, "bad.yaml")); err == nil || !strings.Contains(err.Error(), "steps") {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "e.toml")); err == nil {
		t.Error("missing file accepted")
	}
}

// Files that used to load, or fail without naming the field: each is now an error that names
// the field (or says what is wrong with the file).
func TestLoadRefusesAndNames(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range []struct {
		ext, body string
		want      []string
	}{
		{".yaml", "name: y\noptim: {lr: .nan}\n", []string{"optim.lr", "NaN", "finite"}},
		{".yaml", "name: y\nmodel: {mlp_ratio: .inf}\n", []string{"model.mlp_ratio", "finite"}},
		{".yaml", "name: y\nmodel: {attention_params: {m: .nan}}\n", []string{"model.attention_params.m", "finite"}},
		{".json", `{"model": {"WIDTH": 32}}`, []string{"model.WIDTH", "not a field", "width"}},
		{".json", `{"Name": "x", "name": "y"}`, []string{"Name", "not a field"}},
		{".json", `{"name": "x"} {"name": "y"}`, []string{"more data follows"}},
		{".yaml", "name: x\n---\nname: y\n", []string{"second YAML document"}},
		{".json", "  \n", []string{"empty"}},
		{".yaml", "", []string{"empty"}},
		{".json", `{"eval": {"lengths": [64, {"x": 1}]}}`, []string{"eval.lengths"}},
	} {
		p := filepath.Join(dir, fmt.Sprintf("c%d%s", i, tc.ext))
		os.WriteFile(p, []byte(tc.body), 0o644)
		_, err := Load(p)
		if err == nil {
			t.Errorf("%q loaded, want an error", tc.body)
			continue
		}
		for _, w := range append(tc.want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q lacks %q", tc.body, err, w)
			}
		}
	}
	e := Default().Resolve()
	e.Data.Format = "text"
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), "data.format") {
		t.Errorf("format on an embedded corpus: %v", err)
	}
}

// Sizes that cannot fit are refused by Validate, before any graph is built, with the estimate,
// the budget and the fields to change.
func TestMemoryBudget(t *testing.T) {
	for _, f := range []func(*Experiment){
		func(e *Experiment) { e.Model.Width = 1_000_000_000 },
		func(e *Experiment) { e.Data.Batch = 1_000_000_000 },
		func(e *Experiment) { e.Model.Layers = 1_000_000 },
		func(e *Experiment) { e.Data.SeqLen = 100_000 },
		func(e *Experiment) { e.MemoryBudgetMB = 1 },
	} {
		e := Default()
		f(&e)
		err := e.Resolve().Validate()
		if err == nil || !strings.Contains(err.Error(), "memory_budget_mb") || !strings.Contains(err.Error(), "MB") {
			t.Errorf("%+v: %v, want the memory budget error", e, err)
		}
	}
	e := Default()
	e.MemoryBudgetMB = -3
	if err := e.Resolve().Validate(); err == nil || !strings.Contains(err.Error(), "memory_budget_mb = -3") {
		t.Errorf("negative budget: %v", err)
	}
	if err := Default().Resolve().Validate(); err != nil {
		t.Errorf("the default experiment: %v", err)
	}
}

// The clipping default: Default (the command line) clips at KERPLE's 1.0; a zero clip_norm in
// an experiment stays 0, no clipping.
func TestClipDefault(t *testing.T) {
	if c := Default().Resolve().Optim.ClipNorm; c != 1 {
		t.Errorf("Default clips at %v, want 1", c)
	}
	if c := (Experiment{}).Resolve().Optim.ClipNorm; c != 0 {
		t.Errorf("a zero experiment clips at %v, want 0 (none)", c)
	}
}
