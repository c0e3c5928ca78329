package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natsbc/natsbc/certs/certstest"
)

func TestExitCodesAndOneLineErrors(t *testing.T) {
	busy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("sip:\n  tl: 500ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantText string
	}{
		{"unknown flag", []string{"--nope"}, exitUsage, "flag provided but not defined"},
		{"stray argument", []string{"serve"}, exitUsage, `unexpected argument "serve"`},
		{"bad listen address", []string{"--listen", "999.1.1.1:5060"}, exitUsage, "--listen"},
		{"unreadable file", []string{"--config", "/nonexistent/natsbc.yaml"}, exitUsage, "/nonexistent/natsbc.yaml"},
		{"bad config names file and line", []string{"--config", bad}, exitUsage, "bad.yaml:2:3"},
		{"port in use", []string{"--listen", "udp:" + busy.LocalAddr().String(), "--state-file", ""}, exitFailure, "cannot listen on udp " + busy.LocalAddr().String()},
		{"check-config without file", []string{"check-config"}, exitUsage, "usage: natsbc check-config FILE"},
		{"check-config bad file", []string{"check-config", bad}, exitUsage, "bad.yaml:2:3"},
		{"check-config bad media", []string{"check-config", "../../configs/testdata/bad/bad-media.yaml"}, exitUsage,
			"bad-media.yaml:3:10: media.ports: 30000-20000 runs backwards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(tt.args, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantText) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantText, stderr.String())
			}
		})
	}
}

func TestCheckConfigAcceptsTheExamples(t *testing.T) {
	files, err := filepath.Glob("../../configs/examples/*.yaml")
	if err != nil || len(files) != 4 {
		t.Fatalf("want the four example configs, got %v (%v)", files, err)
	}
	// Each is checked from a directory of its own that holds the
	// certificate files the WebRTC gateway names relative to itself.
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	if err := os.Mkdir(tlsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	certstest.NewCA(t, tlsDir, "ca").Issue(t, tlsDir, "web", "sip.example.com")
	for _, example := range files {
		body, err := os.ReadFile(example)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, filepath.Base(example))
		if err := os.WriteFile(f, body, 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		if code := run([]string{"check-config", f}, &stderr); code != exitOK {
			t.Errorf("%s: exit %d:\n%s", f, code, stderr.String())
		}
	}
}
