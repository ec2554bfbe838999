package corpus

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Formats lists the formats Open accepts.
var Formats = []string{"auto", "text", "jsonl", "enwik8", "text8", "wikitext"}

// Options configures Open.
type Options struct {
	// Format is one of Formats; "auto" (or "") picks it from the file names.
	Format string
	// Fractions sets the split by document; a single text file is split by byte ranges instead
	// (train first, then valid, then test), as enwik8 and text8 are (90M/5M/5M of 100M bytes).
	Fractions Fractions
	// Field is the JSON Lines field holding the text; default "text".
	Field string
	// PieceSize bounds the bytes read at a time from one long file; default 4 MiB.
	PieceSize int
}

const defaultPieceSize = 4 << 20

// Open returns the corpus at path: a file, a directory (all its regular files, recursively) or a
// glob pattern. Files ending in .gz or .zst are decompressed while streaming.
func Open(path string, o Options) (Source, error) {
	if o.Format == "" {
		o.Format = "auto"
	}
	if !slices.Contains(Formats, o.Format) {
		return nil, fmt.Errorf("corpus: format %q is unknown, valid formats: %s", o.Format, strings.Join(Formats, ", "))
	}
	if o.Fractions == (Fractions{}) {
		o.Fractions = DefaultFractions
	}
	if err := o.Fractions.Validate(); err != nil {
		return nil, err
	}
	if o.Field == "" {
		o.Field = "text"
	}
	if o.PieceSize <= 0 {
		o.PieceSize = defaultPieceSize
	}
	files, root, err := listFiles(path)
	if err != nil {
		return nil, err
	}
	format := o.Format
	if format == "auto" {
		format = detectFormat(files)
	}
	if format == "wikitext" {
		return openWikiText(path, files, o)
	}
	if (format == "enwik8" || format == "text8") && len(files) != 1 {
		return nil, fmt.Errorf("corpus: %s format needs exactly one file, %q has %d", format, path, len(files))
	}
	return &fileSource{path: path, root: root, files: files, format: format, o: o}, nil
}

// listFiles expands path into a sorted list of regular files.
func listFiles(path string) (files []string, root string, err error) {
	if strings.ContainsAny(path, "*?[") {
		m, err := filepath.Glob(path)
		if err != nil {
			return nil, "", fmt.Errorf("corpus: glob %q: %w", path, err)
		}
		for _, f := range m {
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			return nil, "", fmt.Errorf("corpus: glob %q matches no files", path)
		}
		slices.Sort(files)
		return files, filepath.Dir(path), nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("corpus: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, filepath.Dir(path), nil
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("corpus: %w", err)
	}
	if len(files) == 0 {
		return nil, "", fmt.Errorf("corpus: directory %q holds no files", path)
	}
	slices.Sort(files)
	return files, path, nil
}

func detectFormat(files []string) string {
	base := filepath.Base(files[0])
	for _, ext := range []string{".gz", ".zst", ".dz"} {
		base = strings.TrimSuffix(base, ext)
	}
	switch {
	case strings.HasSuffix(base, ".jsonl") || strings.HasSuffix(base, ".json"):
		return "jsonl"
	case len(files) == 1 && strings.HasPrefix(base, "enwik"):
		return "enwik8"
	case len(files) == 1 && strings.HasPrefix(base, "text8"):
		return "text8"
	case slices.ContainsFunc(files, func(f string) bool { return wikiSplit(f) >= 0 }):
		return "wikitext"
	}
	return "text"
}

type fileSource struct {
	path, root string
	files      []string
	format     string
	o          Options
}

func (s *fileSource) Name() string { return s.path }

// Key hashes the format, the split settings and every file's name and content.
func (s *fileSource) Key() (string, error) {
	return s.hash(func(h io.Writer, f string) error {
		r, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
		defer r.Close()
		fmt.Fprintf(h, "%s\x00", s.rel(f))
		if _, err := io.Copy(h, r); err != nil {
			return fmt.Errorf("corpus: reading %s: %w", f, err)
		}
		return nil
	})
}

// Fingerprint hashes the format, the split settings and every file's name, size and
// modification time.
func (s *fileSource) Fingerprint() (string, error) {
	return s.hash(func(h io.Writer, f string) error {
		st, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
		abs, _ := filepath.Abs(f)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", abs, st.Size(), st.ModTime().UnixNano())
		return nil
	})
}

// hash is SHA-256 of the format and split settings followed by what file writes for each file.
func (s *fileSource) hash(file func(h io.Writer, f string) error) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "format=%s,%s,field=%s\n", s.format, s.o.Fractions.key(), s.o.Field)
	for _, f := range s.files {
		if err := file(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *fileSource) rel(f string) string {
	r, err := filepath.Rel(s.root, f)
	if err != nil {
		return f
	}
	return filepath.ToSlash(r)
}

func (s *fileSource) Documents(fn func(Document) error) error {
	if s.format == "jsonl" {
		for _, f := range s.files {
			if err := s.jsonl(f, fn); err != nil {
				return err
			}
		}
		return nil
	}
	if len(s.files) == 1 {
		return s.byteSplit(s.files[0], fn)
	}
	for _, f := range s.files {
		split := s.o.Fractions.Assign(s.rel(f))
		err := readPieces(f, s.o.PieceSize, func(p []byte, first bool) error {
			return fn(Document{Name: s.rel(f), Split: split, Text: p, Continued: !first})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// byteSplit cuts one file into train, valid and test by byte ranges.
func (s *fileSource) byteSplit(f string, fn func(Document) error) error {
	size, err := decodedSize(f)
	if err != nil {
		return err
	}
	nTest := int64(float64(size) * s.o.Fractions.Test)
	nValid := int64(float64(size) * s.o.Fractions.Valid)
	bounds := [3]int64{size - nValid - nTest, size - nTest, size}
	var off int64
	split := Train
	first := true
	return readPieces(f, s.o.PieceSize, func(p []byte, _ bool) error {
		for len(p) > 0 {
			for off >= bounds[split] && split < Test {
				split++
				first = true
			}
			n := min(int64(len(p)), bounds[split]-off)
			name := s.rel(f) + "#" + split.String()
			if err := fn(Document{Name: name, Split: split, Text: p[:n], Continued: !first}); err != nil {
				return err
			}
			first = false
			off += n
			p = p[n:]
		}
		return nil
	})
}

func decodedSize(f string) (int64, error) {
	kind, err := codec(f)
	if err != nil {
		return 0, err
	}
	if kind == "" {
		st, err := os.Stat(f)
		if err != nil {
			return 0, fmt.Errorf("corpus: %w", err)
		}
		return st.Size(), nil
	}
	r, err := openDecoded(f)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return 0, fmt.Errorf("corpus: %s: %w", f, err)
	}
	return n, nil
}

// readPieces streams a text file in pieces of at most size bytes (refusing one that is not text,
// checkText), cut after the last newline of each
// piece when there is one, so that tokenizers rarely see a word cut in two.
func readPieces(f string, size int, fn func(p []byte, first bool) error) error {
	r, err := openDecoded(f)
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, size)
	carry := 0
	first := true
	for {
		n, err := io.ReadFull(r, buf[carry:])
		n += carry
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return fmt.Errorf("corpus: %s: %w", f, err)
		}
		if first {
			if err := checkText(f, buf[:n]); err != nil {
				return err
			}
		}
		cut := n
		if !eof {
			if i := bytes.LastIndexByte(buf[:n], '\n'); i > 0 {
				cut = i + 1
			}
		}
		if cut > 0 {
			piece := make([]byte, cut)
			copy(piece, buf[:cut])
			if err := fn(piece, first); err != nil {
				return err
			}
			first = false
		}
		carry = copy(buf, buf[cut:n])
		if eof {
			return nil
		}
	}
}

// jsonl streams one JSON object per line; the document is its Field.
func (s *fileSource) jsonl(f string, fn func(Document) error) error {
	r, err := openDecoded(f)
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	name := s.rel(f)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("corpus: %s line %d: %w", f, line, err)
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var obj map[string]json.RawMessage
			if jerr := json.Unmarshal(t, &obj); jerr != nil {
				return fmt.Errorf("corpus: %s line %d: not a JSON object: %v", f, line, jerr)
			}
			raw, ok := obj[s.o.Field]
			if !ok {
				return fmt.Errorf("corpus: %s line %d: no %q field", f, line, s.o.Field)
			}
			var text string
			if jerr := json.Unmarshal(raw, &text); jerr != nil {
				return fmt.Errorf("corpus: %s line %d: field %q is not a string", f, line, s.o.Field)
			}
			id := fmt.Sprintf("%s:%d", name, line)
			if ferr := fn(Document{Name: id, Split: s.o.Fractions.Assign(id), Text: []byte(text)}); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
