package nbview

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// Figure is one figure the page shows: the cell it belongs to (0-based, all cells counted), how
// it is drawn ("png" for an <img>, "svg" for an inline <svg>) and its size on the page in CSS
// pixels. Natural is the decoded image's width for an <img> (0 when it did not decode).
type Figure struct {
	Cell    int     `json:"cell"`
	Kind    string  `json:"kind"`
	Width   float64 `json:"width"`
	Height  float64 `json:"height"`
	Natural int     `json:"natural"`
}

// Visible reports whether the figure takes room on the page and, for an <img>, decoded.
func (f Figure) Visible() bool {
	return f.Width > 0 && f.Height > 0 && (f.Kind != "png" || f.Natural > 0)
}

// Report is what a person sees of one notebook.
type Report struct {
	Notebook string   `json:"notebook"`
	Trusted  bool     `json:"trusted"`  // Jupyter's trust state on the page
	Expected []int    `json:"expected"` // the cell of each figure output in the file (PNG or SVG data)
	Figures  []Figure `json:"figures"`  // the figures the page renders
	Height   int      `json:"height"`   // of the whole notebook on the page, in CSS pixels
}

// Err says what is wrong with the page: a figure output of the file not shown as an image of
// non-zero size, or a figure the file does not hold. Nil when every figure shows.
func (r Report) Err() error {
	shown := map[int]int{}
	var problems []string
	for _, f := range r.Figures {
		if f.Visible() {
			shown[f.Cell]++
		} else {
			problems = append(problems, fmt.Sprintf("cell %d: a %s figure of size %gx%g (decoded width %d)", f.Cell+1, f.Kind, f.Width, f.Height, f.Natural))
		}
	}
	want := map[int]int{}
	for _, c := range r.Expected {
		want[c]++
	}
	for c, n := range want {
		if shown[c] < n {
			problems = append(problems, fmt.Sprintf("cell %d: %d figure(s) in the file, %d shown", c+1, n, shown[c]))
		}
	}
	for c, n := range shown {
		if n > want[c] {
			problems = append(problems, fmt.Sprintf("cell %d: %d figure(s) shown, %d in the file", c+1, n, want[c]))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("nbview: %s (trusted %v): %s", r.Notebook, r.Trusted, strings.Join(problems, "; "))
}

// ExpectedFigures lists, for each figure output of the notebook file (display data or a result
// with PNG or SVG data), the index of its cell.
func ExpectedFigures(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nbview: %w", err)
	}
	var nb struct {
		Cells []struct {
			Type    string `json:"cell_type"`
			Outputs []struct {
				Type string         `json:"output_type"`
				Data map[string]any `json:"data"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("nbview: %s is not a notebook: %w", path, err)
	}
	var cells []int
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.Type != "display_data" && o.Type != "execute_result" {
				continue
			}
			_, png := o.Data["image/png"]
			_, svg := o.Data["image/svg+xml"]
			if png || svg {
				cells = append(cells, i)
			}
		}
	}
	return cells, nil
}

// pageScript reads the classic notebook page (Jupyter Notebook 6): null until the notebook has
// loaded, then its trust state and every rendered figure with its cell and size.
const pageScript = `
const nb = window.Jupyter && Jupyter.notebook;
if (!nb || !nb._fully_loaded) return null;
const cells = Array.from(document.querySelectorAll('#notebook-container > .cell'));
const figs = [];
for (const el of document.querySelectorAll('.output_subarea.output_png img, .output_subarea.output_jpeg img, .output_subarea.output_svg svg')) {
	if (el.parentElement.closest('svg')) continue;
	const r = el.getBoundingClientRect();
	const png = el.tagName.toLowerCase() === 'img';
	figs.push({cell: cells.indexOf(el.closest('.cell')), kind: png ? 'png' : 'svg', width: r.width, height: r.height,
		natural: png ? (el.complete ? el.naturalWidth : 0) : 0, pending: png && !el.complete});
}
const header = document.getElementById('header'), notebook = document.getElementById('notebook');
return {trusted: !!nb.trusted, figures: figs, height: (header ? header.offsetHeight : 0) + (notebook ? notebook.scrollHeight : 0)};
`

// View opens the notebook at path (under the server's directory) in the browser and reports what
// it shows, once the page has loaded and every image has decoded (at most timeout).
func View(s *Server, b *Browser, path string, timeout time.Duration) (Report, error) {
	r := Report{Notebook: path}
	var err error
	if r.Expected, err = ExpectedFigures(path); err != nil {
		return r, err
	}
	url, err := s.NotebookURL(path)
	if err != nil {
		return r, err
	}
	if err := b.Open(url); err != nil {
		return r, fmt.Errorf("nbview: opening %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		var page *struct {
			Trusted bool
			Height  float64
			Figures []struct {
				Figure
				Pending bool
			}
		}
		if err := b.Eval(pageScript, &page); err != nil {
			return r, fmt.Errorf("nbview: reading the page of %s: %w", path, err)
		}
		pending := page == nil
		if page != nil {
			r.Trusted, r.Height, r.Figures = page.Trusted, int(page.Height), r.Figures[:0]
			for _, f := range page.Figures {
				pending = pending || f.Pending
				r.Figures = append(r.Figures, f.Figure)
			}
		}
		if !pending {
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("nbview: %s did not finish loading in the browser within %s", path, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
