package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/speed"
)

func benchCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	variants := fs.String("variants", "", "comma-separated variant names (default all: softmax, performer-m64, fftrpe-m16/32/64, fftrpe-toeplitz-m16/64, schoenbat-d64, decay-alibi-m64, decay-kerple-m64, skyformer-l64 when bidirectional)")
	lens := fs.String("lengths", "256,512,1024,2048", "sequence lengths")
	heads := fs.Int("heads", 8, "heads (batch 1: batch x heads = 8 by default)")
	dim := fs.Int("dim", 64, "head dimension")
	bidir := fs.Bool("bidirectional", false, "bidirectional attention (default causal)")
	bwd := fs.Bool("backward", true, "also time forward+backward")
	reps := fs.Int("reps", 3, "timed repetitions (median reported)")
	budget := fs.Duration("time_budget", 60*time.Second, "skip larger sizes of a variant after a call slower than this")
	mem := fs.Float64("mem_budget_mb", 16000, "skip sizes whose extrapolated peak memory exceeds this (MB)")
	out := fs.String("out", "runs/bench", "directory for speed.json and speed.csv")
	peer := fs.String("peer", "", "also run the same work in a peer: torch (Debian's python3-torch, or -python's)")
	python := fs.String("python", "/usr/bin/python3", "the peer's Python interpreter")
	peerDevice := fs.String("peer_device", "cpu", "the peer's device: cpu or cuda")
	peerGFLOPS := fs.Float64("peer_min_gflops", 0, "refuse peer numbers when its float32 matmul is slower than this (GFLOP/s); 0 = 20 on cpu, none on cuda; negative = no check")
	peerThreads := fs.Int("peer_threads", 0, "the peer's CPU threads; 0 = every core")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ls, err := parseInts("lengths", *lens)
	if err != nil {
		return err
	}
	all := speed.Defaults(!*bidir)
	vs := all
	if *variants != "" {
		vs = nil
		for _, name := range splitList(*variants) {
			found := false
			for _, v := range all {
				if v.Name == name {
					vs, found = append(vs, v), true
				}
			}
			if !found {
				var names []string
				for _, v := range all {
					names = append(names, v.Name)
				}
				return fmt.Errorf("bench: variant %q is unknown, valid variants: %s", name, strings.Join(names, ", "))
			}
		}
	}
	if *peer != "" && *peer != "torch" {
		return fmt.Errorf("bench: -peer %q is unknown, valid peers: torch", *peer)
	}
	if *peerDevice != "cpu" && *peerDevice != "cuda" {
		return fmt.Errorf("bench: -peer_device %q is unknown, valid devices: cpu, cuda", *peerDevice)
	}
	choice, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, choice.String())
	cfg := speed.Config{Variants: vs, Lengths: ls, Heads: *heads, HeadDim: *dim, Causal: !*bidir,
		Reps: *reps, Backward: *bwd, TimeBudget: *budget, MemBudgetMB: *mem, Progress: stdout}
	pr := speed.Peer{Python: *python, Device: *peerDevice, MinGFLOPS: *peerGFLOPS, Threads: *peerThreads}
	if *peer != "" {
		// A peer that cannot run is reported now, not after our measurements.
		if _, err := pr.Check(context.Background()); err != nil {
			return fmt.Errorf("bench: -peer torch: %w", err)
		}
	}
	rs, err := speed.Run(choice.Backend, cfg)
	if err != nil {
		return err
	}
	// Ours are written before the peer runs, then again with its results.
	if err := writeSpeed(*out, rs); err != nil {
		return err
	}
	var table string
	if *peer != "" {
		prs, info, err := pr.Run(context.Background(), cfg)
		if err != nil {
			return fmt.Errorf("bench: -peer torch (our results are in %s): %w", *out, err)
		}
		rs = append(rs, prs...)
		table = fmt.Sprintf("Ours (%s) against torch %s on %s %s, %d threads, float32 matmul %.0f GFLOP/s; median seconds, ours / torch (ratio; below 1: ours is faster).\n",
			choice.Backend.Name(), info.Torch, info.Device, info.GPU, info.Threads, info.MatmulGFLOPS)
		for _, mode := range []string{"fwd", "fwdbwd"} {
			table += "\n" + mode + ":\n\n" + speed.SideBySide(rs, mode)
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, "peer.md"), []byte(table), 0o644); err != nil {
			return err
		}
		fmt.Fprint(stdout, "\n"+table)
	}
	if err := writeSpeed(*out, rs); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Skipped != "" {
			fmt.Fprintf(stdout, "%-16s n=%-6d %-6s skipped: %s\n", r.Variant, r.N, r.Mode, r.Skipped)
		}
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "speed.json"))
	return nil
}

// writeSpeed writes speed.json and speed.csv of rs into dir.
func writeSpeed(dir string, rs []results.Speed) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := results.WriteSpeed(filepath.Join(dir, "speed.json"), rs); err != nil {
		return err
	}
	return results.WriteSpeed(filepath.Join(dir, "speed.csv"), rs)
}
