package plots

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"image/png"
	"testing"

	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/attnbench/attnbench/workbench/results"
)

// The bundle survives GoNB's pipe (gob, which refuses nested maps in interface values), holds a
// decodable PNG and an SVG, and gives the PNG the figure's size in CSS pixels.
func TestBundleThroughGoNBPipe(t *testing.T) {
	f, err := Lines([]results.Series{{Label: "a", X: []float64{1, 2, 3}, Y: []float64{3, 1, 2}}}, "t", "x", "y", false, false)
	if err != nil {
		t.Fatal(err)
	}
	data, metadata, err := f.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	d := &protocol.DisplayData{Data: map[protocol.MIMEType]any{}, Metadata: metadata}
	for k, v := range data {
		d.Data[protocol.MIMEType(k)] = v
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(d); err != nil {
		t.Fatalf("gob encoding of the display data (as gonbui.SendData does): %v", err)
	}
	var back protocol.DisplayData
	if err := gob.NewDecoder(&buf).Decode(&back); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(back.Data[protocol.MIMEImagePNG].(string))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	w, h := back.Metadata["width"].(int), back.Metadata["height"].(int)
	if want := int(f.Width.Points()*96/72 + 0.5); w != want || h != int(f.Height.Points()*96/72+0.5) {
		t.Errorf("metadata %v, want the figure's size in CSS pixels (width %d)", back.Metadata, want)
	}
	if cfg.Width <= w || cfg.Height <= h { // rendered at DPI for sharp display
		t.Errorf("PNG %dx%d, want more pixels than its display size %dx%d", cfg.Width, cfg.Height, w, h)
	}
	if svg, _ := back.Data[protocol.MIMEImageSVG].(string); !bytes.Contains([]byte(svg), []byte("<svg")) {
		t.Error("no SVG in the bundle")
	}
}
