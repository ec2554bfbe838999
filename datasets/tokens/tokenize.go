package tokens

import (
	"fmt"
	"runtime"

	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokenizer"
)

// Tokenize tokenizes a corpus in memory. Documents are concatenated in order within each split,
// separated by the tokenizer's end-of-document id when it has one (as GPT-NeoX does).
func Tokenize(src corpus.Source, tok tokenizer.Tokenizer) (*Splits, error) {
	var out [3][]int32
	var docs [3]int
	err := stream(src, tok, func(sp corpus.Split, newDoc bool, ids []int32) error {
		if newDoc {
			docs[sp]++
		}
		out[sp] = append(out[sp], ids...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s := &Splits{Source: src.Name(), Tokenizer: tok.Name(), Vocab: tok.VocabSize(), Docs: docs}
	for i := range out {
		s.Seqs[i] = Slice(out[i])
	}
	return s, s.checkNonEmpty()
}

type piece struct {
	doc  corpus.Document
	done chan struct{}
	ids  []int32
	err  error
}

// stream tokenizes documents on all cores and hands the ids to emit in document order, with the
// end-of-document id before every new document but the first of its split.
func stream(src corpus.Source, tok tokenizer.Tokenizer, emit func(sp corpus.Split, newDoc bool, ids []int32) error) error {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *piece, 2*workers)
	order := make(chan *piece, 2*workers)
	for range workers {
		go func() {
			for p := range jobs {
				p.ids, p.err = tok.Encode(nil, p.doc.Text)
				close(p.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		defer close(jobs)
		defer close(order)
		readErr <- src.Documents(func(d corpus.Document) error {
			p := &piece{doc: d, done: make(chan struct{})}
			select {
			case order <- p:
			case <-stop:
				return errStopped
			}
			jobs <- p
			return nil
		})
	}()
	var seen [3]bool
	var err error
	eod := tok.EOD()
	for p := range order {
		if err != nil {
			continue
		}
		<-p.done
		if p.err != nil {
			err = fmt.Errorf("tokens: %s, document %q: %w", src.Name(), p.doc.Name, p.err)
			close(stop)
			continue
		}
		sp := p.doc.Split
		if sp < corpus.Train || sp > corpus.Test {
			err = fmt.Errorf("tokens: %s, document %q: split %d is invalid", src.Name(), p.doc.Name, sp)
			close(stop)
			continue
		}
		newDoc := !p.doc.Continued
		if newDoc && seen[sp] && eod >= 0 {
			if err = emit(sp, false, []int32{eod}); err != nil {
				close(stop)
				continue
			}
		}
		seen[sp] = true
		if err = emit(sp, newDoc, p.ids); err != nil {
			close(stop)
		}
	}
	if rerr := <-readErr; err == nil && rerr != nil && rerr != errStopped {
		err = rerr
	}
	return err
}

var errStopped = fmt.Errorf("tokens: stopped")
