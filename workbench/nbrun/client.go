package nbrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Client is a connection to a running kernel.
type Client struct {
	conn    Connection
	key     []byte
	session string
	ctx     context.Context
	cancel  context.CancelFunc

	shell, control, hb, iopub zmq4.Socket
	iopubCh                   chan Message
	shellCh                   chan Message
	dead                      chan struct{} // closed when the heartbeat is lost or the process ends
	deadErr                   error
	deadOnce                  sync.Once

	cmd           *exec.Cmd
	interruptMode string
	cleanup       func()
}

// Dial connects to the kernel of conn; process, when set, is the kernel's process (interrupts
// by signal, and its exit marks the kernel dead).
func Dial(conn Connection, process *exec.Cmd, interruptMode string) (*Client, error) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{conn: conn, key: []byte(conn.Key), session: newID(), ctx: ctx, cancel: cancel,
		iopubCh: make(chan Message, 1024), shellCh: make(chan Message, 16), dead: make(chan struct{}), cmd: process, interruptMode: interruptMode}
	c.shell, c.control = zmq4.NewDealer(ctx), zmq4.NewDealer(ctx)
	c.hb, c.iopub = zmq4.NewReq(ctx), zmq4.NewSub(ctx)
	for _, s := range []struct {
		sock zmq4.Socket
		port int
	}{{c.shell, conn.ShellPort}, {c.control, conn.ControlPort}, {c.hb, conn.HBPort}, {c.iopub, conn.IOPubPort}} {
		if err := dialRetry(ctx, s.sock, conn.addr(s.port)); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		c.Close()
		return nil, err
	}
	go c.pump(c.iopub, c.iopubCh)
	go c.pump(c.shell, c.shellCh)
	go c.heartbeat()
	if process != nil {
		go func() {
			err := process.Wait()
			c.die(fmt.Errorf("nbrun: the kernel process exited (%v)", err))
		}()
	}
	return c, nil
}

// dialRetry dials until the kernel listens, for up to 30 s.
func dialRetry(ctx context.Context, s zmq4.Socket, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.Dial(addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("nbrun: connecting to the kernel at %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Client) die(err error) {
	c.deadOnce.Do(func() {
		c.deadErr = err
		close(c.dead)
	})
}

// pump decodes the messages of a socket onto ch; messages with a bad signature are dropped.
func (c *Client) pump(s zmq4.Socket, ch chan Message) {
	for {
		z, err := s.Recv()
		if err != nil {
			return
		}
		m, err := decode(z, c.key)
		if err != nil {
			continue // ErrSignature: not from our kernel
		}
		select {
		case ch <- m:
		case <-c.ctx.Done():
			return
		}
	}
}

// heartbeat pings the kernel every second; three missed replies mark it dead.
func (c *Client) heartbeat() {
	missed := 0
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(time.Second):
		}
		reply := make(chan error, 1)
		go func() {
			if err := c.hb.Send(zmq4.NewMsgString("ping")); err != nil {
				reply <- err
				return
			}
			_, err := c.hb.Recv()
			reply <- err
		}()
		select {
		case err := <-reply:
			if err == nil {
				missed = 0
				continue
			}
			missed++
		case <-time.After(3 * time.Second):
			missed = 3
		case <-c.ctx.Done():
			return
		}
		if missed >= 3 {
			c.die(errors.New("nbrun: the kernel stopped answering its heartbeat"))
			return
		}
	}
}

// send sends a request of msgType with content on s and returns its header.
func (c *Client) send(s zmq4.Socket, msgType string, content any) (Header, error) {
	b, err := json.Marshal(content)
	if err != nil {
		return Header{}, err
	}
	h := newHeader(c.session, msgType)
	z, err := encode(Message{Header: h, Content: b}, c.key)
	if err != nil {
		return h, err
	}
	return h, s.Send(z)
}

// KernelInfo waits until the kernel answers kernel_info_request and its iopub messages arrive:
// a SUB socket misses what is published before its subscription reaches the kernel, so the request
// is repeated every second until iopub carries the kernel's status for one of them (as
// jupyter_client's wait_for_ready does).
func (c *Client) KernelInfo(timeout time.Duration) error {
	deadline := time.After(timeout)
	sent := map[string]bool{}
	replied := false
	for {
		h, err := c.send(c.shell, "kernel_info_request", map[string]any{})
		if err != nil {
			return err
		}
		sent[h.MsgID] = true
		retry := time.After(time.Second)
		for waiting := true; waiting; {
			select {
			case m := <-c.shellCh:
				replied = replied || (sent[m.Parent.MsgID] && m.Header.MsgType == "kernel_info_reply")
			case m := <-c.iopubCh:
				if sent[m.Parent.MsgID] && replied {
					return nil // later messages of these requests are dropped by Execute's parent check
				}
			case <-retry:
				waiting = false
			case <-deadline:
				return fmt.Errorf("nbrun: the kernel did not answer kernel_info_request within %v", timeout)
			case <-c.dead:
				return c.deadErr
			}
		}
	}
}

// Interrupt interrupts the running cell: by SIGINT to the kernel process, or with an
// interrupt_request on the control channel for kernels with interrupt_mode "message".
func (c *Client) Interrupt() error {
	if c.interruptMode != "message" && c.cmd != nil && c.cmd.Process != nil {
		return c.cmd.Process.Signal(syscall.SIGINT)
	}
	_, err := c.send(c.control, "interrupt_request", map[string]any{})
	return err
}

// Shutdown asks the kernel to stop, waits up to grace, then ends its process.
func (c *Client) Shutdown(grace time.Duration) {
	if c.cmd != nil && c.cmd.Process != nil {
		killTree(c.cmd.Process.Pid, false) // a cell still running (after a timeout) first
	}
	c.send(c.control, "shutdown_request", map[string]any{"restart": false})
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.dead:
		case <-time.After(grace):
		}
		killTree(c.cmd.Process.Pid, true)
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	}
	c.Close()
}

// Kill ends the kernel and its cell programs at once; a call waiting on the kernel returns err.
func (c *Client) Kill(err error) {
	if c.cmd != nil && c.cmd.Process != nil {
		killTree(c.cmd.Process.Pid, true)
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	}
	c.die(err)
}

// Close closes the sockets.
func (c *Client) Close() {
	c.cancel()
	if c.cleanup != nil {
		c.cleanup()
	}
	for _, s := range []zmq4.Socket{c.shell, c.control, c.hb, c.iopub} {
		if s != nil {
			s.Close()
		}
	}
}

// Start launches the kernel of spec in the directory cwd with a new connection file, its stderr
// and stdout appended to logPath, and connects to it.
func Start(spec *Spec, cwd, logPath string, env []string) (*Client, error) {
	conn, err := NewConnection(spec.Name)
	if err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(conn, "", "  ")
	cf, err := os.CreateTemp("", "attnbench-kernel-*.json")
	if err != nil {
		return nil, fmt.Errorf("nbrun: connection file: %w", err)
	}
	cf.Write(b)
	cf.Close()
	argv := make([]string, len(spec.Argv))
	for i, a := range spec.Argv {
		argv[i] = strings.ReplaceAll(strings.ReplaceAll(a, "{connection_file}", cf.Name()), "{resource_dir}", spec.Dir)
	}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("nbrun: kernel log: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = cwd
	cmd.Env = env
	for k, v := range spec.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("nbrun: starting kernel %s (%s): %w", spec.Name, argv[0], err)
	}
	c, err := Dial(conn, cmd, spec.InterruptMode)
	if err != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		os.Remove(cf.Name())
		log.Close()
		return nil, err
	}
	c.cleanup = func() { os.Remove(cf.Name()); log.Close() }
	return c, nil
}

// killTree sends SIGKILL to every descendant of pid, then, with root, to pid: a kernel's cell
// programs (GoNB runs each cell as a child process, in its own process group) must not outlive
// it, nor go on running after their cell timed out.
func killTree(pid int, root bool) {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command, which is in parentheses and may hold spaces.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	var kill func(p int)
	kill = func(p int) {
		for _, c := range children[p] {
			kill(c)
		}
		if p != pid || root {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
	kill(pid)
}
