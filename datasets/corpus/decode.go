package corpus

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// Magic numbers of the compressed formats, recognised by content whatever the file's name.
var (
	gzipMagic  = []byte{0x1f, 0x8b} // gzip, and dictzip (.dz), which is gzip with an index
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	otherMagic = map[string][]byte{"xz": {0xfd, '7', 'z', 'X', 'Z', 0}, "bzip2": []byte("BZh"), "zip": []byte("PK\x03\x04"), "7z": []byte("7z\xbc\xaf\x27\x1c")}
)

// codec returns the compression of f from its first bytes: "gzip", "zstd", "" for none, or an
// error naming an unsupported one. A name that promises compression (.gz, .dz, .zst) on
// uncompressed content is an error: such a file is damaged or misnamed.
func codec(f string) (string, error) {
	file, err := os.Open(f)
	if err != nil {
		return "", fmt.Errorf("corpus: %w", err)
	}
	defer file.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(file, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return "gzip", nil
	case bytes.HasPrefix(head, zstdMagic):
		return "zstd", nil
	}
	for name, m := range otherMagic {
		if bytes.HasPrefix(head, m) {
			return "", fmt.Errorf("corpus: %s is compressed with %s, which is not read; decompress it, or recompress it with gzip or zstd", f, name)
		}
	}
	for ext, name := range map[string]string{".gz": "gzip", ".dz": "gzip", ".zst": "zstd"} {
		if strings.HasSuffix(f, ext) {
			return "", fmt.Errorf("corpus: %s is named as %s but its content is not a %s stream (no magic bytes): damaged or misnamed", f, name, name)
		}
	}
	return "", nil
}

// openDecoded opens f, decompressing gzip (and dictzip) and zstd streams recognised by their
// magic bytes; read errors name the file.
func openDecoded(f string) (io.ReadCloser, error) {
	kind, err := codec(f)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(f)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	switch kind {
	case "gzip":
		zr, err := gzip.NewReader(file)
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("corpus: %s: corrupt gzip stream: %w", f, err)
		}
		return &decoded{Reader: zr, name: f, kind: "gzip", closers: []io.Closer{zr, file}}, nil
	case "zstd":
		zr, err := zstd.NewReader(file, zstd.WithDecoderConcurrency(1))
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("corpus: %s: corrupt zstd stream: %w", f, err)
		}
		return &decoded{Reader: zr, name: f, kind: "zstd", closers: []io.Closer{closerFunc(zr.Close), file}}, nil
	}
	return file, nil
}

// checkText refuses a text file whose first bytes are mostly not text: more than 10% of them
// invalid UTF-8 or control characters other than tab, newline, carriage return and form feed.
func checkText(f string, head []byte) error {
	if len(head) > 1<<16 {
		head = head[:1<<16]
	}
	bad := 0
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				i = len(head) // a rune cut at the end of the sample
				continue
			}
			bad++
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f', r == 0x7f:
			bad++
		}
		i += size
	}
	if bad*10 > len(head) {
		return fmt.Errorf("corpus: %s is not text: %d of its first %d bytes are binary or invalid UTF-8; "+
			"give text files (plain, gzip or zstd) or JSON Lines", f, bad, len(head))
	}
	return nil
}

type closerFunc func()

func (c closerFunc) Close() error { c(); return nil }

// decoded names the file and the codec in any read error.
type decoded struct {
	io.Reader
	name, kind string
	closers    []io.Closer
}

func (d *decoded) Read(p []byte) (int, error) {
	n, err := d.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("corrupt %s stream: %v", d.kind, err) // %v: a truncated stream must not read as io.EOF
	}
	return n, err
}

func (d *decoded) Close() error {
	for _, c := range d.closers {
		c.Close()
	}
	return nil
}
