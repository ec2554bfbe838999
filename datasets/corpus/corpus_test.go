package corpus

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// randomText returns n bytes of word-like text with newlines.
func randomText(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		for range 1 + rng.IntN(8) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		switch rng.IntN(10) {
		case 0:
			b.WriteByte('\n')
		default:
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(t *testing.T, b []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(b, nil)
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// collect joins the pieces of each document and returns documents and per-split text.
func collect(t *testing.T, src Source) (docs map[string][]byte, splits [3][]byte) {
	t.Helper()
	docs = map[string][]byte{}
	var last string
	err := src.Documents(func(d Document) error {
		if d.Continued {
			if d.Name != last {
				return fmt.Errorf("piece of %q continues %q", d.Name, last)
			}
		} else if _, dup := docs[d.Name]; dup {
			return fmt.Errorf("document %q appears twice", d.Name)
		}
		docs[d.Name] = append(docs[d.Name], d.Text...)
		splits[d.Split] = append(splits[d.Split], d.Text...)
		last = d.Name
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs, splits
}

func TestSingleFileByteSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		format string
		enc    func(*testing.T, []byte) []byte
	}{
		{"book.txt", "auto", nil},
		{"book.txt.gz", "auto", gz},
		{"book.txt.zst", "auto", zst},
		{"enwik8", "auto", nil},
		{"text8.zst", "text8", zst},
	} {
		text := randomText(rng, 10_000+rng.IntN(5000))
		data := text
		if tc.enc != nil {
			data = tc.enc(t, text)
		}
		path := filepath.Join(dir, tc.name)
		write(t, path, data)
		src, err := Open(path, Options{Format: tc.format, PieceSize: 1000 + rng.IntN(500)})
		if err != nil {
			t.Fatal(err)
		}
		_, splits := collect(t, src)
		n := len(text)
		nTest, nValid := int(float64(n)*0.05), int(float64(n)*0.05)
		want := [3][]byte{text[:n-nValid-nTest], text[n-nValid-nTest : n-nTest], text[n-nTest:]}
		for s := range want {
			if !bytes.Equal(splits[s], want[s]) {
				t.Errorf("%s: split %v has %d bytes, want the %d bytes of its byte range", tc.name, Split(s), len(splits[s]), len(want[s]))
			}
		}
	}
}

func TestDirectoryGlobAndJSONL(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	want := map[string][]byte{}
	for i := range 40 {
		text := randomText(rng, 1+rng.IntN(3000))
		name := fmt.Sprintf("d%02d.txt", i)
		write(t, filepath.Join(dir, "txt", name), text)
		want[name] = text
	}
	for _, path := range []string{filepath.Join(dir, "txt"), filepath.Join(dir, "txt", "d*.txt")} {
		src, err := Open(path, Options{PieceSize: 700})
		if err != nil {
			t.Fatal(err)
		}
		docs, splits := collect(t, src)
		if len(docs) != len(want) {
			t.Fatalf("%s: %d documents, want %d", path, len(docs), len(want))
		}
		for name, text := range want {
			if !bytes.Equal(docs[name], text) {
				t.Errorf("%s: document %s differs", path, name)
			}
		}
		if len(splits[Train]) == 0 {
			t.Errorf("%s: empty train split", path)
		}
	}

	// JSON Lines, plain and compressed, with extra fields and Unicode.
	var lines bytes.Buffer
	var texts []string
	for i := range 200 {
		s := string(randomText(rng, 1+rng.IntN(200))) + " \"é\u2028\\ "
		texts = append(texts, s)
		b, _ := json.Marshal(map[string]any{"meta": map[string]int{"i": i}, "text": s})
		lines.Write(b)
		lines.WriteByte('\n')
	}
	for name, data := range map[string][]byte{
		"owt.jsonl": lines.Bytes(), "owt.jsonl.gz": gz(t, lines.Bytes()), "owt.jsonl.zst": zst(t, lines.Bytes()),
	} {
		path := filepath.Join(dir, "j", name)
		write(t, path, data)
		src, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var count [3]int
		err = src.Documents(func(d Document) error {
			got = append(got, string(d.Text))
			count[d.Split]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\x00") != strings.Join(texts, "\x00") {
			t.Errorf("%s: documents differ from the written texts", name)
		}
		if count[Train] < 150 || count[Valid] == 0 || count[Test] == 0 {
			t.Errorf("%s: split counts %v for 200 documents at 5%%/5%%", name, count)
		}
		os.Remove(path)
	}
}

func TestWikiText(t *testing.T) {
	dir := t.TempDir()
	articles := map[string]string{}
	for _, s := range Splits {
		var b strings.Builder
		for i := range 3 {
			title := fmt.Sprintf("%s article %d", s, i)
			body := fmt.Sprintf(" = %s = \n\n Text of %s . \n\n = = Section = = \n\n More @-@ text . \n", title, title)
			articles[title] = body
			b.WriteString(body)
		}
		write(t, filepath.Join(dir, "wiki."+s.String()+".raw"), []byte(b.String()))
	}
	src, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = src.Documents(func(d Document) error {
		n++
		title := d.Name[strings.Index(d.Name, ":")+1:]
		if articles[title] != string(d.Text) {
			return fmt.Errorf("article %q: got %q", title, d.Text)
		}
		if !strings.HasPrefix(title, d.Split.String()) {
			return fmt.Errorf("article %q in split %v", title, d.Split)
		}
		return nil
	})
	if err != nil || n != 9 {
		t.Fatalf("%d articles, err %v", n, err)
	}
}

func TestKeyFollowsContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	write(t, path, []byte("one two three\n"))
	src, _ := Open(path, Options{})
	k1, _ := src.Key()
	k1b, _ := src.Key()
	f1, _ := src.(Fingerprinter).Fingerprint()
	write(t, path, []byte("one two three!\n"))
	k2, _ := src.Key()
	if f2, _ := src.(Fingerprinter).Fingerprint(); f1 == f2 {
		t.Error("fingerprint unchanged after the file changed size")
	}
	src3, _ := Open(path, Options{Fractions: Fractions{Valid: 0.1, Test: 0.1}})
	k3, _ := src3.Key()
	if k1 != k1b || k1 == k2 || k2 == k3 {
		t.Errorf("keys %s %s %s %s: want equal for equal content, different for changed content or split", k1, k1b, k2, k3)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "bad.txt.gz"), []byte("this is not gzip"))
	write(t, filepath.Join(dir, "bad.jsonl.zst"), []byte("this is not zstd either, not at all"))
	good := gz(t, bytes.Repeat([]byte("hello world\n"), 5000))
	write(t, filepath.Join(dir, "trunc.txt.gz"), good[:len(good)/2])
	write(t, filepath.Join(dir, "notext.jsonl"), []byte("{\"text\": \"fine\"}\n{\"body\": \"no text\"}\n"))
	write(t, filepath.Join(dir, "notjson.jsonl"), []byte("{\"text\": \"fine\"}\nnot json\n"))
	write(t, filepath.Join(dir, "num.jsonl"), []byte("{\"text\": 3}\n"))
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	os.MkdirAll(filepath.Join(dir, "wiki"), 0o755)
	write(t, filepath.Join(dir, "wiki", "wiki.train.raw"), []byte(" = A = \n"))

	for _, tc := range []struct {
		path, format string
		want         []string
	}{
		{filepath.Join(dir, "missing.txt"), "", []string{"missing.txt", "no such file"}},
		{filepath.Join(dir, "nothing*.txt"), "", []string{"nothing*.txt", "matches no files"}},
		{filepath.Join(dir, "empty"), "", []string{"empty", "no files"}},
		{filepath.Join(dir, "bad.txt.gz"), "", []string{"bad.txt.gz", "gzip"}},
		{filepath.Join(dir, "bad.jsonl.zst"), "", []string{"bad.jsonl.zst", "zstd"}},
		{filepath.Join(dir, "trunc.txt.gz"), "", []string{"trunc.txt.gz", "gzip"}},
		{filepath.Join(dir, "notext.jsonl"), "", []string{"notext.jsonl", "line 2", `"text"`}},
		{filepath.Join(dir, "notjson.jsonl"), "", []string{"notjson.jsonl", "line 2", "JSON"}},
		{filepath.Join(dir, "num.jsonl"), "", []string{"num.jsonl", "line 1", "not a string"}},
		{filepath.Join(dir, "wiki"), "wikitext", []string{"wiki.valid.raw"}},
		{filepath.Join(dir, "notext.jsonl"), "xml", []string{"xml", "valid formats"}},
	} {
		src, err := Open(tc.path, Options{Format: tc.format})
		if err == nil {
			err = src.Documents(func(Document) error { return nil })
		}
		if err == nil {
			t.Errorf("%s: no error", tc.path)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.path, err, w)
			}
		}
	}
	if err := (Fractions{Valid: 0.6, Test: 0.5}).Validate(); err == nil {
		t.Error("fractions summing above 1 accepted")
	}
}

// Compression is read from the content, not the name; files that are not text are refused by
// name instead of being tokenized.
func TestContentDetection(t *testing.T) {
	dir := t.TempDir()
	text := bytes.Repeat([]byte("the quick brown fox\n"), 400)
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 5000)
	for i := range noise {
		noise[i] = byte(rng.IntN(256))
	}
	var dz bytes.Buffer // dictzip: gzip with an "RA" extra field
	zw := gzip.NewWriter(&dz)
	zw.Header.Extra = []byte{'R', 'A', 6, 0, 1, 0, 0, 0x10, 1, 0}
	zw.Write(text)
	zw.Close()
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), noise...)
	write(t, filepath.Join(dir, "gzip-in.zst"), gz(t, text))
	write(t, filepath.Join(dir, "dict.txt.dz"), dz.Bytes())
	write(t, filepath.Join(dir, "noise.txt"), noise)
	write(t, filepath.Join(dir, "pngdir", "image.png"), png)
	write(t, filepath.Join(dir, "data.xz"), append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, noise[:100]...))
	for _, ok := range []string{"gzip-in.zst", "dict.txt.dz"} {
		src, err := Open(filepath.Join(dir, ok), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := src.Documents(func(d Document) error { got = append(got, d.Text...); return nil }); err != nil || !bytes.Equal(got, text) {
			t.Errorf("%s: %d bytes read (%v), want the %d bytes written", ok, len(got), err, len(text))
		}
	}
	for name, want := range map[string]string{"noise.txt": "not text", "pngdir": "not text", "data.xz": "xz"} {
		src, err := Open(filepath.Join(dir, name), Options{})
		if err == nil {
			err = src.Documents(func(Document) error { return nil })
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Join(dir, name)) {
			t.Errorf("%s: %v, want an error naming the file and %q", name, err, want)
		}
	}
}
