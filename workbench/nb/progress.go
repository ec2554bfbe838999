package nb

import (
	"github.com/attnbench/attnbench/workbench/results"

	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
)

// ProgressBar returns an OnStep callback that shows a progress bar with the loss and tokens/s:
// an HTML block updated in place inside a GoNB notebook, a line redrawn with \r on a terminal,
// and nothing elsewhere (use Options.Progress for log lines).
func ProgressBar(name string, total int, w io.Writer) func(results.Metric) {
	const width = 30
	var last time.Time
	id := ""
	if gonbui.IsNotebook {
		id = "attnbench-progress-" + gonbui.UniqueID()
	}
	tty := IsTerminal(w)
	return func(m results.Metric) {
		done := m.Step >= total || m.Diverged
		if !done && time.Since(last) < 200*time.Millisecond {
			return
		}
		last = time.Now()
		frac := min(float64(m.Step)/float64(max(total, 1)), 1)
		state := ""
		if m.Diverged {
			state = " DIVERGED"
		}
		text := fmt.Sprintf("%s %d/%d  loss %.4f  %.0f tokens/s%s", name, m.Step, total, float64(m.Loss), float64(m.TokensPS), state)
		switch {
		case id != "":
			gonbui.UpdateHTML(id, fmt.Sprintf(
				`<div style="font-family:monospace"><progress value="%d" max="%d" style="width:20em"></progress> %s</div>`,
				m.Step, total, html.EscapeString(text)))
		case tty:
			n := int(frac * width)
			fmt.Fprintf(w, "\r[%s%s] %s\x1b[K", strings.Repeat("#", n), strings.Repeat("-", width-n), text)
			if done {
				fmt.Fprintln(w)
			}
		}
	}
}

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
