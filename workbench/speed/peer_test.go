package speed

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/params"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/workbench/results"
)

// torchOrSkip skips unless /usr/bin/python3 imports torch ($ATTNBENCH_REQUIRE_TORCH=1 makes a
// missing torch a failure, as in CI).
func torchOrSkip(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		if os.Getenv("ATTNBENCH_REQUIRE_TORCH") == "1" {
			t.Fatalf("python3-torch is required here: %v", err)
		}
		t.Skip("no python3-torch")
	}
}

// TestPeerLayersMatchDenseForms runs the peer's self-test: its FFT-RPE and Performer against
// dense O(n^2) forms in float64.
func TestPeerLayersMatchDenseForms(t *testing.T) {
	torchOrSkip(t)
	f, err := os.CreateTemp(t.TempDir(), "peer*.py")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torchPeer)
	f.Close()
	out, err := exec.Command("/usr/bin/python3", f.Name(), "--selftest").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "selftest: ok") {
		t.Fatalf("peer self-test: %v\n%s", err, out)
	}
}

func TestPeerRunsTheSameWork(t *testing.T) {
	torchOrSkip(t)
	kl := posenc.Config{Kind: "kerple_log"}
	c := Config{Variants: []Variant{
		{Name: "softmax", Attention: "softmax", PosEnc: kl},
		{Name: "fftrpe-m16", Attention: "kernelized_rpe", Params: params.Given{"m": 16}, PosEnc: kl},
		{Name: "fftrpe-toeplitz-m16", Attention: "kernelized_rpe", Params: params.Given{"m": 16, "evaluation": "toeplitz"}, PosEnc: kl},
		{Name: "schoenbat-d64", Attention: "schoenbat", Params: params.Given{"features": 64}},
	}, Lengths: []int{17, 32}, Heads: 2, HeadDim: 8, Causal: true, Reps: 1, Backward: true}
	if got := PeerVariants(c); strings.Join(got, ",") != "softmax,fftrpe-m16" {
		t.Fatalf("peer variants %v", got)
	}
	rs, info, err := Peer{MinGFLOPS: -1}.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2*2*2 || info.Torch == "" || info.MatmulGFLOPS <= 0 {
		t.Fatalf("got %d results, info %+v", len(rs), info)
	}
	for _, r := range rs {
		if !strings.HasPrefix(r.Variant, PeerPrefix) || r.MedianS <= 0 || r.Skipped != "" {
			t.Errorf("peer result %+v", r)
		}
	}
	ours := []results.Speed{{Variant: "softmax", N: 17, Mode: "fwd", MedianS: 0.5}, {Variant: "softmax", N: 32, Mode: "fwd", Skipped: "budget"}}
	table := SideBySide(append(ours, rs...), "fwd")
	if !strings.Contains(table, "| softmax |") || strings.Contains(table, "fftrpe-m16 |") || !strings.Contains(table, "skipped") {
		t.Fatalf("side-by-side table:\n%s", table)
	}
	// A BLAS slower than asked for is refused, and the refusal names the rate.
	if _, _, err := (Peer{MinGFLOPS: 1e9}).Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "GFLOP/s") {
		t.Fatalf("slow BLAS: got %v, want a refusal naming the rate", err)
	}
}

// Check reports a peer that cannot run before any measurement: an interpreter that is not
// there, a BLAS below the asked rate; and the version and rate of one that can.
func TestPeerCheck(t *testing.T) {
	if _, err := (Peer{Python: "/nonexistent/python3"}).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "/nonexistent/python3") {
		t.Fatalf("missing interpreter: got %v, want an error naming it", err)
	}
	torchOrSkip(t)
	info, err := Peer{MinGFLOPS: -1}.Check(context.Background())
	if err != nil || info.Torch == "" || !(info.MatmulGFLOPS > 0) || info.Threads < 1 {
		t.Fatalf("check: %+v, %v", info, err)
	}
	if _, err := (Peer{MinGFLOPS: 1e9}).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "GFLOP/s") {
		t.Fatalf("slow BLAS: got %v, want a refusal naming the rate", err)
	}
}

// SideBySide sets our variants against the peer's that run the same work: FFT-RPE held to its
// Toeplitz product against the peer's FFT-RPE; variants the peer lacks are left out.
func TestSideBySideNamesThePeersWork(t *testing.T) {
	rs := []results.Speed{
		{Variant: "fftrpe-m16", N: 64, Mode: "fwd", MedianS: 1},
		{Variant: "fftrpe-toeplitz-m16", N: 64, Mode: "fwd", MedianS: 3},
		{Variant: "schoenbat-d64", N: 64, Mode: "fwd", MedianS: 1},
		{Variant: PeerPrefix + "fftrpe-m16", N: 64, Mode: "fwd", MedianS: 4},
	}
	table := SideBySide(rs, "fwd")
	for _, want := range []string{"| fftrpe-m16 | 1 / 4 (0.25x) |", "| fftrpe-toeplitz-m16 | 3 / 4 (0.75x) |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "schoenbat") {
		t.Errorf("table has a variant the peer lacks:\n%s", table)
	}
	c := Config{Variants: []Variant{{Name: "fftrpe-toeplitz-m64"}, {Name: "fftrpe-m64"}, {Name: "decay-kerple-m64"}, {Name: "softmax"}}}
	if got := strings.Join(PeerVariants(c), ","); got != "fftrpe-m64,softmax" {
		t.Errorf("peer variants %q, want fftrpe-m64,softmax", got)
	}
}
