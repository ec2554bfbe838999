// Command pack writes a directory of text files as an embedded corpus: gzip-compressed JSON Lines,
// one document per file, {"name", "split", "text"}, in a fixed order with a fixed split.
//
//	go run ./datasets/scripts/pack -out datasets/builtin/data/code.jsonl.gz -ext .go DIR
//
// The split is by document: documents are ordered by the SHA-256 of their name; the first
// max(1, round(valid*n)) go to test, the next max(1, round(valid*n)) to valid, the rest to train.
// Files ending in .gz are decompressed; files that are not valid UTF-8 are skipped.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

type doc struct {
	Name  string `json:"name"`
	Split string `json:"split"`
	Text  string `json:"text"`
	key   [32]byte
}

func main() {
	out := flag.String("out", "", "output .jsonl.gz file")
	exts := flag.String("ext", ".txt", "comma-separated file name suffixes to include (a trailing .gz is also accepted)")
	frac := flag.Float64("frac", 0.05, "fraction of documents in each of valid and test")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		log.Fatal("usage: pack -out FILE.jsonl.gz [-ext .txt] [-frac 0.05] DIR")
	}
	root := flag.Arg(0)
	suffixes := strings.Split(*exts, ",")
	var docs []doc
	skipped := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimSuffix(path, ".gz")
		if !slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(name, s) }) {
			return nil
		}
		text, err := readMaybeGzip(path)
		if err != nil {
			return err
		}
		if !utf8.Valid(text) || len(bytes.TrimSpace(text)) == 0 {
			skipped++
			return nil
		}
		rel, _ := filepath.Rel(root, name)
		rel = filepath.ToSlash(rel)
		docs = append(docs, doc{Name: rel, Text: string(text), key: sha256.Sum256([]byte(rel))})
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	if len(docs) < 3 {
		log.Fatalf("pack: %s has %d documents, need at least 3", root, len(docs))
	}
	slices.SortFunc(docs, func(a, b doc) int { return bytes.Compare(a.key[:], b.key[:]) })
	k := max(1, int(math.Round(*frac*float64(len(docs)))))
	for i := range docs {
		switch {
		case i < k:
			docs[i].Split = "test"
		case i < 2*k:
			docs[i].Split = "valid"
		default:
			docs[i].Split = "train"
		}
	}
	slices.SortFunc(docs, func(a, b doc) int { return strings.Compare(a.Name, b.Name) })

	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	total := 0
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			log.Fatal(err)
		}
		total += len(d.Text)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d documents (%d skipped), %d bytes of text, %d bytes compressed\n",
		*out, len(docs), skipped, total, buf.Len())
}

func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !strings.HasSuffix(path, ".gz") {
		return io.ReadAll(f)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}
