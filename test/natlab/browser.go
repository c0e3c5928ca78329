//go:build linux

package natlab

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Browser is headless Chromium on a lab phone host, running one of the
// lab's test pages (testdata/browser) served by the test itself. The page
// reports what happens as JSON events ({"msg": ..., fields}), which the
// test awaits, and takes commands ("hangup") from the test.
type Browser struct {
	*Proc
	// Events holds every event the page reported, in order.
	Events *LogWatcher
	page   *pageServer
}

// BrowserOptions choose the page and what the browser trusts.
type BrowserOptions struct {
	// Page is a file under testdata/browser ("harness.html", "call.html").
	Page string
	// Params are the page's query parameters: what it does.
	Params url.Values
	// TrustSPKI are base64 SHA-256 hashes of public keys whose certificates
	// Chromium accepts although no CA signed them (LabCert.SPKIHash).
	TrustSPKI []string
}

// chromiumFlags make headless Chromium a lab phone: no sandbox (it runs as
// root in a namespace), a fake microphone (a beep; getUserMedia grants it
// without asking), and none of its own traffic to the outside world.
var chromiumFlags = []string{
	"--headless=new", "--no-sandbox", "--disable-gpu",
	"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
	"--no-first-run", "--no-default-browser-check", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--disable-extensions",
	"--autoplay-policy=no-user-gesture-required",
	// Console messages (the page's and JsSIP's debug log) go to its log.
	"--enable-logging=stderr", "--v=0",
}

// StartBrowser serves the lab's pages on the loopback of the phone host
// lan, opens o.Page there in Chromium and waits until the page reports
// "loaded". http://127.0.0.1 is a secure context: getUserMedia and
// RTCPeerConnection work without TLS for the page itself.
func (l *Lab) StartBrowser(t *testing.T, lan PhoneLAN, o BrowserOptions) *Browser {
	t.Helper()
	b := &Browser{Events: NewLogWatcher()}
	b.page = l.startPageServer(t, lan.Role, b.Events)
	dir := filepath.Join(l.Dir, "chromium-"+strings.TrimSuffix(o.Page, ".html"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u := "http://" + b.page.addr + "/" + o.Page
	if len(o.Params) > 0 {
		u += "?" + o.Params.Encode()
	}
	argv := append([]string{"chromium"}, chromiumFlags...)
	// The SPKI list only counts with a --user-data-dir of its own.
	argv = append(argv, "--user-data-dir="+dir)
	if len(o.TrustSPKI) > 0 {
		argv = append(argv, "--ignore-certificate-errors-spki-list="+strings.Join(o.TrustSPKI, ","))
	}
	b.Proc = l.Start(t, lan.Role, "chromium", append(argv, u)...)
	b.Await(t, startBound, "the page loaded", "loaded")
	return b
}

// Await waits for the page's event msg and returns it. It fails at once
// when the page reports one of failOn instead (quoting it), an "error"
// (an exception, a rejected promise), or Chromium exits, and after
// timeout; a failure lists the page's last events.
func (b *Browser) Await(t *testing.T, timeout time.Duration, what, msg string, failOn ...string) LogEntry {
	t.Helper()
	return b.AwaitFunc(t, timeout, what, func(e LogEntry) bool { return e.Msg() == msg }, failOn...)
}

// AwaitFunc waits for an event that match accepts, with Await's failures.
func (b *Browser) AwaitFunc(t *testing.T, timeout time.Duration, what string, match func(LogEntry) bool, failOn ...string) LogEntry {
	t.Helper()
	failOn = append(failOn, "error")
	e := awaitEntry(t, b.Events, b.Proc, time.Time{}, timeout, "the browser page", what,
		func(e LogEntry) bool { return match(e) || slices.Contains(failOn, e.Msg()) })
	if !match(e) {
		t.Fatalf("the browser page: not %s: it reported %q first: %s", what, e.Msg(), e.Raw)
	}
	return e
}

// Command hands the page a command (it asks for the next one with GET
// /command and acts on it).
func (b *Browser) Command(t *testing.T, cmd string) {
	t.Helper()
	select {
	case b.page.commands <- cmd:
	default:
		t.Fatalf("the browser page has %d commands it did not take yet; %q not queued", cap(b.page.commands), cmd)
	}
}

// Num reads a number an event carries at path ("inbound", "packetsReceived");
// ok is false when it has none there.
func Num(e LogEntry, path ...string) (float64, bool) {
	var v any = e.Attrs
	for _, k := range path {
		m, isMap := v.(map[string]any)
		if !isMap {
			return 0, false
		}
		v = m[k]
	}
	f, ok := v.(float64)
	return f, ok
}
