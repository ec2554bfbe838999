package nbrun

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// fakeKernel is a kernel written on zmq4 for the protocol tests. Code "print X" streams X, "fail"
// raises an error, "wait" runs until an interrupt_request, "die" stops answering everything
// (heartbeat included). It ignores messages whose signature does not match its key and counts
// them.
type fakeKernel struct {
	conn                   Connection
	key                    []byte
	shell, control, iopub  zmq4.Socket
	hb                     zmq4.Socket
	ctx                    context.Context
	cancel                 context.CancelFunc
	mu                     sync.Mutex
	badSignatures, counter int
	interrupt              chan struct{}
	dead                   chan struct{}
	deadOnce               sync.Once
	// deafUntil drops iopub messages published before it, as a PUB socket does while a
	// subscription is still on its way (the slow joiner).
	deafUntil atomic.Int64 // unix nanoseconds
}

func startFake(t *testing.T) *fakeKernel {
	t.Helper()
	conn, err := NewConnection("fake")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &fakeKernel{conn: conn, key: []byte(conn.Key), ctx: ctx, cancel: cancel, interrupt: make(chan struct{}, 1), dead: make(chan struct{}),
		shell: zmq4.NewRouter(ctx), control: zmq4.NewRouter(ctx), iopub: zmq4.NewPub(ctx), hb: zmq4.NewRep(ctx)}
	for _, s := range []struct {
		sock zmq4.Socket
		port int
	}{{k.shell, conn.ShellPort}, {k.control, conn.ControlPort}, {k.iopub, conn.IOPubPort}, {k.hb, conn.HBPort}} {
		if err := s.sock.Listen(conn.addr(s.port)); err != nil {
			t.Fatal(err)
		}
	}
	go k.serve(k.shell)
	go k.serve(k.control)
	go func() {
		for {
			m, err := k.hb.Recv()
			if err != nil {
				return
			}
			select {
			case <-k.dead:
				return // a dead kernel does not answer
			default:
			}
			k.hb.Send(m)
		}
	}()
	t.Cleanup(func() {
		cancel()
		for _, s := range []zmq4.Socket{k.shell, k.control, k.iopub, k.hb} {
			s.Close()
		}
	})
	return k
}

func (k *fakeKernel) reply(sock zmq4.Socket, req Message, msgType string, content any) {
	b, _ := json.Marshal(content)
	z, _ := encode(Message{Identities: req.Identities, Header: newHeader("fake", msgType), Parent: req.Header, Content: b}, k.key)
	sock.Send(z)
}

func (k *fakeKernel) publish(parent Header, msgType string, content any) {
	if time.Now().UnixNano() < k.deafUntil.Load() {
		return
	}
	b, _ := json.Marshal(content)
	z, _ := encode(Message{Identities: [][]byte{[]byte(msgType)}, Header: newHeader("fake", msgType), Parent: parent, Content: b}, k.key)
	k.iopub.Send(z)
}

func (k *fakeKernel) serve(sock zmq4.Socket) {
	for {
		z, err := sock.Recv()
		if err != nil {
			return
		}
		m, err := decode(z, k.key)
		if errors.Is(err, ErrSignature) {
			k.mu.Lock()
			k.badSignatures++
			k.mu.Unlock()
			continue
		}
		if err != nil {
			continue
		}
		select {
		case <-k.dead:
			continue
		default:
		}
		switch m.Header.MsgType {
		case "kernel_info_request":
			// As real kernels do: busy and idle on iopub around every request.
			k.publish(m.Header, "status", map[string]any{"execution_state": "busy"})
			k.reply(sock, m, "kernel_info_reply", map[string]any{"status": "ok", "protocol_version": Version})
			k.publish(m.Header, "status", map[string]any{"execution_state": "idle"})
		case "interrupt_request":
			k.interrupt <- struct{}{}
			k.reply(sock, m, "interrupt_reply", map[string]any{"status": "ok"})
		case "shutdown_request":
			k.reply(sock, m, "shutdown_reply", map[string]any{"status": "ok"})
		case "execute_request":
			go k.execute(sock, m)
		}
	}
}

func (k *fakeKernel) execute(sock zmq4.Socket, m Message) {
	var req struct{ Code string }
	json.Unmarshal(m.Content, &req)
	k.mu.Lock()
	k.counter++
	n := k.counter
	k.mu.Unlock()
	k.publish(m.Header, "status", map[string]any{"execution_state": "busy"})
	status := map[string]any{"status": "ok", "execution_count": n}
	switch {
	case strings.HasPrefix(req.Code, "print "):
		for _, part := range strings.Split(strings.TrimPrefix(req.Code, "print "), ",") {
			k.publish(m.Header, "stream", map[string]any{"name": "stdout", "text": part + "\n"})
		}
		k.publish(m.Header, "display_data", map[string]any{"data": map[string]any{"text/plain": "x", "image/png": "AAAA"},
			"metadata": map[string]any{}, "transient": map[string]any{"display_id": "bar"}})
		k.publish(m.Header, "update_display_data", map[string]any{"data": map[string]any{"text/plain": "done"},
			"metadata": map[string]any{}, "transient": map[string]any{"display_id": "bar"}})
	case req.Code == "fail":
		e := map[string]any{"ename": "panic", "evalue": "boom", "traceback": []string{"\x1b[31mpanic: boom\x1b[0m", "main.go:3"}}
		k.publish(m.Header, "error", e)
		status = map[string]any{"status": "error", "execution_count": n, "ename": "panic", "evalue": "boom", "traceback": e["traceback"]}
	case req.Code == "wait":
		select {
		case <-k.interrupt:
			status = map[string]any{"status": "error", "execution_count": n, "ename": "KeyboardInterrupt", "evalue": "interrupted"}
		case <-k.ctx.Done():
			return
		}
	case req.Code == "die":
		k.deadOnce.Do(func() { close(k.dead) })
		return
	}
	k.publish(m.Header, "status", map[string]any{"execution_state": "idle"})
	k.reply(sock, m, "execute_reply", status)
}

// A kernel whose first iopub messages are lost (the subscription still on its way): KernelInfo
// returns only once iopub carries its status, so the first cell's outputs are not lost.
func TestSlowJoiningIOPub(t *testing.T) {
	k := startFake(t)
	deaf := time.Now().Add(2500 * time.Millisecond)
	k.deafUntil.Store(deaf.UnixNano())
	c, err := Dial(k.conn, nil, "message")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t0 := time.Now()
	if err := c.KernelInfo(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(deaf) {
		t.Fatalf("KernelInfo returned after %v, while iopub was still deaf", time.Since(t0))
	}
	res, err := c.Execute("print a,b", 10*time.Second, nil)
	if err != nil || len(res.Outputs) != 2 {
		t.Fatalf("first cell: %+v, %v; want its two outputs", res, err)
	}
}

func TestProtocolAgainstFakeKernel(t *testing.T) {
	k := startFake(t)
	c, err := Dial(k.conn, nil, "message")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.KernelInfo(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute("print a,b", 10*time.Second, nil)
	if err != nil || res.Status != "ok" || res.ExecutionCount != 1 {
		t.Fatalf("print: %+v, %v", res, err)
	}
	if len(res.Outputs) != 2 || res.Outputs[0]["text"] != "a\nb\n" {
		t.Fatalf("outputs %v: want the two stream parts merged, then the display", res.Outputs)
	}
	if d := res.Outputs[1]["data"].(map[string]any); d["text/plain"] != "done" {
		t.Errorf("update_display_data not applied: %v", d)
	}
	res, err = c.Execute("fail", 10*time.Second, nil)
	if err != nil || res.Status != "error" || res.ErrorName != "panic" || res.Outputs[0]["output_type"] != "error" {
		t.Errorf("fail: %+v, %v", res, err)
	}
	// A timeout interrupts the cell through the control channel.
	t0 := time.Now()
	res, err = c.Execute("wait", 300*time.Millisecond, nil)
	var te ErrTimeout
	if !errors.As(err, &te) || res.ErrorName != "KeyboardInterrupt" || time.Since(t0) > 5*time.Second {
		t.Errorf("wait: %+v, %v after %v", res, err, time.Since(t0))
	}
	// A message signed with another key is ignored by the kernel.
	forged, _ := encode(Message{Header: newHeader("forger", "kernel_info_request"), Content: []byte("{}")}, []byte("not the key"))
	if err := c.shell.Send(forged); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	k.mu.Lock()
	bad := k.badSignatures
	k.mu.Unlock()
	if bad != 1 {
		t.Errorf("kernel saw %d badly signed messages, want 1", bad)
	}
	// A kernel that stops answering is reported dead, through its heartbeat.
	t0 = time.Now()
	_, err = c.Execute("die", 0, nil)
	if err == nil || !strings.Contains(err.Error(), "heartbeat") || time.Since(t0) > 20*time.Second {
		t.Errorf("dead kernel: %v after %v", err, time.Since(t0))
	}
}

func TestWireSignature(t *testing.T) {
	key := []byte("k")
	z, err := encode(Message{Identities: [][]byte{[]byte("id")}, Header: newHeader("s", "x"), Content: []byte(`{"a":1}`)}, key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decode(z, key)
	if err != nil || m.Header.MsgType != "x" || string(m.Identities[0]) != "id" || string(m.Content) != `{"a":1}` {
		t.Fatalf("round trip: %+v, %v", m, err)
	}
	z.Frames[len(z.Frames)-1] = []byte(`{"a":2}`) // tampered content
	if _, err := decode(z, key); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered message: %v, want ErrSignature", err)
	}
	if _, err := decode(zmq4.NewMsgFrom([]byte("x")), key); err == nil {
		t.Error("a message without the delimiter decoded")
	}
}
