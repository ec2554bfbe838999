package corpus

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// wikiSplit returns the split of a WikiText file name (wiki.train.raw, wiki.valid.tokens, ...),
// or -1 for other names.
func wikiSplit(f string) Split {
	base := filepath.Base(f)
	for _, s := range Splits {
		for _, ext := range []string{".raw", ".tokens"} {
			if base == "wiki."+s.String()+ext {
				return s
			}
		}
	}
	return -1
}

// WikiText articles start with a top-level heading line " = Title = ".
var wikiTitle = regexp.MustCompile(`^ = [^=].* = $`)

type wikiSource struct {
	fileSource
	bySplit [3]string
}

// openWikiText takes WikiText's own split: wiki.{train,valid,test}.{raw,tokens}; documents are
// articles.
func openWikiText(path string, files []string, o Options) (Source, error) {
	w := &wikiSource{}
	for _, f := range files {
		if s := wikiSplit(f); s >= 0 {
			if w.bySplit[s] != "" && strings.HasSuffix(f, ".tokens") {
				continue // prefer .raw when both are present
			}
			w.bySplit[s] = f
		}
	}
	for s, f := range w.bySplit {
		if f == "" {
			return nil, fmt.Errorf("corpus: %q has no wiki.%s.raw (WikiText needs wiki.train.raw, wiki.valid.raw and wiki.test.raw)", path, Split(s))
		}
	}
	w.fileSource = fileSource{path: path, root: filepath.Dir(w.bySplit[0]), files: slices.Clone(w.bySplit[:]), format: "wikitext", o: o}
	return w, nil
}

func (w *wikiSource) Documents(fn func(Document) error) error {
	for s, f := range w.bySplit {
		r, err := openDecoded(f)
		if err != nil {
			return err
		}
		err = wikiArticles(r, f, func(title string, text []byte) error {
			return fn(Document{Name: w.rel(f) + ":" + title, Split: Split(s), Text: text})
		})
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func wikiArticles(r io.Reader, f string, fn func(title string, text []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var cur bytes.Buffer
	title := "preamble"
	flush := func() error {
		if len(bytes.TrimSpace(cur.Bytes())) == 0 {
			cur.Reset()
			return nil
		}
		text := bytes.Clone(cur.Bytes())
		cur.Reset()
		return fn(title, text)
	}
	for {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("corpus: %s: %w", f, err)
		}
		if wikiTitle.Match(bytes.TrimRight(line, "\r\n")) {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			title = strings.TrimSpace(strings.Trim(strings.TrimSpace(string(line)), "="))
		}
		cur.Write(line)
		if err == io.EOF {
			return flush()
		}
	}
}
