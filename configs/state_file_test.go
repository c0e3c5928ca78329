package configs

import (
	"strings"
	"testing"
)

func TestStateFileDefaultFileAndFlag(t *testing.T) {
	if got := Default().StateFile(); got != DefaultStateFile {
		t.Errorf("default state file = %q, want %q", got, DefaultStateFile)
	}
	c, err := parseWith(t, "registrations:\n  state_file: /srv/natsbc/reg.db\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.StateFile() != "/srv/natsbc/reg.db" {
		t.Errorf("StateFile() = %q", c.StateFile())
	}
	c, err = parseWith(t, "registrations:\n  state_file: \"\"\n")
	if err != nil || c.StateFile() != "" {
		t.Errorf(`state_file "" = %q, %v; want memory only`, c.StateFile(), err)
	}
	if c, err = parseWith(t, "registrations:\n  nat_expires: 30s\n"); err != nil || c.StateFile() != DefaultStateFile {
		t.Errorf("state_file left out = %q, %v; want the default", c.StateFile(), err)
	}
	empty, other := "", "/tmp/lab/state.db"
	for _, v := range []*string{&empty, &other} {
		c := Default()
		if err := c.Apply(Overrides{StateFile: v}); err != nil || c.StateFile() != *v {
			t.Errorf("--state-file %q: StateFile() = %q, %v", *v, c.StateFile(), err)
		}
	}
}

// A relative path would name another file in each working directory.
func TestStateFileMustBeAbsolute(t *testing.T) {
	for _, v := range []string{"state.db", "var/lib/natsbc/state.db", "/var/lib/natsbc/"} {
		_, err := parseWith(t, "registrations:\n  state_file: "+v+"\n")
		if err == nil || !strings.Contains(err.Error(), "t.yaml:2:15: registrations.state_file") {
			t.Errorf("state_file %q: error = %v; want one naming t.yaml:2:15", v, err)
		}
	}
	rel := "state.db"
	err := Default().Apply(Overrides{StateFile: &rel})
	if err == nil || !strings.Contains(err.Error(), "--state-file") {
		t.Errorf("--state-file %q: error = %v; want one naming the flag", rel, err)
	}
}
