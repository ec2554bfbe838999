// Package sweep expands a sweep file (a base experiment and axes over its fields) into a
// deterministic list of runs, each with a run directory named from its settings, and runs them:
// here, several processes at once (Local), as a Slurm job array (Slurm) or as a Kubernetes
// Indexed Job (Manifest). Every executor is resumable: a finished run is skipped, an interrupted
// one resumes from its checkpoint (run.Train).
package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attnbench/attnbench/workbench/experiment"
)

// MaxRuns bounds the runs of one sweep file.
const MaxRuns = 100000

// File is a sweep file (JSON or YAML).
type File struct {
	// Name names the sweep; its runs go under Root/Name.
	Name string `json:"name"`
	// Title is the title of the sweep's figures; default "Diverged runs, sweep <Name>".
	Title string `json:"title,omitempty"`
	// Base is the experiment every run starts from (any subset of its fields; the rest are
	// experiment.Default's), or BaseFile names an experiment file relative to the sweep file.
	Base     map[string]any `json:"base,omitempty"`
	BaseFile string         `json:"base_file,omitempty"`
	// Variants, when given, are the outermost axis: named sets of fields changed together
	// ("model.attention": "performer", "model.attention_params": {...}).
	Variants []Variant `json:"variants,omitempty"`
	// Axes are the grid: every combination of their values, the last axis varying fastest.
	Axes []Axis `json:"axes,omitempty"`
	// Root is the directory of the sweeps; default runs/sweeps.
	Root string `json:"root,omitempty"`

	dir  string // the sweep file's directory
	runs []Run  // the expansion, once Load has validated it
}

// Variant is a named set of field values.
type Variant struct {
	Name string         `json:"name"`
	Set  map[string]any `json:"set"`
	// Label names the variant in figures; default Name.
	Label string `json:"label,omitempty"`
}

// Axis is one field (a dotted path of JSON names, e.g. "optim.lr", "model.attention_params.m",
// "seed") and its values.
type Axis struct {
	Field  string `json:"field"`
	Values []any  `json:"values"`
	// With names fields set together with this one, one value per value of the axis (e.g.
	// data.batch with data.seq_len, to keep the tokens per step). They do not enter run names.
	With map[string][]any `json:"with,omitempty"`
}

// Run is one run of a sweep.
type Run struct {
	Index      int                   `json:"index"`
	Name       string                `json:"name"` // from its settings: the run directory's name
	Dir        string                `json:"dir"`
	Settings   []Setting             `json:"settings"`
	Experiment experiment.Experiment `json:"-"`
}

// Setting is one field's value in a run.
type Setting struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// Load reads and validates a sweep file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	f, err := Parse(b, filepath.Ext(path), filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes and validates a sweep file's contents; ext (".json", ".yaml" or ".yml") names
// the format and dir is the directory base_file is relative to.
func Parse(b []byte, ext, dir string) (*File, error) {
	v, err := decodeDoc(b, ext)
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(v)
	var f File
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	f.dir = dir
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate expands the sweep again (after its fields were changed) and keeps the expansion; the
// error names the run and the field.
func (f *File) Validate() error {
	f.runs = nil
	runs, err := f.Runs()
	if err != nil {
		return err
	}
	f.runs = runs
	return nil
}

func decodeDoc(b []byte, ext string) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("the file is empty")
	}
	var v any
	switch strings.ToLower(ext) {
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		var extra any
		if err := dec.Decode(&extra); err != io.EOF {
			return nil, errors.New("a second YAML document follows, want one")
		}
	case ".json":
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("more data follows the JSON object, want one object")
		}
	default:
		return nil, fmt.Errorf("extension %q is not .json, .yaml or .yml", ext)
	}
	return normalize(v), nil
}

// normalize turns YAML's map[string]any / []any and json.Number into the plain forms that
// encoding/json writes back unchanged.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// RootDir is where the sweep's runs go: Root/Name.
func (f *File) RootDir() string {
	root := f.Root
	if root == "" {
		root = filepath.Join("runs", "sweeps")
	}
	return filepath.Join(root, f.Name)
}

// Runs expands the sweep: variants outermost, then the axes in order, the last fastest. Every run
// is decoded and validated as an experiment file is; an error names the run and the field.
// A loaded file returns the expansion Load made.
func (f *File) Runs() ([]Run, error) {
	if f.runs != nil {
		return f.runs, nil
	}
	switch {
	case !nameRE.MatchString(f.Name):
		return nil, fmt.Errorf("name %q is invalid, want letters, digits, '.', '_' or '-' (it names a directory)", f.Name)
	case f.Base != nil && f.BaseFile != "":
		return nil, errors.New("base and base_file are both set, want one")
	}
	base, err := f.baseDoc()
	if err != nil {
		return nil, err
	}
	for i, a := range f.Axes {
		if a.Field == "" || len(a.Values) == 0 {
			return nil, fmt.Errorf("axes[%d]: want a field and at least one value, got field %q with %d values", i, a.Field, len(a.Values))
		}
		for j := range i {
			if f.Axes[j].Field == a.Field {
				return nil, fmt.Errorf("axes[%d]: field %q is already axes[%d]", i, a.Field, j)
			}
		}
		for _, w := range sortedKeys(a.With) {
			switch {
			case w == a.Field || w == "" || w == "variant":
				return nil, fmt.Errorf("axes[%d]: with field %q is invalid, want another experiment field", i, w)
			case len(a.With[w]) != len(a.Values):
				return nil, fmt.Errorf("axes[%d]: with field %q has %d values, want one per value of %s (%d)", i, w, len(a.With[w]), a.Field, len(a.Values))
			}
		}
	}
	variants := f.Variants
	if len(variants) == 0 {
		variants = []Variant{{}}
	}
	total := len(variants)
	for _, a := range f.Axes {
		if total *= len(a.Values); total > MaxRuns {
			break
		}
	}
	if total > MaxRuns {
		return nil, fmt.Errorf("the variants and axes expand to more than %d runs (MaxRuns); split the sweep", MaxRuns)
	}
	for i, v := range f.Variants {
		if !nameRE.MatchString(v.Name) || slices.ContainsFunc(f.Variants[:i], func(o Variant) bool { return o.Name == v.Name }) {
			return nil, fmt.Errorf("variants[%d]: name %q is invalid or repeated, want a unique name of letters, digits, '.', '_' or '-'", i, v.Name)
		}
	}
	var runs []Run
	seen := map[string]int{}
	for _, v := range variants {
		idx := make([]int, len(f.Axes))
		for {
			doc := deepCopy(base).(map[string]any)
			var settings []Setting
			var parts []string
			if v.Name != "" {
				parts = append(parts, v.Name)
				for _, field := range sortedKeys(v.Set) {
					if err := setPath(doc, field, deepCopy(v.Set[field])); err != nil {
						return nil, fmt.Errorf("variant %s: %w", v.Name, err)
					}
				}
				settings = append(settings, Setting{"variant", v.Name})
			}
			for ai, a := range f.Axes {
				val := a.Values[idx[ai]]
				if err := setPath(doc, a.Field, deepCopy(val)); err != nil {
					return nil, fmt.Errorf("axes[%d]: %w", ai, err)
				}
				for _, w := range sortedKeys(a.With) {
					if err := setPath(doc, w, deepCopy(a.With[w][idx[ai]])); err != nil {
						return nil, fmt.Errorf("axes[%d]: with: %w", ai, err)
					}
				}
				settings = append(settings, Setting{a.Field, val})
				parts = append(parts, shortName(a.Field)+"="+valueName(val))
			}
			name := strings.Join(parts, "_")
			if name == "" {
				name = "run"
			}
			if j, dup := seen[name]; dup {
				return nil, fmt.Errorf("runs %d and %d are both named %q: two values of an axis print the same", j, len(runs), name)
			}
			seen[name] = len(runs)
			e, err := experiment.Decode(doc)
			if err == nil {
				e.Name = f.Name + "-" + name
				err = e.Resolve().Validate()
			}
			if err != nil {
				return nil, fmt.Errorf("run %d (%s): %w", len(runs), name, err)
			}
			runs = append(runs, Run{Index: len(runs), Name: name, Dir: filepath.Join(f.RootDir(), name), Settings: settings, Experiment: e})
			// Next combination, last axis fastest.
			k := len(idx) - 1
			for k >= 0 {
				idx[k]++
				if idx[k] < len(f.Axes[k].Values) {
					break
				}
				idx[k] = 0
				k--
			}
			if k < 0 {
				break
			}
		}
	}
	return runs, nil
}

// Set sets a field of the base experiment (a dotted path, as in Axis.Field); call Validate after.
func (f *File) Set(field string, v any) error {
	if f.BaseFile != "" {
		return fmt.Errorf("sweep %s: Set %s: the base is the file %s", f.Name, field, f.BaseFile)
	}
	if f.Base == nil {
		f.Base = map[string]any{}
	}
	return setPath(f.Base, field, v)
}

// Axis returns the axis over field, nil if there is none.
func (f *File) Axis(field string) *Axis {
	for i := range f.Axes {
		if f.Axes[i].Field == field {
			return &f.Axes[i]
		}
	}
	return nil
}

// baseDoc is the base experiment as a document: experiment.Default with Base (or BaseFile)
// laid over it field by field.
func (f *File) baseDoc() (map[string]any, error) {
	var def map[string]any
	b, _ := json.Marshal(experiment.Default())
	json.Unmarshal(b, &def)
	over := f.Base
	if f.BaseFile != "" {
		p := f.BaseFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(f.dir, p)
		}
		e, err := experiment.Load(p)
		if err != nil {
			return nil, fmt.Errorf("base_file: %w", err)
		}
		b, _ := json.Marshal(e)
		if err := json.Unmarshal(b, &over); err != nil {
			return nil, err
		}
		return over, nil
	}
	merge(def, over)
	return def, nil
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok && k != "attention_params" && k != "params" {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = deepCopy(v)
	}
}

// setPath sets a dotted path of JSON names in doc, creating maps along it.
func setPath(doc map[string]any, path string, v any) error {
	keys := strings.Split(path, ".")
	m := doc
	for i, k := range keys {
		if k == "" {
			return fmt.Errorf("field %q has an empty part", path)
		}
		if i == len(keys)-1 {
			m[k] = v
			return nil
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			if m[k] != nil {
				return fmt.Errorf("field %q: %s is a value, not an object", path, strings.Join(keys[:i+1], "."))
			}
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// shortName is the last part of a field path ("optim.lr" -> "lr").
func shortName(field string) string {
	return field[strings.LastIndex(field, ".")+1:]
}

var unsafeRE = regexp.MustCompile(`[^A-Za-z0-9.+-]+`)

// valueName prints a value for a directory name: numbers in their shortest form, strings with
// unsafe characters replaced, objects as compact JSON of safe characters.
func valueName(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case string:
		return strings.Trim(unsafeRE.ReplaceAllString(x, "-"), "-")
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return strings.Trim(unsafeRE.ReplaceAllString(string(b), "-"), "-")
}
