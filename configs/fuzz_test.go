package configs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/natsbc/natsbc/policy"
)

// FuzzParse: no input crashes Parse, and a Config it accepts passes
// Validate again and builds a policy.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	more, _ := filepath.Glob("examples/*.yaml")
	for _, file := range append(append(files, more...), "default.yaml") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config and an error: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not re-validate:\n%s\n%v", data, err)
		}
		if _, err := policy.New(c.Policy()); err != nil {
			t.Fatalf("accepted config gives no policy:\n%s\n%v", data, err)
		}
		if len(c.Listen()) == 0 {
			t.Fatalf("accepted config has no socket:\n%s", data)
		}
	})
}
