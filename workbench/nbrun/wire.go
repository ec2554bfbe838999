// Package nbrun executes Jupyter notebooks from Go, as papermill does for Python: it starts the
// kernel named in a notebook's metadata from its installed kernelspec, speaks the Jupyter
// messaging protocol (v5.3, HMAC-SHA256-signed messages over ZeroMQ on 127.0.0.1), runs the
// cells in order with per-cell progress, injects parameters after the cell tagged "parameters",
// and writes the executed notebook (nbformat 4, every output kept) signed as trusted.
package nbrun

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Version is the messaging protocol version the runner speaks.
const Version = "5.3"

const delimiter = "<IDS|MSG>"

// Header is a message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message; Content is kept raw and decoded by the receiver.
type Message struct {
	Identities [][]byte
	Header     Header
	Parent     Header
	Metadata   map[string]any
	Content    json.RawMessage
	Buffers    [][]byte
}

// ErrSignature is returned for a message whose signature does not match the session key.
var ErrSignature = errors.New("nbrun: message signature does not match the session key")

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newHeader is the header of a new message of the session.
func newHeader(session, msgType string) Header {
	return Header{MsgID: newID(), Session: session, Username: "attnbench", Date: time.Now().UTC().Format(time.RFC3339Nano),
		MsgType: msgType, Version: Version}
}

// sign is the HMAC-SHA256 of the four JSON frames, hex-encoded; an empty key signs nothing.
func sign(key []byte, frames ...[]byte) []byte {
	if len(key) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, key)
	for _, f := range frames {
		m.Write(f)
	}
	return []byte(hex.EncodeToString(m.Sum(nil)))
}

// encode returns the wire frames of m signed with key.
func encode(m Message, key []byte) (zmq4.Msg, error) {
	h, err := json.Marshal(m.Header)
	if err != nil {
		return zmq4.Msg{}, err
	}
	var p []byte
	if m.Parent.MsgID == "" {
		p = []byte("{}")
	} else if p, err = json.Marshal(m.Parent); err != nil {
		return zmq4.Msg{}, err
	}
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	meta, err := json.Marshal(md)
	if err != nil {
		return zmq4.Msg{}, err
	}
	content := []byte(m.Content)
	if len(content) == 0 {
		content = []byte("{}")
	}
	frames := append([][]byte{}, m.Identities...)
	frames = append(frames, []byte(delimiter), sign(key, h, p, meta, content), h, p, meta, content)
	frames = append(frames, m.Buffers...)
	return zmq4.NewMsgFrom(frames...), nil
}

// decode parses wire frames and checks their signature against key.
func decode(z zmq4.Msg, key []byte) (Message, error) {
	var m Message
	i := 0
	for ; i < len(z.Frames) && string(z.Frames[i]) != delimiter; i++ {
		m.Identities = append(m.Identities, z.Frames[i])
	}
	if i+6 > len(z.Frames) {
		return m, fmt.Errorf("nbrun: malformed message of %d frames", len(z.Frames))
	}
	sig, h, p, meta, content := z.Frames[i+1], z.Frames[i+2], z.Frames[i+3], z.Frames[i+4], z.Frames[i+5]
	if len(key) > 0 && !hmac.Equal(sig, sign(key, h, p, meta, content)) {
		return m, ErrSignature
	}
	if err := json.Unmarshal(h, &m.Header); err != nil {
		return m, fmt.Errorf("nbrun: message header: %w", err)
	}
	json.Unmarshal(p, &m.Parent)
	json.Unmarshal(meta, &m.Metadata)
	m.Content = append(json.RawMessage(nil), content...)
	m.Buffers = z.Frames[i+6:]
	return m, nil
}
