package nbrun

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Spec is an installed kernelspec (kernel.json).
type Spec struct {
	Name          string            `json:"-"`
	Dir           string            `json:"-"`
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"` // "signal" (default) or "message"
	Env           map[string]string `json:"env"`
}

// DataDirs are the Jupyter data directories searched for kernels, in Jupyter's order:
// $JUPYTER_PATH, the user's data directory, then the system ones.
func DataDirs() []string {
	var dirs []string
	if p := os.Getenv("JUPYTER_PATH"); p != "" {
		dirs = append(dirs, filepath.SplitList(p)...)
	}
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		dirs = append(dirs, d)
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".local", "share", "jupyter"))
	}
	return append(dirs, "/usr/local/share/jupyter", "/usr/share/jupyter")
}

// FindSpec returns the kernelspec named name from the data directories.
func FindSpec(name string) (*Spec, error) {
	var tried []string
	for _, d := range DataDirs() {
		dir := filepath.Join(d, "kernels", name)
		b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
		if err != nil {
			tried = append(tried, dir)
			continue
		}
		s := &Spec{Name: name, Dir: dir}
		if err := json.Unmarshal(b, s); err != nil {
			return nil, fmt.Errorf("nbrun: kernelspec %s: %w", filepath.Join(dir, "kernel.json"), err)
		}
		if len(s.Argv) == 0 {
			return nil, fmt.Errorf("nbrun: kernelspec %s has an empty argv", filepath.Join(dir, "kernel.json"))
		}
		return s, nil
	}
	return nil, fmt.Errorf("nbrun: kernel %q is not installed; looked in %s (run notebooks/setup.sh)", name, strings.Join(tried, ", "))
}

// Connection is a kernel's connection file.
type Connection struct {
	IP              string `json:"ip"`
	Transport       string `json:"transport"`
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// NewConnection picks five free ports on 127.0.0.1 and a fresh 256-bit HMAC key.
func NewConnection(kernel string) (Connection, error) {
	ports := make([]int, 5)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return Connection{}, fmt.Errorf("nbrun: no free port on 127.0.0.1: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return Connection{IP: "127.0.0.1", Transport: "tcp", ShellPort: ports[0], IOPubPort: ports[1], StdinPort: ports[2],
		ControlPort: ports[3], HBPort: ports[4], Key: newID() + newID(),
		SignatureScheme: "hmac-sha256", KernelName: kernel}, nil
}

func (c Connection) addr(port int) string { return fmt.Sprintf("%s://%s:%d", c.Transport, c.IP, port) }
