package nbview

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Chromium and ChromeDriver are Debian's chromium and chromium-driver.
var (
	Chromium     = "/usr/bin/chromium"
	ChromeDriver = "/usr/bin/chromedriver"
)

// Browser is one headless Chromium session driven by ChromeDriver.
type Browser struct {
	driver  *exec.Cmd
	url     string // ChromeDriver's address
	session string
	profile string
}

// StartBrowser starts ChromeDriver on a free port of 127.0.0.1 and opens a headless Chromium
// window of width x height pixels with a fresh profile. Chromium runs without background
// networking, so it makes no connection beyond 127.0.0.1.
func StartBrowser(width, height int, logPath string) (*Browser, error) {
	for _, p := range []string{Chromium, ChromeDriver} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("nbview: %s is missing (install Debian's chromium and chromium-driver)", p)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "nbview-chromium-")
	if err != nil {
		return nil, err
	}
	b := &Browser{url: fmt.Sprintf("http://127.0.0.1:%d", port), profile: profile}
	b.driver = exec.Command(ChromeDriver, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1", "--log-path="+logPath)
	b.driver.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.driver.Start(); err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("nbview: starting %s: %w", ChromeDriver, err)
	}
	go func() { _ = b.driver.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status struct{ Ready bool }
		if err := b.call(http.MethodGet, "/status", nil, &status); err == nil && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			b.Close()
			return nil, fmt.Errorf("nbview: %s did not answer on %s within 20s; log in %s", ChromeDriver, b.url, logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--hide-scrollbars", fmt.Sprintf("--window-size=%d,%d", width, height), "--user-data-dir=" + profile}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome", "goog:chromeOptions": map[string]any{"binary": Chromium, "args": args}}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(http.MethodPost, "/session", caps, &created); err != nil {
		b.Close()
		return nil, fmt.Errorf("nbview: opening Chromium: %w", err)
	}
	b.session = created.SessionID
	return b, nil
}

// Open navigates to url and waits for the page to load.
func (b *Browser) Open(url string) error {
	return b.call(http.MethodPost, b.path("/url"), map[string]any{"url": url}, nil)
}

// Eval runs a JavaScript function body in the page and decodes its return value into out.
func (b *Browser) Eval(script string, out any) error {
	return b.call(http.MethodPost, b.path("/execute/sync"), map[string]any{"script": script, "args": []any{}}, out)
}

// Screenshot returns a PNG of the page, height CSS pixels tall (0: the window's height), through
// the DevTools protocol: the viewport is made that tall for the capture.
func (b *Browser) Screenshot(height int) ([]byte, error) {
	if height > 0 {
		var size struct{ Width int }
		if err := b.Eval("return {width: window.innerWidth}", &size); err != nil {
			return nil, err
		}
		if err := b.cdp("Emulation.setDeviceMetricsOverride", map[string]any{
			"width": size.Width, "height": min(height, 30000), "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
			return nil, err
		}
		defer b.cdp("Emulation.clearDeviceMetricsOverride", map[string]any{}, nil)
	}
	var shot struct{ Data string }
	if err := b.cdp("Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(shot.Data)
}

// cdp sends one DevTools protocol command through ChromeDriver.
func (b *Browser) cdp(cmd string, params map[string]any, out any) error {
	return b.call(http.MethodPost, b.path("/goog/cdp/execute"), map[string]any{"cmd": cmd, "params": params}, out)
}

// Close ends the session, ChromeDriver and Chromium, and removes the profile.
func (b *Browser) Close() {
	if b.session != "" {
		_ = b.call(http.MethodDelete, b.path(""), nil, nil)
	}
	if b.driver.Process != nil {
		_ = syscall.Kill(-b.driver.Process.Pid, syscall.SIGKILL)
	}
	os.RemoveAll(b.profile)
}

func (b *Browser) path(p string) string { return "/session/" + b.session + p }

// call sends one WebDriver command and decodes the "value" of its answer.
func (b *Browser) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := decodeJSON(resp, &answer); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		_ = json.Unmarshal(answer.Value, &e)
		return fmt.Errorf("webdriver %s %s: %s: %s", method, path, e.Error, firstLine(e.Message))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(answer.Value, out)
}

func decodeJSON(resp *http.Response, out any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s answered %s, not JSON: %.200s", resp.Request.URL.Host, resp.Status, b)
	}
	return nil
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
