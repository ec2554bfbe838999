package memprobe

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Physical returns the machine's memory in bytes from /proc/meminfo, or 16 GiB where it cannot
// be read.
func Physical() float64 {
	f, err := os.Open("/proc/meminfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				fields := strings.Fields(rest)
				if kb, err := strconv.ParseFloat(fields[0], 64); err == nil && len(fields) > 0 {
					return kb * 1024
				}
			}
		}
	}
	return 16 << 30
}
