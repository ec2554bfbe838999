package workbench_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/experiment"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/run"
)

// Example is the README's end-to-end example: an experiment, trained, evaluated at several
// lengths, drawn as an extrapolation figure and exported.
func Example() {
	dir, _ := os.MkdirTemp("", "attnbench-example-")
	defer os.RemoveAll(dir)
	// README example start
	e := experiment.Experiment{
		Name:  "alibi-prose",
		Model: transformer.Config{Width: 32, Heads: 2, Layers: 1, PosEnc: posenc.Config{Kind: "alibi"}},
		Data:  experiment.Data{Corpus: "prose", Tokenizer: "byte", SeqLen: 32, Batch: 8},
		Optim: experiment.Optim{Steps: 20, LR: 3e-3, ClipNorm: 1},
		Eval:  experiment.Eval{Lengths: []int{32, 64, 128}, Sequences: 4},
	}
	choice, err := backend.New()
	if err != nil {
		log.Fatal(err)
	}
	res, err := run.Train(e, filepath.Join(dir, e.Name), run.Options{Backend: choice.Backend})
	if err != nil {
		log.Fatal(err)
	}
	ppl := results.Series{Label: "ALiBi"}
	for _, r := range res.Eval {
		ppl.X, ppl.Y = append(ppl.X, float64(r.Length)), append(ppl.Y, r.Perplexity)
	}
	f, err := plots.Extrapolation([]results.Series{ppl}, e.Data.SeqLen, "ALiBi on prose")
	if err != nil {
		log.Fatal(err)
	}
	f.Show() // inline in a notebook, nothing elsewhere
	paths, err := f.Export(dir, "extrapolation")
	if err != nil {
		log.Fatal(err)
	}
	// README example end
	fmt.Println(res.Status.State, len(res.Eval), "lengths,", len(paths), "files")
	// Output: done 3 lengths, 3 files
}

// The README shows the example exactly as it is compiled and run here.
func TestReadmeHasTheExample(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	body := s[strings.Index(s, "// README example start\n")+len("// README example start\n") : strings.Index(s, "\t// README example end")]
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.Join(lines, "\n")) {
		t.Errorf("README.md lacks the example of workbench/example_test.go:\n%s", strings.Join(lines, "\n"))
	}
}
