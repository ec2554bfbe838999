package nbrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Notebook is an nbformat 4 notebook, kept as decoded JSON so that every field survives.
type Notebook struct {
	raw map[string]any
}

// ReadNotebook reads an nbformat 4 notebook.
func ReadNotebook(path string) (*Notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("nbrun: %s is not a notebook: %w", path, err)
	}
	if v, _ := raw["nbformat"].(float64); v != 4 {
		return nil, fmt.Errorf("nbrun: %s has nbformat %v, want 4", path, raw["nbformat"])
	}
	if _, ok := raw["cells"].([]any); !ok {
		return nil, fmt.Errorf("nbrun: %s has no cells", path)
	}
	return &Notebook{raw: raw}, nil
}

// Kernel is the kernel name in the notebook's metadata.
func (nb *Notebook) Kernel() string {
	md, _ := nb.raw["metadata"].(map[string]any)
	ks, _ := md["kernelspec"].(map[string]any)
	name, _ := ks["name"].(string)
	return name
}

// Cells are the notebook's cells.
func (nb *Notebook) Cells() []map[string]any {
	var out []map[string]any
	for _, c := range nb.raw["cells"].([]any) {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Source is a cell's source as one string.
func Source(cell map[string]any) string {
	switch s := cell["source"].(type) {
	case string:
		return s
	case []any:
		var b strings.Builder
		for _, l := range s {
			if t, ok := l.(string); ok {
				b.WriteString(t)
			}
		}
		return b.String()
	}
	return ""
}

// lines splits text into nbformat's list of lines, each keeping its newline.
func lines(text string) []any {
	var out []any
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:i+1])
		text = text[i+1:]
	}
	return out
}

func tags(cell map[string]any) []string {
	md, _ := cell["metadata"].(map[string]any)
	var out []string
	if ts, ok := md["tags"].([]any); ok {
		for _, t := range ts {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// InjectParameters inserts, after the cell tagged "parameters", a code cell tagged
// "injected-parameters" that sets each parameter as a kernel environment variable
// (`%env NAME=value`, which GoNB runs before the cells that follow); a previous injected cell is
// replaced. A notebook without a parameters cell is an error.
func (nb *Notebook) InjectParameters(params []string, path string) error {
	if len(params) == 0 {
		return nil
	}
	var src strings.Builder
	src.WriteString("// Parameters injected by workbench notebook run.\n")
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\n=") || strings.Contains(v, "\n") {
			return fmt.Errorf("nbrun: parameter %q is invalid, want NAME=value (an environment variable of the kernel)", p)
		}
		fmt.Fprintf(&src, "%%env %s=%s\n", k, v)
	}
	cells := nb.raw["cells"].([]any)
	cells = slices.DeleteFunc(cells, func(c any) bool {
		m, _ := c.(map[string]any)
		return slices.Contains(tags(m), "injected-parameters")
	})
	at := -1
	for i, c := range cells {
		if m, ok := c.(map[string]any); ok && slices.Contains(tags(m), "parameters") {
			at = i
			break
		}
	}
	if at < 0 {
		return fmt.Errorf("nbrun: %s has no cell tagged \"parameters\", so -p %s cannot be injected; tag the cell that sets the defaults", path, strings.Join(params, " -p "))
	}
	cell := map[string]any{"cell_type": "code", "id": "injected-parameters", "execution_count": nil,
		"metadata": map[string]any{"tags": []any{"injected-parameters"}}, "outputs": []any{}, "source": lines(strings.TrimSuffix(src.String(), "\n"))}
	nb.raw["cells"] = slices.Insert(cells, at+1, any(cell))
	return nil
}

// JSON is the notebook as nbformat writes it: one-space indent and a final newline.
func (nb *Notebook) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	enc.Encode(nb.raw)
	return b.Bytes()
}
