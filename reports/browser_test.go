package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The end-to-end test of index.html: headless Chromium (Debian's "chromium"
// package) loads the rendered fixture, dumps the DOM, takes a desktop and a phone
// screenshot, and logs console messages and network requests. The page must show
// every scenario, log nothing to the console (it has no scripts, so any console
// message is an error: a blocked resource, a parse error), and fetch nothing but
// itself. Set KALAB_SCREENSHOT_DIR to keep the screenshots.

// findChromium returns the browser to drive: $KALAB_CHROMIUM, or the first of the
// usual names on $PATH.
func findChromium() string {
	if p := os.Getenv("KALAB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// chromium runs one headless browser invocation on url with extra flags and returns
// its stdout and stderr.
func chromium(t *testing.T, bin, url string, extra ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
		"--enable-logging=stderr", "--v=0",
		// Nothing resolves: a page that tried the network would fail loudly.
		"--host-resolver-rules=MAP * ~NOTFOUND",
	}
	args = append(append(args, extra...), url)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	require.NoError(t, err, "chromium %s failed:\n%s", strings.Join(extra, " "), stderr.String())
	return stdout.String(), stderr.String()
}

// consoleLines returns Chromium's log lines of console messages.
func consoleLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, ":CONSOLE") {
			out = append(out, l)
		}
	}
	return out
}

// pageRequests returns the URLs the page (not the browser's own services) asked
// for, from a net log: requests whose network isolation key is the file:// page.
func pageRequests(t *testing.T, netlog string) []string {
	t.Helper()
	b, err := os.ReadFile(netlog)
	require.NoError(t, err)
	var log struct {
		Events []struct {
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(b, &log), "net log is complete JSON")
	seen := map[string]bool{}
	var out []string
	for _, e := range log.Events {
		nik, _ := e.Params["network_isolation_key"].(string)
		url, _ := e.Params["url"].(string)
		if strings.HasPrefix(nik, "file://") && url != "" && !seen[url] {
			seen[url] = true
			out = append(out, url)
		}
	}
	return out
}

func TestIndexHTMLInChromium(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("Chromium not found: install Debian's chromium package (apt-get install -y chromium) or set KALAB_CHROMIUM; .ci/run installs it")
	}
	res := loadFixture(t)
	out := t.TempDir()
	require.NoError(t, Render(res, out, Options{}))
	index, err := filepath.Abs(filepath.Join(out, IndexFile))
	require.NoError(t, err)
	url := "file://" + index

	// 1. The DOM: every scenario is on the page, with its table and figures.
	netlog := filepath.Join(t.TempDir(), "net.json")
	dom, stderr := chromium(t, bin, url, "--dump-dom", "--log-net-log="+netlog)
	assert.Empty(t, consoleLines(stderr), "console messages while loading the page")
	for _, s := range buildView(res, "").Scenarios {
		section := regexp.MustCompile(`(?s)<section class="scenario" id="` + regexp.QuoteMeta(s.Slug) + `"[^>]*>(.*?)</section>`).FindStringSubmatch(dom)
		require.NotNil(t, section, "scenario %q is on the page", s.Name)
		assert.Contains(t, section[1], s.Name)
		assert.Equal(t, 3, strings.Count(section[1], "<img "), "scenario %q shows its three figures", s.Name)
		for _, c := range s.Clients {
			assert.Contains(t, section[1], "<td>"+c.Name, "scenario %q lists client %q", s.Name, c.Name)
		}
	}
	for _, u := range pageRequests(t, netlog) {
		assert.True(t, u == url || strings.HasPrefix(u, "data:"), "the page fetched %s", u)
	}

	// 2. Screenshots, desktop and phone: the page renders (not blank) at both widths.
	keep := os.Getenv("KALAB_SCREENSHOT_DIR")
	for _, shot := range []struct {
		name string
		w, h int
	}{{"desktop", 1280, 2400}, {"phone", 412, 2400}} {
		file := filepath.Join(t.TempDir(), "index-"+shot.name+".png")
		_, stderr := chromium(t, bin, url, "--screenshot="+file, "--window-size="+strconv.Itoa(shot.w)+","+strconv.Itoa(shot.h))
		assert.Empty(t, consoleLines(stderr), "console messages (%s)", shot.name)
		b, err := os.ReadFile(file)
		require.NoError(t, err, "screenshot written (%s)", shot.name)
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		assert.Equal(t, shot.w, img.Bounds().Dx(), shot.name)
		assert.Equal(t, shot.h, img.Bounds().Dy(), shot.name)
		counts := colourCount(img)
		assert.Greater(t, len(counts), 200, "%s screenshot has many colours (text, tables, plots)", shot.name)
		assert.Greater(t, nonWhite(counts), shot.w*shot.h/20, "%s screenshot is not blank", shot.name)
		if keep != "" {
			require.NoError(t, os.MkdirAll(keep, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(keep, filepath.Base(file)), b, 0o644))
		}
		t.Logf("%s screenshot %dx%d, %d bytes, %d colours", shot.name, shot.w, shot.h, len(b), len(counts))
	}
}
