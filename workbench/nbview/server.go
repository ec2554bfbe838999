// Package nbview opens notebooks as a person sees them: a Jupyter server on 127.0.0.1 with a
// token, and headless Chromium driven through ChromeDriver (the W3C WebDriver protocol over HTTP).
// It reports each figure the page renders, with its size, and takes screenshots.
package nbview

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Jupyter is Debian's jupyter command (a pyenv python3 may come first on PATH).
var Jupyter = "/usr/bin/jupyter"

// Server is a Jupyter notebook server serving one directory on 127.0.0.1.
type Server struct {
	URL   string // e.g. http://127.0.0.1:41234
	Token string
	Dir   string
	cmd   *exec.Cmd
	log   *os.File
}

// StartServer starts `jupyter notebook` on a free port of 127.0.0.1 with a random token, serving
// dir, and waits until it answers (at most timeout). Its log goes to logPath.
func StartServer(dir, logPath string, timeout time.Duration) (*Server, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Token: hex.EncodeToString(token), Dir: dir}
	if s.log, err = os.Create(logPath); err != nil {
		return nil, fmt.Errorf("nbview: %w", err)
	}
	s.cmd = exec.Command(Jupyter, "notebook", "--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--port-retries=0", "--allow-root", "--notebook-dir="+dir, "--NotebookApp.token="+s.Token)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.log.Close()
		return nil, fmt.Errorf("nbview: starting %s notebook: %w (install Debian's jupyter-notebook)", Jupyter, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(s.URL + "/api/status?token=" + s.Token)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				go func() { <-exited }()
				return s, nil
			}
		}
		select {
		case err := <-exited:
			s.log.Close()
			return nil, fmt.Errorf("nbview: jupyter notebook exited before answering (%v); log in %s", err, logPath)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("nbview: jupyter notebook did not answer on %s within %s; log in %s", s.URL, timeout, logPath)
		}
	}
}

// NotebookURL is the address of the notebook at path (inside the served directory), token included.
func (s *Server) NotebookURL(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(s.Dir, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("nbview: %s is not under the served directory %s", path, s.Dir)
	}
	return s.URL + "/notebooks/" + filepath.ToSlash(rel) + "?token=" + s.Token, nil
}

// ShutdownKernels stops every kernel the pages started (opening a notebook starts its kernel).
func (s *Server) ShutdownKernels() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/kernels?token="+s.Token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	var kernels []struct{ ID string }
	_ = decodeJSON(resp, &kernels)
	for _, k := range kernels {
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, s.URL+"/api/kernels/"+k.ID+"?token="+s.Token, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

// Close stops the server and its kernels.
func (s *Server) Close() {
	s.ShutdownKernels()
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		time.Sleep(300 * time.Millisecond)
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	s.log.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("nbview: no free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
