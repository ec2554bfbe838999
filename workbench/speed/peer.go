package speed

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/attnbench/attnbench/workbench/results"
)

//go:embed peer/torch_peer.py
var torchPeer []byte

// PeerPrefix starts the variant names of the peer's results ("torch:softmax").
const PeerPrefix = "torch:"

// Peer runs the harness's work in PyTorch (peer/torch_peer.py): softmax attention with the
// KERPLE-log bias (F.scaled_dot_product_attention where it exists), FFT-RPE by torch.fft and
// Performer, with the shapes of Config.
type Peer struct {
	Python string // interpreter; default /usr/bin/python3 (Debian's python3-torch)
	Device string // "cpu" (default) or "cuda"
	// MinGFLOPS refuses to report when a float32 1024^3 matmul runs slower (a reference BLAS, not
	// OpenBLAS); default 20 on the CPU, 0 on a GPU, negative for no check.
	MinGFLOPS float64
	Threads   int // CPU threads; 0 = every core
}

// PeerInfo is what the peer reports about itself.
type PeerInfo struct {
	Torch        string  `json:"torch"`
	Device       string  `json:"device"`
	GPU          string  `json:"gpu,omitempty"`
	Threads      int     `json:"threads"`
	MatmulGFLOPS float64 `json:"matmul_gflops"`
	Python       string  `json:"python"`
}

var peerVariant = regexp.MustCompile(`^(softmax|fftrpe(-toeplitz)?-m[0-9]+|performer-m[0-9]+)$`)

// peerName is the peer's variant that runs the work of ours: fftrpe-toeplitz-mM (our FFT-RPE
// held to its Toeplitz product) is measured against the peer's fftrpe-mM, which always runs
// the FFT; "" where the peer has none.
func peerName(v string) string {
	if !peerVariant.MatchString(v) {
		return ""
	}
	return strings.Replace(v, "fftrpe-toeplitz-", "fftrpe-", 1)
}

// PeerVariants returns the peer's variants that run the work of c's variants, each once.
func PeerVariants(c Config) []string {
	var names []string
	for _, v := range c.Variants {
		if p := peerName(v.Name); p != "" && !slices.Contains(names, p) {
			names = append(names, p)
		}
	}
	return names
}

// Check starts the peer without measuring anything: torch imports, and its float32 matmul is
// at least MinGFLOPS. Run it before a long measurement of ours, so that a missing or slow peer is
// reported before that work rather than after it.
func (p Peer) Check(ctx context.Context) (PeerInfo, error) {
	p = p.withDefaults()
	info, _, err := p.exec(ctx, nil, []string{"--check", "--device", p.Device, "--threads", strconv.Itoa(p.Threads),
		"--min_gflops", strconv.FormatFloat(p.MinGFLOPS, 'g', -1, 64)})
	return info, err
}

// Run measures c's variants that the peer implements; their names get PeerPrefix.
func (p Peer) Run(ctx context.Context, c Config) ([]results.Speed, PeerInfo, error) {
	if err := c.defaults(); err != nil {
		return nil, PeerInfo{}, err
	}
	p = p.withDefaults()
	names := PeerVariants(c)
	if len(names) == 0 {
		return nil, PeerInfo{}, fmt.Errorf("speed: peer: none of the variants is one the peer implements (softmax, fftrpe-mM, performer-mM)")
	}
	var lens []string
	for _, n := range c.Lengths {
		lens = append(lens, strconv.Itoa(n))
	}
	b2i := func(b bool) string { return map[bool]string{false: "0", true: "1"}[b] }
	args := []string{"--variants", strings.Join(names, ","), "--lengths", strings.Join(lens, ","),
		"--batch", strconv.Itoa(c.Batch), "--heads", strconv.Itoa(c.Heads), "--dim", strconv.Itoa(c.HeadDim),
		"--causal", b2i(c.Causal), "--backward", b2i(c.Backward), "--warmup", strconv.Itoa(c.Warmup), "--reps", strconv.Itoa(c.Reps),
		"--device", p.Device, "--threads", strconv.Itoa(p.Threads), "--min_gflops", strconv.FormatFloat(p.MinGFLOPS, 'g', -1, 64)}
	if c.TimeBudget > 0 {
		args = append(args, "--time_budget", strconv.FormatFloat(c.TimeBudget.Seconds(), 'g', -1, 64))
	}
	info, rs, err := p.exec(ctx, c.Progress, args)
	if err != nil {
		return nil, PeerInfo{}, err
	}
	for i := range rs {
		rs[i].Variant = PeerPrefix + rs[i].Variant
	}
	return rs, info, nil
}

func (p Peer) withDefaults() Peer {
	if p.Python == "" {
		p.Python = "/usr/bin/python3"
	}
	if p.Device == "" {
		p.Device = "cpu"
	}
	if p.MinGFLOPS == 0 && p.Device == "cpu" {
		p.MinGFLOPS = 20
	}
	return p
}

// exec runs the peer script with args and --out, and reads what it wrote.
func (p Peer) exec(ctx context.Context, progress io.Writer, args []string) (PeerInfo, []results.Speed, error) {
	dir, err := os.MkdirTemp("", "attnbench-peer")
	if err != nil {
		return PeerInfo{}, nil, err
	}
	defer os.RemoveAll(dir)
	script, out := filepath.Join(dir, "torch_peer.py"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(script, torchPeer, 0o644); err != nil {
		return PeerInfo{}, nil, err
	}
	cmd := exec.CommandContext(ctx, p.Python, append(append([]string{script}, args...), "--out", out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if progress != nil {
		cmd.Stderr = io.MultiWriter(&stderr, progress)
	}
	if err := cmd.Run(); err != nil {
		if last := lastLine(stderr.String()); last != "" {
			return PeerInfo{}, nil, fmt.Errorf("speed: peer %s: %v: %s", p.Python, err, last)
		}
		return PeerInfo{}, nil, fmt.Errorf("speed: peer %s: %v", p.Python, err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return PeerInfo{}, nil, fmt.Errorf("speed: peer wrote no results: %w", err)
	}
	var res struct {
		Info    PeerInfo        `json:"info"`
		Results []results.Speed `json:"results"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return PeerInfo{}, nil, fmt.Errorf("speed: peer results: %w", err)
	}
	return res.Info, res.Results, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// SideBySide is a Markdown table of each variant's median time against the peer's at every
// length of one mode: "ours / torch (ratio)", ratio = ours / torch (below 1: ours is faster).
func SideBySide(rs []results.Speed, mode string) string {
	type key struct {
		v string
		n int
	}
	at := map[key]results.Speed{}
	peer := map[string]bool{}
	var variants []string
	var lengths []int
	for _, r := range rs {
		if r.Mode != mode {
			continue
		}
		at[key{r.Variant, r.N}] = r
		if name, ok := strings.CutPrefix(r.Variant, PeerPrefix); ok {
			peer[name] = true
		} else if !slices.Contains(variants, r.Variant) {
			variants = append(variants, r.Variant)
		}
		if !slices.Contains(lengths, r.N) {
			lengths = append(lengths, r.N)
		}
	}
	slices.Sort(lengths)
	var b strings.Builder
	b.WriteString("| variant |")
	for _, n := range lengths {
		fmt.Fprintf(&b, " n=%d |", n)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(lengths)) + "\n")
	for _, v := range variants {
		pv := peerName(v)
		if !peer[pv] {
			continue
		}
		fmt.Fprintf(&b, "| %s |", v)
		for _, n := range lengths {
			ours, ok1 := at[key{v, n}]
			theirs, ok2 := at[key{PeerPrefix + pv, n}]
			switch {
			case !ok1 || !ok2:
				b.WriteString(" |")
			case ours.Skipped != "" || theirs.Skipped != "":
				fmt.Fprintf(&b, " %s / %s |", cell(ours), cell(theirs))
			default:
				fmt.Fprintf(&b, " %.3g / %.3g (%.2fx) |", ours.MedianS, theirs.MedianS, ours.MedianS/theirs.MedianS)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func cell(r results.Speed) string {
	if r.Skipped != "" {
		return "skipped"
	}
	return strconv.FormatFloat(r.MedianS, 'g', 3, 64)
}
