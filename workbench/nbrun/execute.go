package nbrun

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Output is one nbformat 4 output, as it is written to the notebook.
type Output map[string]any

// Result of one cell.
type Result struct {
	Outputs        []Output
	ExecutionCount int
	Status         string // "ok", "error" or "aborted"
	ErrorName      string
	ErrorValue     string
	Traceback      []string
}

// ErrTimeout is returned by Execute when a cell runs past its timeout (the kernel is interrupted).
type ErrTimeout struct{ After time.Duration }

func (e ErrTimeout) Error() string {
	return fmt.Sprintf("nbrun: the cell ran past its timeout of %v and was interrupted", e.After)
}

// Execute runs code and collects its outputs until the kernel is idle again and has replied.
// Stream text is copied to echo when it is not nil. timeout <= 0 waits without limit.
func (c *Client) Execute(code string, timeout time.Duration, echo io.Writer) (*Result, error) {
	h, err := c.send(c.shell, "execute_request", map[string]any{"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	if err != nil {
		return nil, err
	}
	res := &Result{}
	displays := map[string][]int{} // display_id -> indices of its outputs
	clearPending := false
	idle, replied := false, false
	var limit <-chan time.Time
	if timeout > 0 {
		limit = time.After(timeout)
	}
	var timedOut error
	add := func(o Output, displayID string) {
		if clearPending {
			res.Outputs, displays, clearPending = nil, map[string][]int{}, false
		}
		if o["output_type"] == "stream" && len(res.Outputs) > 0 {
			last := res.Outputs[len(res.Outputs)-1]
			if last["output_type"] == "stream" && last["name"] == o["name"] {
				last["text"] = last["text"].(string) + o["text"].(string)
				return
			}
		}
		if displayID != "" {
			displays[displayID] = append(displays[displayID], len(res.Outputs))
		}
		res.Outputs = append(res.Outputs, o)
	}
	for !(idle && replied) {
		select {
		case m := <-c.iopubCh:
			if m.Parent.MsgID != h.MsgID {
				continue
			}
			var ct map[string]any
			json.Unmarshal(m.Content, &ct)
			displayID := ""
			if tr, ok := ct["transient"].(map[string]any); ok {
				displayID, _ = tr["display_id"].(string)
			}
			switch m.Header.MsgType {
			case "status":
				idle = ct["execution_state"] == "idle"
			case "stream":
				text, _ := ct["text"].(string)
				if echo != nil {
					io.WriteString(echo, text)
				}
				add(Output{"output_type": "stream", "name": ct["name"], "text": text}, "")
			case "display_data":
				add(Output{"output_type": "display_data", "data": orEmpty(ct["data"]), "metadata": orEmpty(ct["metadata"])}, displayID)
			case "update_display_data":
				for _, i := range displays[displayID] {
					res.Outputs[i]["data"], res.Outputs[i]["metadata"] = orEmpty(ct["data"]), orEmpty(ct["metadata"])
				}
			case "execute_result":
				n, _ := ct["execution_count"].(float64)
				add(Output{"output_type": "execute_result", "execution_count": int(n), "data": orEmpty(ct["data"]), "metadata": orEmpty(ct["metadata"])}, displayID)
			case "error":
				add(Output{"output_type": "error", "ename": ct["ename"], "evalue": ct["evalue"], "traceback": orList(ct["traceback"])}, "")
			case "clear_output":
				if w, _ := ct["wait"].(bool); w {
					clearPending = true
				} else {
					res.Outputs, displays = nil, map[string][]int{}
				}
			}
		case m := <-c.shellCh:
			if m.Parent.MsgID != h.MsgID || m.Header.MsgType != "execute_reply" {
				continue
			}
			var rep struct {
				Status         string   `json:"status"`
				ExecutionCount int      `json:"execution_count"`
				EName          string   `json:"ename"`
				EValue         string   `json:"evalue"`
				Traceback      []string `json:"traceback"`
			}
			json.Unmarshal(m.Content, &rep)
			res.Status, res.ExecutionCount = rep.Status, rep.ExecutionCount
			res.ErrorName, res.ErrorValue, res.Traceback = rep.EName, rep.EValue, rep.Traceback
			replied = true
		case <-limit:
			if timedOut != nil { // no reply within 10 s of the interrupt
				return res, timedOut
			}
			timedOut = ErrTimeout{timeout}
			c.Interrupt()
			limit = time.After(10 * time.Second) // for the interrupted cell's reply
		case <-c.dead:
			return res, c.deadErr
		}
	}
	if timedOut != nil {
		return res, timedOut
	}
	return res, nil
}

func orEmpty(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}

func orList(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}

// stream is the text of the result's stream named name.
func (r *Result) stream(name string) string {
	var b strings.Builder
	for _, o := range r.Outputs {
		if o["output_type"] == "stream" && o["name"] == name {
			b.WriteString(o["text"].(string))
		}
	}
	return b.String()
}

// nbformat is the output as nbformat writes it: stream text and text-like data split into
// lines; JSON data and base64 images kept whole.
func (o Output) nbformat() map[string]any {
	out := map[string]any{}
	for k, v := range o {
		out[k] = v
	}
	if t, ok := out["text"].(string); ok {
		out["text"] = lines(t)
	}
	if d, ok := out["data"].(map[string]any); ok {
		nd := map[string]any{}
		for mime, v := range d {
			str, isString := v.(string)
			if isString && (!strings.HasPrefix(mime, "image/") || mime == "image/svg+xml") && !strings.HasSuffix(mime, "json") {
				nd[mime] = lines(str)
			} else {
				nd[mime] = v
			}
		}
		out["data"] = nd
	}
	return out
}
