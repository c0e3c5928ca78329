package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/certs/certstest"
)

// tlsFiles makes a CA, a pair it signs and a second pair, in dir.
func tlsFiles(t *testing.T) (dir string, ca *certstest.CA, a, b *certstest.Pair) {
	t.Helper()
	dir = t.TempDir()
	ca = certstest.NewCA(t, dir, "test")
	a = ca.Issue(t, dir, "a", "a.example")
	b = ca.Issue(t, dir, "b", "b.example")
	return dir, ca, a, b
}

func TestTLSAndWebSocketKeysDecoded(t *testing.T) {
	dir, ca, a, b := tlsFiles(t)
	yaml := `listen:
  - name: sips
    address: 127.0.0.1:5061
    transport: tls
    tls:
      cert_file: a.pem
      key_file: ` + a.KeyFile + `
      client_ca_file: ` + ca.File + `
      verify_clients: require
  - name: web
    address: 127.0.0.1:8443
    transport: wss
    idle_timeout: 45s
    ping_interval: 10s
    tls:
      cert_file: ` + a.CertFile + `
      key_file: ` + a.KeyFile + `
  - name: plainweb
    address: 127.0.0.1:8080
    transport: ws
peers:
  - name: trunk
    networks: [10.0.0.20/32]
    address: 10.0.0.20:5061
    transport: tls
    tls:
      ca_file: ` + ca.File + `
      server_name: trunk.example
      cert_file: ` + b.CertFile + `
      key_file: ` + b.KeyFile + `
`
	// A relative file name is taken from the config file's directory.
	c, err := Parse(filepath.Join(dir, "natsbc.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	specs := c.Listen()
	if len(specs) != 3 {
		t.Fatalf("Listen() = %+v", specs)
	}
	want := certs.Server{CertFile: a.CertFile, KeyFile: a.KeyFile, ClientCAFile: ca.File, VerifyClients: "require"}
	if s := specs[0]; s.Network != "tls" || s.TLS != want {
		t.Errorf("tls socket = %+v; want network tls, %+v", s, want)
	}
	if s := specs[1]; s.Network != "wss" || s.IdleTimeout != 45*time.Second || s.PingInterval != 10*time.Second || s.TLS.CertFile != a.CertFile {
		t.Errorf("wss socket = %+v", s)
	}
	if s := specs[2]; s.Network != "ws" || s.IdleTimeout != DefaultWSIdleTimeout || s.PingInterval != DefaultWSPingInterval {
		t.Errorf("ws socket = %+v; want the WebSocket defaults", s)
	}
	got := c.SBC().PeerTLS["trunk"]
	wantPeer := certs.Client{CAFile: ca.File, ServerName: "trunk.example", CertFile: b.CertFile, KeyFile: b.KeyFile}
	if got != wantPeer {
		t.Errorf("PeerTLS[trunk] = %+v; want %+v", got, wantPeer)
	}
	if c.Peers[0].Transport != "tls" {
		t.Errorf("peer transport = %q", c.Peers[0].Transport)
	}
}

func TestTLSAndWebSocketErrorsNameTheLine(t *testing.T) {
	dir, ca, a, b := tlsFiles(t)
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsSock := func(lines string) string {
		return "listen:\n  - address: 127.0.0.1:5061\n    transport: tls\n" + lines
	}
	pair := "    tls:\n      cert_file: " + a.CertFile + "\n      key_file: " + a.KeyFile + "\n"
	peer := func(lines string) string {
		return tlsSock(pair) + "peers:\n  - name: trunk\n    address: 10.0.0.20:5061\n    transport: tls\n" + lines
	}
	tests := []struct{ yaml, want string }{
		{tlsSock(""), "t.yaml:2:5: listen[0].tls: cert_file and key_file are required for TLS"},
		{tlsSock("    tls:\n      cert_file: " + a.CertFile + "\n"), "t.yaml:5:7: listen[0].tls.key_file: is required for TLS"},
		{tlsSock("    tls:\n      cert_file: /nonexistent.pem\n      key_file: " + a.KeyFile + "\n"),
			"t.yaml:5:18: listen[0].tls.cert_file: /nonexistent.pem: open /nonexistent.pem: no such file or directory"},
		{tlsSock("    tls:\n      cert_file: " + garbage + "\n      key_file: " + a.KeyFile + "\n"),
			"t.yaml:5:18: listen[0].tls.cert_file: " + garbage + ": no PEM certificate in it"},
		{tlsSock("    tls:\n      cert_file: " + a.CertFile + "\n      key_file: " + b.KeyFile + "\n"),
			"t.yaml:6:17: listen[0].tls.key_file: " + b.KeyFile + ": the key does not match the certificate in " + a.CertFile},
		{tlsSock(pair + "      verify_clients: always\n"), `t.yaml:7:23: listen[0].tls.verify_clients: "always" is not one of none, optional, require`},
		{tlsSock(pair + "      verify_clients: require\n"), "t.yaml:5:7: listen[0].tls.client_ca_file: is required with verify_clients: require"},
		{tlsSock(pair + "      client_ca_file: " + ca.File + "\n"), "t.yaml:7:23: listen[0].tls.client_ca_file: is not used with verify_clients: none"},
		{tlsSock(pair + "      client_ca_file: " + garbage + "\n      verify_clients: optional\n"),
			"t.yaml:7:23: listen[0].tls.client_ca_file: " + garbage + ": no PEM certificate in it"},
		{"listen:\n  - address: 127.0.0.1:5060\n    transport: udp\n" + pair, "t.yaml:5:7: listen[0].tls: applies to transport tls or wss, not udp"},
		{tlsSock(pair + "    idle_timeout: 30s\n"), "t.yaml:7:19: listen[0].idle_timeout: applies to transport ws or wss, not tls"},
		{"listen:\n  - address: 127.0.0.1:8080\n    transport: ws\n    ping_interval: 40s\n    idle_timeout: 40s\n", "t.yaml:4:20: listen[0].ping_interval: 40s must be shorter than idle_timeout (40s)"},
		{"listen:\n  - address: 127.0.0.1:8080\n    transport: ws\n    ping_interval: 0s\n", "t.yaml:4:20: listen[0].ping_interval: 0s is shorter than 1s"},
		{"listen:\n  - address: 127.0.0.1:8080\n    transport: ws\n    idle_timeout: 20s\n", "t.yaml:4:19: listen[0].idle_timeout: 20s must be longer than ping_interval (30s)"},
		{"listen:\n  - address: 127.0.0.1:8080\n    transport: ws\n    idle_timeout: 25h\n", "t.yaml:4:19: listen[0].idle_timeout: 25h0m0s is not in 1s..24h0m0s"},
		{"listen:\n  - address: 127.0.0.1:8080\n    transport: ws\n    idle_timeout: soon\n", `t.yaml:4:19: listen[0].idle_timeout: "soon" is not a duration`},
		{"listen:\n  - address: 127.0.0.1:5060\n    transport: tcp\n  - address: 127.0.0.1:5060\n    transport: wss\n" + pair,
			"listen[1].address: 127.0.0.1:5060 overlaps listen[0] (127.0.0.1:5060) on the same port and transport"},
		// Skipping the certificate check is no setting of a running natsbc.
		{peer("    tls:\n      insecure_skip_verify: true\n"), "t.yaml:12:7: unknown key \"insecure_skip_verify\" in peers[0].tls"},
		{peer("    tls:\n      ca_file: " + garbage + "\n"), "t.yaml:12:16: peers[0].tls.ca_file: " + garbage + ": no PEM certificate in it"},
		{peer("    tls:\n      cert_file: " + b.CertFile + "\n"), "peers[0].tls.key_file: is required with cert_file"},
		{peer("    tls:\n      cert_file: " + b.CertFile + "\n      key_file: " + a.KeyFile + "\n"),
			"t.yaml:13:17: peers[0].tls.key_file: " + a.KeyFile + ": the key does not match"},
		{peer("    tls:\n      server_name: \"a b\"\n"), `t.yaml:12:20: peers[0].tls.server_name: "a b" is not a host name`},
		{peer("    tls:\n      sni: x\n"), `t.yaml:12:7: unknown key "sni" in peers[0].tls`},
		{"listen:\n  - address: 127.0.0.1:5060\npeers:\n  - name: trunk\n    address: 10.0.0.20:5061\n    transport: tls\n",
			"t.yaml:6:16: peers[0].transport: tls needs a listen entry with transport: tls"},
		{tlsSock(pair) + "routes:\n  - from: \"*\"\n    to: tls:10.0.0.20:5061\n", `t.yaml:9:9: routes[0].to: "tls:10.0.0.20:5061": name a peer with transport: tls instead`},
		{tlsSock(pair) + "peers:\n  - name: trunk\n    address: 10.0.0.20:5061\n    tls:\n      server_name: x\n",
			"t.yaml:11:7: peers[0].tls: applies to transport: tls, not udp"},
	}
	for _, tt := range tests {
		_, err := Parse("t.yaml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s\nerror = %v\nwant  %q", tt.yaml, err, tt.want)
		}
	}
}

// A tls peer's address must be in its own networks, and in no more
// specific prefix of another peer: natsbc picks a connection's TLS settings
// by the peer whose networks hold the address it opens to.
func TestTLSPeerOwnsItsAddress(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, dir, "test")
	pair := ca.Issue(t, dir, "natsbc", "natsbc.example")
	base := "listen:\n  - address: 10.0.0.5:5061\n    transport: tls\n    tls: {cert_file: " + pair.CertFile + ", key_file: " + pair.KeyFile + "}\npeers:\n"
	for _, tc := range []struct{ peers, err string }{
		{"  - name: trunk\n    networks: [10.0.0.0/24]\n    address: 10.0.0.20:5061\n    transport: tls\n", ""},
		{"  - name: trunk\n    address: 10.0.0.20:5061\n    transport: tls\n", `peers[0].networks: must hold its address 10.0.0.20`},
		{"  - name: trunk\n    networks: [10.0.0.0/24]\n    address: 10.0.0.20:5061\n    transport: tls\n" +
			"  - name: other\n    networks: [10.0.0.20/32]\n", `peers[0].address: 10.0.0.20 is in the networks of peer "other"`},
		{"  - name: trunk\n    address: trunk.example:5061\n    transport: tls\n", ""},
	} {
		_, err := Parse("t.yaml", []byte(base+tc.peers))
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.peers, err, tc.err)
		}
	}
}
