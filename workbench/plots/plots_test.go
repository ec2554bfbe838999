package plots

import (
	"fmt"
	"slices"
	"strings"

	"github.com/attnbench/attnbench/workbench/results"

	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/vg"
)

func synthetic() map[string]func() (*Figure, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var curves []results.Curve
	for _, v := range []string{"performer", "performer+rpe"} {
		for seed := range 3 {
			c := results.Curve{Variant: v, Seed: uint64(seed)}
			for s := 1; s <= 50; s++ {
				c.Steps = append(c.Steps, s)
				c.Loss = append(c.Loss, 5*math.Exp(-float64(s)/20)+0.1*rng.Float64())
			}
			if v == "performer" && seed == 1 {
				c.Loss[30] = math.NaN()
				c.Steps, c.Loss = c.Steps[:31], c.Loss[:31]
				c.DivergedAt = 31
			}
			curves = append(curves, c)
		}
	}
	var rs []results.Speed
	for _, v := range []string{"softmax", "fftrpe-m16"} {
		for _, n := range []int{256, 512, 1024, 2048} {
			r := results.Speed{Variant: v, N: n, Mode: "fwdbwd", MedianS: 1e-3 * float64(n*n) / 1e5, PeakMB: float64(n) / 10}
			if v == "fftrpe-m16" {
				r.MedianS = 1e-6 * float64(n) * math.Log2(float64(n))
			}
			if v == "softmax" && n == 2048 {
				r = results.Speed{Variant: v, N: n, Mode: "fwdbwd", Skipped: "budget"}
			}
			rs = append(rs, r)
		}
	}
	lens := []float64{512, 1024, 2048, 4096, 8192}
	ext := []results.Series{{Label: "kerple_log", X: lens, Y: []float64{20, 19, 19, 19.5, 20}, Low: []float64{19, 18, 18.5, 19, 19}, High: []float64{21, 20, 19.5, 20, 21}}, {Label: "alibi", X: lens, Y: []float64{21, 20.5, 21, 22, 23}}, {Label: "sinusoidal", X: lens, Y: []float64{20, 60, 300, 900, math.Inf(1)}}}
	pos := []results.Series{{Label: "kerple_log", X: []float64{0, 1, 2, 3}, Y: []float64{30, 25, 22, 21}}}
	ker := results.HeadSeries([][]float64{{0, -0.5, -0.8, -1.1, -1.4, -1.7}, {0, -0.1, -0.2, -0.4, -0.8, -1.6}})
	m := []float64{4, 16, 64, 256}
	approx := []results.Series{{Label: "PRF", X: m, Y: []float64{0.5, 0.25, 0.13, 0.06}}, {Label: "ORF", X: m, Y: []float64{0.4, 0.18, 0.09, 0.04}}}
	att := make([][]float64, 9)
	for i := range att {
		att[i] = make([]float64, 9)
		for j := 0; j <= i; j++ {
			att[i][j] = 1 / float64(i+1)
		}
	}
	return map[string]func() (*Figure, error){
		"stability": func() (*Figure, error) { return Stability(curves, "Stability") },
		"phase": func() (*Figure, error) {
			var cells []PhaseCell
			for _, p := range []string{"PRF", "PRF + RPE"} {
				for _, lr := range []float64{0.01, 0.1, 0.3} {
					for _, l := range []float64{64, 1024} {
						k := rng.IntN(5)
						cells = append(cells, PhaseCell{Panel: p, X: lr, Y: l, Runs: 4, Diverged: k, Note: fmt.Sprintf("%.2f", 3*rng.Float64())})
					}
				}
			}
			return PhaseDiagram(cells, "Diverged runs", "peak learning rate (cell: diverged / runs)", "length")
		},
		"speed":         func() (*Figure, error) { return Speed(rs, "fwdbwd", "Speed") },
		"memory":        func() (*Figure, error) { return Memory(rs, "fwdbwd", "Memory") },
		"extrapolation": func() (*Figure, error) { return Extrapolation(ext, 512, "Extrapolation") },
		"position":      func() (*Figure, error) { return PositionLoss(pos, "Position-wise") },
		"kernels":       func() (*Figure, error) { return Kernels(ker, "Kernels") },
		"approx":        func() (*Figure, error) { return ApproxError(approx, "Approximation") },
		"attention":     func() (*Figure, error) { return AttentionMap(att, "Attention map") },
		"lines":         func() (*Figure, error) { return Lines(approx, "Lines", "m", "error", true, false) },
	}
}

func TestEveryFigureExports(t *testing.T) {
	dir := t.TempDir()
	for name, build := range synthetic() {
		f, err := build()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		paths, err := f.Export(dir, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(paths) != 3 {
			t.Fatalf("%s: %d files", name, len(paths))
		}
		b, _ := os.ReadFile(filepath.Join(dir, name+".png"))
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s.png: %v", name, err)
		}
		if w := img.Bounds().Dx(); w != int(float64(f.Width/vg.Inch)*DPI+0.5) || w < 900 {
			t.Errorf("%s.png is %d pixels wide, want %.0f in at %d dpi", name, w, float64(f.Width/vg.Inch), DPI)
		}
		b, _ = os.ReadFile(filepath.Join(dir, name+".svg"))
		dec := xml.NewDecoder(bytes.NewReader(b))
		root := ""
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s.svg does not parse: %v", name, err)
			}
			if se, ok := tok.(xml.StartElement); ok && root == "" {
				root = se.Name.Local
			}
		}
		if root != "svg" {
			t.Errorf("%s.svg root element %q", name, root)
		}
		b, _ = os.ReadFile(filepath.Join(dir, name+".pdf"))
		if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b[max(0, len(b)-64):], []byte("%%EOF")) {
			t.Errorf("%s.pdf is not a complete PDF", name)
		}
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Stability(nil, "x"); err == nil {
		t.Error("empty stability accepted")
	}
	if _, err := Speed(nil, "fwd", "x"); err == nil {
		t.Error("empty speed accepted")
	}
	if _, err := AttentionMap([][]float64{{1, 2}, {3}}, "x"); err == nil {
		t.Error("ragged map accepted")
	}
	if _, err := PhaseDiagram([]PhaseCell{{Panel: "a", X: 1, Y: 1, Runs: 2, Diverged: 3}}, "x", "x", "y"); err == nil || !strings.Contains(err.Error(), "3 of 2") {
		t.Errorf("3 of 2 runs diverged: %v", err)
	}
	if _, err := PhaseDiagram(nil, "x", "x", "y"); err == nil {
		t.Error("empty phase diagram accepted")
	}
	f, _ := Kernels([]results.Series{{Label: "a", X: []float64{0, 1}, Y: []float64{0, -1}}}, "k")
	if _, err := f.Export(t.TempDir(), "../escape"); err == nil {
		t.Error("unsafe name accepted")
	}
	if _, err := f.Render("gif"); err == nil {
		t.Error("gif accepted")
	}
}

func TestHeadSeries(t *testing.T) {
	ss := results.HeadSeries([][]float64{{0, -1}, {0, -0.5, -2}})
	if len(ss) != 2 || ss[1].Label != "head 1" || len(ss[1].X) != 3 || ss[1].X[2] != 2 || ss[1].Y[2] != -2 {
		t.Errorf("HeadSeries: %+v", ss)
	}
}

// The extrapolation figure is marked at the evaluated lengths, leaves a margin around every
// point and error bar, and keeps a band above them for the legend; a narrow perplexity axis has
// at least three labels.
func TestExtrapolationLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for range 20 {
		l0 := 16 << rng.IntN(4)
		var lens []float64
		for f := 1; f <= 1<<rng.IntN(5); f *= 2 {
			lens = append(lens, float64(l0*f))
		}
		var ss []results.Series
		maxHigh, minY := 0.0, math.Inf(1)
		for k := range 1 + rng.IntN(7) {
			s := results.Series{Label: fmt.Sprint("enc", k), X: lens}
			for range lens {
				y := 2 + rng.Float64()*30
				s.Y, s.Low, s.High = append(s.Y, y), append(s.Low, y*0.95), append(s.High, y*1.05)
				maxHigh, minY = math.Max(maxHigh, y*1.05), math.Min(minY, y*0.95)
			}
			ss = append(ss, s)
		}
		f, err := Extrapolation(ss, l0, "t")
		if err != nil {
			t.Fatal(err)
		}
		var labels []float64
		for _, tk := range f.X.Tick.Marker.Ticks(f.X.Min, f.X.Max) {
			if tk.Label != "" {
				labels = append(labels, tk.Value)
			}
		}
		if !slices.Equal(labels, lens) {
			t.Errorf("x labels %v, want the evaluated lengths %v", labels, lens)
		}
		if f.X.Min > lens[0]/1.1 || f.X.Max < lens[len(lens)-1]*1.1 || f.Y.Min >= minY {
			t.Errorf("no margin: x [%v, %v] for %v, y min %v for %v", f.X.Min, f.X.Max, lens, f.Y.Min, minY)
		}
		if band := math.Log(f.Y.Max/maxHigh) / math.Log(f.Y.Max/f.Y.Min); band < 0.07*float64(len(ss)) {
			t.Errorf("%d entries: legend band %.2f of the height", len(ss), band)
		}
		n := 0
		for _, tk := range f.Y.Tick.Marker.Ticks(f.Y.Min, f.Y.Max) {
			if tk.Label != "" {
				n++
			}
		}
		if n < 3 {
			t.Errorf("y axis [%v, %v] has %d labels", f.Y.Min, f.Y.Max, n)
		}
	}
}
