package corpus

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// openDecoded opens f, decompressing .gz and .zst files; read errors name the file.
func openDecoded(f string) (io.ReadCloser, error) {
	file, err := os.Open(f)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	switch {
	case strings.HasSuffix(f, ".gz"):
		zr, err := gzip.NewReader(file)
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("corpus: %s: corrupt gzip stream: %w", f, err)
		}
		return &decoded{Reader: zr, name: f, kind: "gzip", closers: []io.Closer{zr, file}}, nil
	case strings.HasSuffix(f, ".zst"):
		zr, err := zstd.NewReader(file, zstd.WithDecoderConcurrency(1))
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("corpus: %s: corrupt zstd stream: %w", f, err)
		}
		return &decoded{Reader: zr, name: f, kind: "zstd", closers: []io.Closer{closerFunc(zr.Close), file}}, nil
	}
	return file, nil
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
