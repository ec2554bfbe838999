package main

import (
	"fmt"
	"io"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// registryHelp lists every registered mechanism and encoding with its parameters, as the
// registries hold them: a new one appears here with nothing else edited.
func registryHelp(w io.Writer) {
	fmt.Fprintln(w, "\nAttention mechanisms (-attention) and their parameters (-attn_params):")
	for _, name := range attention.Names() {
		s, _ := attention.Lookup(name)
		writeSpec(w, s.Name, s.Doc, s.Params)
	}
	fmt.Fprintln(w, "\nPositional encodings (-posenc) and their parameters (-posenc_params):")
	for _, name := range posenc.Names() {
		s, _ := posenc.Lookup(name)
		writeSpec(w, s.Name, s.Doc, s.Params)
	}
}

func writeSpec(w io.Writer, name, doc string, ps []params.Param) {
	fmt.Fprintf(w, "  %s", name)
	if doc != "" {
		fmt.Fprintf(w, ": %s", doc)
	}
	fmt.Fprintln(w)
	for _, p := range ps {
		fmt.Fprintf(w, "      %s\n", p)
	}
}
