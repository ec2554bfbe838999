// Package plots draws the workbench's figures with gonum/plot in one style (the Okabe-Ito
// colour-blind-safe palette, labelled axes with units, legends, titles): stability, speed,
// memory, extrapolation, position-wise perplexity, kernel shapes, attention maps and
// random-feature error. Show displays a figure inline in a GoNB notebook; Export writes PNG
// (200 dpi), SVG and PDF with stable file names.
package plots

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"regexp"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/attnbench/attnbench/internal/atomicfile"
)

// Palette is Okabe and Ito's colour-blind-safe palette (black first).
var Palette = []color.Color{
	color.RGBA{0, 0, 0, 255},       // black
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{0, 158, 115, 255},   // bluish green
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{204, 121, 167, 255}, // reddish purple
	color.RGBA{240, 228, 66, 255},  // yellow
}

// Color returns the i-th palette colour, cycling.
func Color(i int) color.Color { return Palette[i%len(Palette)] }

// faint returns c with alpha a.
func faint(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), a}
}

// dashes gives each series after the palette's length a distinct dash pattern.
func dashes(i int) []vg.Length {
	switch (i / len(Palette)) % 3 { // long dashes are a peer's (speed figures)
	case 1:
		return []vg.Length{vg.Points(2), vg.Points(2)}
	case 2:
		return []vg.Length{vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}
	}
	return nil
}

// Figure is a plot with its export size.
type Figure struct {
	*plot.Plot
	Width, Height vg.Length
}

// newFigure is a 6 x 4 inch plot in the package's style, with grid lines.
func newFigure(title, x, y string) *Figure {
	f := bareFigure(title, x, y)
	f.Add(gridLines())
	return f
}

// bareFigure is newFigure without grid lines (for heatmaps).
func bareFigure(title, x, y string) *Figure {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 12
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = 9
	p.X.Tick.Marker, p.Y.Tick.Marker = linearTicks{}, linearTicks{}
	return &Figure{Plot: p, Width: 6 * vg.Inch, Height: 4 * vg.Inch}
}

// DPI of exported PNG files.
const DPI = 200

// Render writes the figure in format "png", "svg" or "pdf".
func (f *Figure) Render(format string) ([]byte, error) {
	var c draw.Canvas
	var write func(*bytes.Buffer) error
	switch format {
	case "png":
		cv := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
		c = draw.New(cv)
		write = func(b *bytes.Buffer) error { _, err := vgimg.PngCanvas{Canvas: cv}.WriteTo(b); return err }
	case "svg":
		cv := vgsvg.New(f.Width, f.Height)
		c = draw.New(cv)
		write = func(b *bytes.Buffer) error { _, err := cv.WriteTo(b); return err }
	case "pdf":
		cv := vgpdf.New(f.Width, f.Height)
		cv.EmbedFonts(true)
		c = draw.New(cv)
		write = func(b *bytes.Buffer) error { _, err := cv.WriteTo(b); return err }
	default:
		return nil, fmt.Errorf("plots: format %q is not png, svg or pdf", format)
	}
	f.Draw(c)
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return nil, fmt.Errorf("plots: rendering %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Export writes dir/name.png, dir/name.svg and dir/name.pdf, each atomically, and returns their
// paths.
func (f *Figure) Export(dir, name string) ([]string, error) {
	if !safeName.MatchString(name) {
		return nil, fmt.Errorf("plots: figure name %q must be letters, digits, '.', '_' or '-'", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var paths []string
	for _, format := range []string{"png", "svg", "pdf"} {
		b, err := f.Render(format)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, name+"."+format)
		if err := atomicfile.Write(p, b); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Bundle is the figure as Jupyter display data: PNG (base64), SVG and a text line, with the PNG's
// display size in CSS pixels (1/96 inch) as metadata, so that it shows at the SVG's size. Every
// value is a string or an int, which GoNB's gob pipe carries.
func (f *Figure) Bundle() (data, metadata map[string]any, err error) {
	png, err := f.Render("png")
	if err != nil {
		return nil, nil, err
	}
	svg, err := f.Render("svg")
	if err != nil {
		return nil, nil, err
	}
	data = map[string]any{"image/png": base64.StdEncoding.EncodeToString(png), "image/svg+xml": string(svg),
		"text/plain": "figure: " + f.Title.Text}
	px := func(l vg.Length) int { return int(math.Round(l.Points() * 96 / 72)) }
	// Flat keys: GoNB sends metadata by gob, which carries no nested maps; Jupyter reads a
	// top-level width and height for the image.
	metadata = map[string]any{"width": px(f.Width), "height": px(f.Height)}
	return data, metadata, nil
}

// Show displays the figure inline when running in a GoNB notebook, as its Bundle: Jupyter
// renders the SVG in a trusted notebook and the PNG in an untrusted one (a notebook from git, or
// copied from another machine), so a figure never shows as text only. Elsewhere it does nothing.
func (f *Figure) Show() error {
	if !gonbui.IsNotebook {
		return nil
	}
	data, metadata, err := f.Bundle()
	if err != nil {
		return err
	}
	d := &protocol.DisplayData{Data: map[protocol.MIMEType]any{}, Metadata: metadata}
	for k, v := range data {
		d.Data[protocol.MIMEType(k)] = v
	}
	gonbui.SendData(d)
	return nil
}

func gridLines() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{225}
	g.Horizontal.Color = color.Gray{225}
	return g
}
