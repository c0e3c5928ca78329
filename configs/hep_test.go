package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hep: the collector's address is checked at start; capture_id defaults
// to 2001 and must fit 32 bits.
func TestHEPSection(t *testing.T) {
	c, err := parseWith(t, "hep:\n  address: udp:127.0.0.1:9060\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.HEP.Address != "udp:127.0.0.1:9060" || c.HEP.CaptureID != 2001 {
		t.Errorf("hep = %+v, want the address and capture id 2001", c.HEP)
	}
	for yaml, want := range map[string]string{
		"hep:\n  address: udp:nowhere\n":                              "t.yaml:2:12: hep.address",
		"hep:\n  address: 127.0.0.1:9060\n  capture_id: -1\n":         "t.yaml:3:15: hep.capture_id: -1 is not a 32-bit capture agent id",
		"hep:\n  address: 127.0.0.1:9060\n  capture_id: 5000000000\n": "hep.capture_id",
	} {
		if _, err := parseWith(t, yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", yaml, err, want)
		}
	}
}

// admin.token: off loopback the endpoint needs one; a short one is
// refused; token_file's first line is the token.
func TestAdminToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("0123456789abcdef-from-file\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseWith(t, "admin:\n  listen: 10.0.0.5:9090\n  token_file: "+file+"\n")
	if err != nil || c.Admin.Token != "0123456789abcdef-from-file" {
		t.Fatalf("token_file: %+v, %v", c.Admin, err)
	}
	for yaml, want := range map[string]string{
		"admin:\n  listen: 10.0.0.5:9090\n":                                "admin.listen: 10.0.0.5 is not a loopback address: set admin.token",
		"admin:\n  listen: 127.0.0.1:9090\n  token: short\n":               "admin.token: a token of 5 characters is guessable",
		"admin:\n  listen: 127.0.0.1:9090\n  token_file: /nonexistent\n":   "admin.token_file: open /nonexistent",
		"admin:\n  token: 0123456789abcdef0\n  token_file: " + file + "\n": "not both",
	} {
		if _, err := parseWith(t, yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", yaml, err, want)
		}
	}
}

func TestHEPCaptureIDNotANumber(t *testing.T) {
	_, err := parseWith(t, "hep:\n  capture_id: many\n")
	if err == nil || strings.Count(err.Error(), "capture_id") != 1 {
		t.Fatalf("want one error about capture_id: %v", err)
	}
}

// diagnosis.keep_calls: off by default, bounded.
func TestDiagnosisKeepCalls(t *testing.T) {
	c, err := parseWith(t, "diagnosis:\n  keep_calls: 100\n")
	if err != nil || c.Diagnosis.KeepCalls != 100 {
		t.Fatalf("%+v %v", c.Diagnosis, err)
	}
	if c, _ := parseWith(t, ""); c.Diagnosis.KeepCalls != 0 {
		t.Errorf("default keep_calls %d, want 0 (off)", c.Diagnosis.KeepCalls)
	}
	if _, err := parseWith(t, "diagnosis:\n  keep_calls: -1\n"); err == nil || !strings.Contains(err.Error(), "diagnosis.keep_calls") {
		t.Errorf("keep_calls -1: %v", err)
	}
}
