//go:build linux

package natlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ctl runs `natsbc ctl` in the edge namespace against natsbc's admin
// endpoint and returns what it printed; a non-zero exit fails the test.
func ctl(t *testing.T, l *Lab, args ...string) string {
	t.Helper()
	argv := append([]string{"netns", "exec", l.NS(NSEdge), natsbcBin, "ctl", "--admin", adminAddr}, args...)
	out, err := exec.Command("ip", argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("natsbc ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// adminConfig is BaseConfig with the admin endpoint and extra sections.
func adminConfig(extra string) string {
	return BaseConfig + "admin:\n  listen: " + adminAddr + "\n" + extra
}

// browse runs headless Chromium in the edge namespace (natsbc's admin
// endpoint is on its loopback) and returns what it printed: the page's
// DOM with --dump-dom.
func browse(t *testing.T, l *Lab, args ...string) string {
	t.Helper()
	argv := append([]string{"netns", "exec", l.NS(NSEdge), "chromium", "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir=" + l.Dir + "/chromium"}, args...)
	out, err := exec.Command("ip", argv...).Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// artifactsDir keeps files a CI run shows after it (screenshots).
const artifactsDir = "/tmp/natlab-artifacts"

// saveArtifact copies path into artifactsDir and says where.
func saveArtifact(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(artifactsDir, filepath.Base(path))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return err
	}
	fmt.Println("natlab: artifact", dst)
	return nil
}
