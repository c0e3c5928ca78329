package main

import (
	"bytes"
	"strings"
	"testing"
)

// --advertise takes a STUN server for one socket or all; the spec that
// reaches sbc names the server and no fixed IP.
func TestAdvertiseSTUNFlag(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlags([]string{
		"--listen", "udp:192.0.2.20:5060", "--listen", "udp:10.0.0.5:5060",
		"--advertise", "listen1=stun:stun.example.net",
	}, &stderr)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	cfg, err := loadConfig(o)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	specs := cfg.Listen()
	if len(specs) != 2 || specs[0].AdvertiseSTUN != "stun.example.net:3478" || specs[0].Advertise.IsValid() {
		t.Errorf("listen1 = %+v; want STUN server stun.example.net:3478", specs[0])
	}
	if specs[1].AdvertiseSTUN != "" || specs[1].Advertise.IsValid() {
		t.Errorf("listen2 = %+v; want nothing advertised", specs[1])
	}
}

func TestAdvertiseSTUNFlagErrors(t *testing.T) {
	for _, tt := range []struct{ arg, want string }{
		{"stun:", `--advertise: "stun:": no STUN server`},
		{"stun:[2001:db8::1]:0", `port "0" is not in 1..65535`},
		{"nowhere=stun:stun.example.net", `no listen socket is named or bound to "nowhere"`},
	} {
		var stderr bytes.Buffer
		if code := run([]string{"--advertise", tt.arg}, &stderr); code != exitUsage {
			t.Errorf("--advertise %s: exit %d, want %d", tt.arg, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("--advertise %s: stderr does not say %q:\n%s", tt.arg, tt.want, stderr.String())
		}
	}
}
