package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirectRunWritesSummaryAndJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-mode", "direct", "-uac-ip", "127.0.0.1", "-uas", "127.0.0.1:0",
		"-calls", "4", "-duration", "200ms", "-json", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "loadgen direct: 4/4 calls up") || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("summary is not one line starting with the call count:\n%s", stdout.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Mode     string `json:"mode"`
		CallsUp  int    `json:"calls_up"`
		RateKept *bool  `json:"rate_kept"`
		AToB     struct {
			Sent     uint64 `json:"sent"`
			Received uint64 `json:"received"`
		} `json:"a_to_b"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, data)
	}
	if rep.Mode != "direct" || rep.CallsUp != 4 || rep.RateKept == nil || rep.AToB.Sent != 40 || rep.AToB.Received != 40 {
		t.Errorf("report %+v", rep)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "both"},
		{"-calls", "0"},
		{"-uas", "127.0.0.1"},
		{"-target", "nowhere"},
		{"-payload", "8"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if stderr.Len() == 0 {
			t.Errorf("%q: no message on stderr", args)
		}
	}
}

func TestSocketErrorExitsOne(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is not an address of this host: binding fails.
	var stdout, stderr bytes.Buffer
	code := run([]string{"-mode", "direct", "-uac-ip", "192.0.2.1", "-uas", "127.0.0.1:0", "-calls", "1"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "cannot open an RTP socket on 192.0.2.1") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
