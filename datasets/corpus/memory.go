package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Memory is a corpus held in memory, such as an embedded one.
type Memory struct {
	Label string
	Docs  []Document
}

func (m *Memory) Name() string { return m.Label }

func (m *Memory) Key() (string, error) {
	h := sha256.New()
	for _, d := range m.Docs {
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%t\x00", d.Name, d.Split, len(d.Text), d.Continued)
		h.Write(d.Text)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (m *Memory) Documents(fn func(Document) error) error {
	for _, d := range m.Docs {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// Count returns the number of documents and bytes in each split.
func Count(src Source) (docs, bytes [3]int, err error) {
	err = src.Documents(func(d Document) error {
		if !d.Continued {
			docs[d.Split]++
		}
		bytes[d.Split] += len(d.Text)
		return nil
	})
	return
}
