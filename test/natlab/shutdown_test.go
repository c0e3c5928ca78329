//go:build linux

package natlab

import (
	"syscall"
	"testing"
	"time"
)

// TestShutdownDrainsCalls: SIGTERM with a call up. natsbc lets the call
// run for its drain timeout (2 s in BaseConfig), then ends it with a BYE
// to both legs (both sipp sides receive and answer it), logs reason
// shutdown and exits 0.
func TestShutdownDrainsCalls(t *testing.T) {
	t.Parallel()
	const drain = 2 * time.Second
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_wait_bye.xml"))
	n.Log.Await(t, 10*time.Second, "call answered", nil)

	termAt := time.Now()
	if err := n.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	MustSucceed(t, phone, drain+15*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	ended := awaitEnded(t, n, "shutdown")
	if d := ended.At.Sub(termAt); d < drain-200*time.Millisecond {
		t.Errorf("call ended %v after SIGTERM, before the %v drain timeout", d, drain)
	}
	if err := n.Wait(drain + 10*time.Second); err != nil {
		t.Errorf("natsbc after SIGTERM: %v", err)
	}
	assertOneCallEnded(t, n)
}
