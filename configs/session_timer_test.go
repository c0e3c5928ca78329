package configs

import (
	"testing"
	"time"
)

func TestSessionTimerMapping(t *testing.T) {
	c, err := parseWith(t, "sip:\n  session_expires: 20s\n  min_se: 5s\n")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.SBC(); s.SessionExpires != 20*time.Second || s.MinSE != 5*time.Second {
		t.Errorf("SBC() session timer = %v / %v, want 20s / 5s", s.SessionExpires, s.MinSE)
	}
	if s := Default().SBC(); s.SessionExpires != 1800*time.Second || s.MinSE != 90*time.Second {
		t.Errorf("default session timer = %v / %v, want 1800s / 90s", s.SessionExpires, s.MinSE)
	}
}
