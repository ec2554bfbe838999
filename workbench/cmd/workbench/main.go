// Command workbench trains and evaluates attnbench models.
//
//	workbench train [flags]   train a small language model on an embedded corpus and print the loss
//
// Run `workbench <command> -help` for the flags of a command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/attnbench/attnbench/datasets"
	"github.com/attnbench/attnbench/datasets/builtin"
	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokenizer"
	dtokens "github.com/attnbench/attnbench/datasets/tokens"
	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/training"
)

const usage = `workbench: a research workbench for efficient attention with relative positional encodings.

Usage:
  workbench train [flags]   train a small byte-level language model on an embedded corpus

Run "workbench <command> -help" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "train":
		err = trainCmd(args[1:], stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q, valid commands: train", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "workbench:", err)
		return 2
	}
	return 0
}

func trainCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("workbench train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpusName := fs.String("corpus", "code", "embedded corpus ("+strings.Join(builtin.Names(), ", ")+") or a file, directory or glob")
	tokName := fs.String("tokenizer", "byte", "tokenizer: "+strings.Join(tokenizer.Names(), ", "))
	pe := fs.String("posenc", "kerple_log", "positional encoding: "+strings.Join(posenc.Names(), ", "))
	attn := fs.String("attention", "softmax", "attention mechanism: "+strings.Join(attention.Kinds(), ", "))
	attnParams := fs.String("attn_params", "", "mechanism parameters as name=value,... (e.g. m=32,redraw=100)")
	posParams := fs.String("posenc_params", "", "encoding parameters as name=value,... (e.g. max_len=512)")
	width := fs.Int("width", 64, "model width")
	heads := fs.Int("heads", 4, "attention heads")
	layers := fs.Int("layers", 2, "Transformer blocks")
	steps := fs.Int("steps", 200, "optimizer steps")
	batch := fs.Int("batch", 16, "sequences per step")
	seq := fs.Int("seq", 64, "training sequence length")
	lr := fs.Float64("lr", 3e-3, "AdamW learning rate")
	clip := fs.Float64("clip", 1, "global gradient-norm clip (0 = none)")
	seed := fs.Uint64("seed", 1, "random seed")
	logEvery := fs.Int("log_every", 20, "print the loss every N steps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train: unexpected arguments %q", fs.Args())
	}
	ap, err := parseParams("attn_params", *attnParams)
	if err != nil {
		return err
	}
	pp, err := parseParams("posenc_params", *posParams)
	if err != nil {
		return err
	}
	data, err := datasets.Open(*corpusName, datasets.Options{Tokenizer: *tokName})
	if err != nil {
		return err
	}
	defer data.Close()
	tokens := dtokens.All(data.Split(corpus.Train))
	cfg := transformer.Config{Vocab: data.Vocab, Width: *width, Heads: *heads, Layers: *layers,
		Attention: *attn, AttentionParams: ap, PosEnc: posenc.Config{Kind: *pe, Params: pp}}
	opt := training.LMOptions{Steps: *steps, Batch: *batch, SeqLen: *seq, LR: *lr, ClipNorm: *clip, Seed: *seed,
		LogEvery: *logEvery, Log: stdout, ValidFraction: 0.1}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, choice.String())
	fmt.Fprintf(stdout, "corpus %s: %d training tokens; model %s attention, %s encoding, width %d, %d heads, %d layers\n",
		*corpusName, len(tokens), *attn, *pe, *width, *heads, *layers)
	res, err := training.TrainLM(choice.Backend, cfg, tokens, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "final train loss %.4f, validation loss %.4f nats/token (unigram baseline %.4f), %.0f tokens/s\n",
		res.Losses[len(res.Losses)-1], res.ValidLoss, res.Unigram, res.TokensPS)
	return nil
}

// parseParams reads "name=value,name=value" into a map; an empty string gives nil.
func parseParams(flagName, s string) (map[string]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("-%s: %q is not name=value", flagName, kv)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("-%s: value of %q is %q, want a number", flagName, name, val)
		}
		out[strings.TrimSpace(name)] = x
	}
	return out, nil
}
