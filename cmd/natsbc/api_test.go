package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

const apiToken = "test-token-0123456789"

// apiConfig is a whole configuration: natsbc on loopback with the admin
// API, and extra YAML after it.
func apiConfig(sipPort, adminPort int, extra string) string {
	return fmt.Sprintf(`listen:
  - name: main
    address: 127.0.0.1:%d
    transport: udp
registrations:
  state_file: ""
media:
  anchor: false
admin:
  listen: 127.0.0.1:%d
  token: %s
`, sipPort, adminPort, apiToken) + extra
}

// ctlRun runs `natsbc ctl` against addr and returns its exit code and
// what it printed.
func ctlRun(addr string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := ctl(append([]string{"--admin", addr, "--token", apiToken}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// Issue 13, items 4 and 5: the admin API answers only with the token;
// `natsbc ctl` shows calls, bindings, version, drains; a reload takes a new
// peer and log level, names what needs a restart, and a bad file changes
// nothing and names file:line:column.
func TestAdminAPIAndReload(t *testing.T) {
	sipPort, adminPort := freePort(t, "udp"), freePort(t, "tcp")
	file := filepath.Join(t.TempDir(), "natsbc.yaml")
	if err := os.WriteFile(file, []byte(apiConfig(sipPort, adminPort, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := options{configFile: file}
	cfg, err := loadConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	level := new(slog.LevelVar)
	level.Set(cfg.LogLevel())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, opts, cfg, nil, level, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", adminPort)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, _ := ctlRun(addr, "version")
		if code == exitOK {
			if !strings.HasPrefix(out, "natsbc ") {
				t.Fatalf("ctl version: %q", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the admin API did not come up")
		}
		time.Sleep(10 * time.Millisecond) // natsbc is starting: nothing to await but its port
	}

	res, err := http.Get("http://" + addr + "/api/v1/calls")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %s, want 401", res.Status)
	}
	var wrong bytes.Buffer
	if code := ctl([]string{"--admin", addr, "--token", "wrong-token-0123456", "calls"}, &wrong, &wrong); code != exitFailure || !strings.Contains(wrong.String(), "HTTP 401") {
		t.Fatalf("a wrong token: exit %d, %q", code, wrong.String())
	}

	if code, out, _ := ctlRun(addr, "calls"); code != exitOK || !strings.Contains(out, "A-LEG CALL-ID") || !strings.Contains(out, "0 calls") {
		t.Fatalf("ctl calls: %d %q", code, out)
	}
	if code, out, _ := ctlRun(addr, "bindings"); code != exitOK || !strings.Contains(out, "0 bindings") {
		t.Fatalf("ctl bindings: %d %q", code, out)
	}
	if code, _, errs := ctlRun(addr, "hangup", "nope@x"); code != exitFailure || !strings.Contains(errs, "no call has a leg with Call-ID nope@x (HTTP 404)") {
		t.Fatalf("ctl hangup of no call: %d %q", code, errs)
	}
	if code, out, _ := ctlRun(addr, "drain"); code != exitOK || out != "draining: true\n" {
		t.Fatalf("ctl drain: %d %q", code, out)
	}
	if code, out, _ := ctlRun(addr, "undrain"); code != exitOK || out != "draining: false\n" {
		t.Fatalf("ctl undrain: %d %q", code, out)
	}

	// A new peer, a new log level, and a new socket (a restart's).
	withPeer := strings.Replace(apiConfig(sipPort, adminPort, `log:
  level: debug
peers:
  - name: pbx2
    address: 127.0.0.1:5099
    networks: [127.0.0.9/32]
    role: pbx
`), "    transport: udp\n", fmt.Sprintf("    transport: udp\n  - name: second\n    address: 127.0.0.1:%d\n    transport: udp\n", freePort(t, "udp")), 1)
	if err := os.WriteFile(file, []byte(withPeer), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := ctlRun(addr, "reload")
	if code != exitOK || !strings.Contains(out, "reloaded\n") || !strings.Contains(out, "applied only by a restart: listen") {
		t.Fatalf("ctl reload: %d %q %q", code, out, errs)
	}
	if level.Level() != slog.LevelDebug {
		t.Errorf("log level after reload: %v", level.Level())
	}
	if names := configPeers(t, addr); len(names) != 1 || names[0] != "pbx2" {
		t.Fatalf("peers after reload: %v", names)
	}

	if err := os.WriteFile(file, []byte(withPeer+"limits:\n  max_calls: many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = ctlRun(addr, "reload")
	if code != exitFailure || !strings.Contains(errs, "not reloaded") || !strings.Contains(errs, filepath.Base(file)+":") || !strings.Contains(errs, "limits.max_calls") {
		t.Fatalf("ctl reload of a bad file: %d %q", code, errs)
	}
	if names := configPeers(t, addr); len(names) != 1 {
		t.Fatalf("a bad file changed the running peers: %v", names)
	}
	var cfgOut bytes.Buffer
	if ctl([]string{"--admin", addr, "--token", apiToken, "config"}, &cfgOut, &cfgOut); strings.Contains(cfgOut.String(), apiToken) {
		t.Fatal("ctl config shows the admin token")
	}
}

// configPeers reads the names of the running peers from the API.
func configPeers(t *testing.T, addr string) []string {
	t.Helper()
	code, out, errs := ctlRun(addr, "config")
	if code != exitOK {
		t.Fatalf("ctl config: %d %s", code, errs)
	}
	var c struct{ Peers []struct{ Name string } }
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("config JSON: %v\n%s", err, out)
	}
	var names []string
	for _, p := range c.Peers {
		names = append(names, p.Name)
	}
	return names
}

// A reload cannot take the token off an admin endpoint that listens off
// loopback: admin.listen changes only at a restart, the token at once.
func TestReloadKeepsTheTokenOfAnOpenEndpoint(t *testing.T) {
	file := filepath.Join(t.TempDir(), "natsbc.yaml")
	public := "listen:\n  - address: 127.0.0.1:5060\nadmin:\n  listen: 10.0.0.5:9090\n  token: " + apiToken + "\n"
	if err := os.WriteFile(file, []byte(public), 0o600); err != nil {
		t.Fatal(err)
	}
	running, err := loadConfig(options{configFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("listen:\n  - address: 127.0.0.1:5060\nadmin:\n  listen: 127.0.0.1:9090\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &reloader{opts: options{configFile: file}, cfg: running, log: slog.New(slog.DiscardHandler)}
	rep := r.reload()
	if rep.Applied || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "it keeps needing a token") {
		t.Fatalf("reload = %+v, want it refused", rep)
	}
	if r.current().Admin.Token != apiToken {
		t.Fatal("the running token changed")
	}
}

// Without a token a loopback endpoint still refuses what a web page could
// send it: a request naming a host (DNS rebinding) and a change that is
// not JSON (a cross-origin form); with one, only the token counts.
func TestAdminGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, c := range []struct {
		token, method, host, contentType, auth string
		want                                   int
	}{
		{"", "GET", "127.0.0.1:9090", "", "", http.StatusNoContent},
		{"", "GET", "localhost:9090", "", "", http.StatusNoContent},
		{"", "GET", "[::1]:9090", "", "", http.StatusNoContent},
		{"", "GET", "rebound.example:9090", "", "", http.StatusMisdirectedRequest},
		{"", "POST", "127.0.0.1:9090", "application/x-www-form-urlencoded", "", http.StatusUnsupportedMediaType},
		{"", "DELETE", "127.0.0.1:9090", "application/json", "", http.StatusNoContent},
		{apiToken, "POST", "natsbc.example:9090", "", "Bearer " + apiToken, http.StatusNoContent},
		{apiToken, "GET", "127.0.0.1:9090", "", "Bearer nope", http.StatusUnauthorized},
		{apiToken, "GET", "127.0.0.1:9090", "", "", http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(c.method, "http://"+c.host+"/api/v1/calls", nil)
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		rec := httptest.NewRecorder()
		requireToken(ok, func() string { return c.token }).ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%+v: %d, want %d", c, rec.Code, c.want)
		}
	}
}
