package tokens

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokenizer"
)

// cacheVersion changes whenever the cache layout or the tokenization rules change.
const cacheVersion = 2

// meta is the cache directory's meta.json, written last: a directory without it is incomplete.
type meta struct {
	Version   int    `json:"version"`
	Source    string `json:"source"`
	Key       string `json:"key"`
	Tokenizer string `json:"tokenizer"`
	Vocab     int    `json:"vocab"`
	Counts    [3]int `json:"counts"`
	Docs      [3]int `json:"docs"`
	// CRC32C of each split file, checked with the ids' range at every open.
	Checksums [3]uint32 `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CacheDir is the default cache location: $ATTNBENCH_CACHE, else the user cache directory.
func CacheDir() string {
	if d := os.Getenv("ATTNBENCH_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "attnbench", "tokens")
	}
	return filepath.Join(os.TempDir(), "attnbench-tokens")
}

// Cached returns the tokens of src, tokenizing it once into dir (CacheDir() when dir is "") and
// memory-mapping the result afterwards, so a corpus larger than memory is never loaded whole.
// The cache entry is keyed by the SHA-256 of the corpus content and split settings and by the
// tokenizer; it is written to a temporary directory and renamed into place, so an interrupted
// build leaves no entry behind. An entry that does not match its key or its sizes is an error.
func Cached(src corpus.Source, tok tokenizer.Tokenizer, dir string) (*Splits, error) {
	if dir == "" {
		dir = CacheDir()
	}
	if tok.VocabSize() > 1<<16 {
		return nil, fmt.Errorf("tokens: vocabulary %d of tokenizer %s is above the cache's 65536 ids", tok.VocabSize(), tok.Name())
	}
	key, err := contentKey(src, dir)
	if err != nil {
		return nil, err
	}
	entry := filepath.Join(dir, fmt.Sprintf("%s-%s-v%d", key[:24], tok.Name(), cacheVersion))
	if _, err := os.Stat(filepath.Join(entry, "meta.json")); err == nil {
		return openCache(entry, key, tok)
	}
	if _, err := os.Stat(entry); err == nil {
		// An entry without meta.json is incomplete (entries are renamed into place whole, so
		// something removed it): keep it aside, named, and build the entry again.
		aside := fmt.Sprintf("%s.incomplete-%d", entry, time.Now().UnixNano())
		if err := os.Rename(entry, aside); err != nil {
			return nil, fmt.Errorf("tokens: cache entry %s has no meta.json and cannot be moved aside: %w", entry, err)
		}
		fmt.Fprintf(os.Stderr, "tokens: cache entry %s had no meta.json; moved it to %s and rebuilding\n", entry, aside)
	}
	if err := buildCache(src, tok, key, entry); err != nil {
		return nil, err
	}
	return openCache(entry, key, tok)
}

// contentKey returns src.Key(), remembered under dir/keys by the source's fingerprint when it has
// one, so an unchanged corpus on disk is not read through at every open.
func contentKey(src corpus.Source, dir string) (string, error) {
	fp, ok := src.(corpus.Fingerprinter)
	if !ok {
		return src.Key()
	}
	f, err := fp.Fingerprint()
	if err != nil {
		return "", err
	}
	memo := filepath.Join(dir, "keys", f)
	if b, err := os.ReadFile(memo); err == nil && len(b) == 64 {
		return string(b), nil
	}
	key, err := src.Key()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(memo), 0o755); err == nil {
		if tmp, err := os.CreateTemp(filepath.Dir(memo), ".key-"); err == nil {
			_, werr := tmp.WriteString(key)
			tmp.Close()
			if werr != nil || os.Rename(tmp.Name(), memo) != nil {
				os.Remove(tmp.Name())
			}
		}
	}
	return key, nil
}

func splitFile(dir string, s corpus.Split) string { return filepath.Join(dir, s.String()+".u16") }

func buildCache(src corpus.Source, tok tokenizer.Tokenizer, key, entry string) error {
	if err := os.MkdirAll(filepath.Dir(entry), 0o755); err != nil {
		return fmt.Errorf("tokens: cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(entry), filepath.Base(entry)+".tmp-")
	if err != nil {
		return fmt.Errorf("tokens: cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	var files [3]*os.File
	var ws [3]*bufio.Writer
	for _, s := range corpus.Splits {
		f, err := os.Create(splitFile(tmp, s))
		if err != nil {
			return fmt.Errorf("tokens: cache: %w", err)
		}
		defer f.Close()
		files[s], ws[s] = f, bufio.NewWriterSize(f, 1<<20)
	}
	m := meta{Version: cacheVersion, Source: src.Name(), Key: key, Tokenizer: tok.Name(), Vocab: tok.VocabSize()}
	var buf [2]byte
	err = stream(src, tok, func(sp corpus.Split, newDoc bool, ids []int32) error {
		if newDoc {
			m.Docs[sp]++
		}
		for _, id := range ids {
			binary.LittleEndian.PutUint16(buf[:], uint16(id))
			m.Checksums[sp] = crc32.Update(m.Checksums[sp], castagnoli, buf[:])
			if _, err := ws[sp].Write(buf[:]); err != nil {
				return fmt.Errorf("tokens: cache %s: %w", entry, err)
			}
		}
		m.Counts[sp] += len(ids)
		return nil
	})
	if err != nil {
		return err
	}
	if m.Counts[0]+m.Counts[1]+m.Counts[2] == 0 {
		return fmt.Errorf("tokens: corpus %s is empty", src.Name())
	}
	for _, s := range corpus.Splits {
		if err := ws[s].Flush(); err != nil {
			return fmt.Errorf("tokens: cache: %w", err)
		}
		if err := files[s].Sync(); err != nil {
			return fmt.Errorf("tokens: cache: %w", err)
		}
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o644); err != nil {
		return fmt.Errorf("tokens: cache: %w", err)
	}
	if err := os.Rename(tmp, entry); err != nil {
		if _, statErr := os.Stat(filepath.Join(entry, "meta.json")); statErr == nil {
			return nil // another process built the same entry first
		}
		return fmt.Errorf("tokens: cache: %w", err)
	}
	return nil
}

func openCache(entry, key string, tok tokenizer.Tokenizer) (*Splits, error) {
	mpath := filepath.Join(entry, "meta.json")
	b, err := os.ReadFile(mpath)
	if err != nil {
		return nil, fmt.Errorf("tokens: cache: %w", err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("tokens: cache file %s is corrupt (%v); delete %s to rebuild it", mpath, err, entry)
	}
	switch {
	case m.Version != cacheVersion:
		return nil, fmt.Errorf("tokens: cache file %s is stale: version %d, want %d; delete %s to rebuild it", mpath, m.Version, cacheVersion, entry)
	case m.Key != key:
		return nil, fmt.Errorf("tokens: cache file %s is stale: it holds corpus %s, not %s; delete %s to rebuild it", mpath, m.Key, key, entry)
	case m.Tokenizer != tok.Name() || m.Vocab != tok.VocabSize():
		return nil, fmt.Errorf("tokens: cache file %s is stale: tokenizer %s (vocabulary %d), want %s (%d); delete %s to rebuild it",
			mpath, m.Tokenizer, m.Vocab, tok.Name(), tok.VocabSize(), entry)
	}
	s := &Splits{Source: m.Source, Tokenizer: m.Tokenizer, Vocab: m.Vocab, Docs: m.Docs}
	var maps []func() error
	s.close = func() error {
		for _, c := range maps {
			c()
		}
		return nil
	}
	for _, sp := range corpus.Splits {
		f := splitFile(entry, sp)
		st, err := os.Stat(f)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("tokens: cache entry %s is incomplete: %w; delete it to rebuild it", entry, err)
		}
		if st.Size() != int64(2*m.Counts[sp]) {
			s.Close()
			return nil, fmt.Errorf("tokens: cache file %s is stale or truncated: %d bytes, meta.json says %d tokens (%d bytes); delete %s to rebuild it",
				f, st.Size(), m.Counts[sp], 2*m.Counts[sp], entry)
		}
		if err := verifySplit(f, m.Vocab, m.Checksums[sp], entry); err != nil {
			s.Close()
			return nil, err
		}
		seq, unmap, err := mapU16(f, m.Counts[sp])
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("tokens: cache file %s: %w", f, err)
		}
		maps = append(maps, unmap)
		s.Seqs[sp] = seq
	}
	if err := s.checkNonEmpty(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// verifySplit reads a split file through, checking its CRC32C against meta.json and every id
// against the vocabulary, so that a damaged cache is named and never reaches a graph.
func verifySplit(path string, vocab int, want uint32, entry string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("tokens: cache file %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, 1<<20)
	var sum uint32
	pos := int64(0)
	for {
		n, err := io.ReadFull(r, buf)
		chunk := buf[:n&^1]
		sum = crc32.Update(sum, castagnoli, chunk)
		for i := 0; i+1 < len(chunk); i += 2 {
			if id := int(binary.LittleEndian.Uint16(chunk[i:])); id >= vocab {
				return fmt.Errorf("tokens: cache file %s is damaged: token %d at byte %d is %d, outside the vocabulary of %d; delete %s to rebuild it",
					path, (pos+int64(i))/2, pos+int64(i), id, vocab, entry)
			}
		}
		pos += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("tokens: cache file %s: %w", path, err)
		}
	}
	if sum != want {
		return fmt.Errorf("tokens: cache file %s is damaged: its CRC32C is %08x, meta.json records %08x; delete %s to rebuild it", path, sum, want, entry)
	}
	return nil
}
