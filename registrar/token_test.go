package registrar

import (
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	s := newTokenSigner([]byte("0123456789abcdef"))
	for _, id := range []uint64{0, 1, 1 << 63, newBindingID()} {
		tok := s.encode(id)
		if !strings.HasPrefix(tok, TokenPrefix) || strings.ToLower(tok) != tok {
			t.Errorf("token %q: want lower case with prefix %q", tok, TokenPrefix)
		}
		got, err := s.decode(tok)
		if err != nil || got != id {
			t.Errorf("decode(encode(%d)) = %d, %v", id, got, err)
		}
		// A PBX that folds case must not break routing.
		if got, err := s.decode(strings.ToUpper(tok)); err != nil || got != id {
			t.Errorf("upper-case token: %d, %v", got, err)
		}
	}
}

// Every single-character change of a token is rejected: the MAC covers
// the id, and a changed MAC no longer matches.
func TestTokenTamperedRejected(t *testing.T) {
	s := newTokenSigner(nil)
	tok := s.encode(42)
	alphabet := "abcdefghijklmnopqrstuvwxyz234567"
	for i := len(TokenPrefix); i < len(tok); i++ {
		for _, c := range alphabet {
			if byte(c) == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			id, err := s.decode(bad)
			if err == nil {
				t.Fatalf("tampered token %q accepted as id %d", bad, id)
			}
		}
	}
}

func TestTokenOtherKeyRejected(t *testing.T) {
	a, b := newTokenSigner(nil), newTokenSigner(nil)
	if _, err := b.decode(a.encode(7)); !errors.Is(err, errTokenMAC) {
		t.Errorf("token of another key: err = %v, want errTokenMAC", err)
	}
	// A configured secret makes tokens survive a restart.
	k := []byte("a secret of at least sixteen bytes")
	if id, err := newTokenSigner(k).decode(newTokenSigner(k).encode(7)); err != nil || id != 7 {
		t.Errorf("same secret: %d, %v", id, err)
	}
}

func TestTokenFormat(t *testing.T) {
	s := newTokenSigner(nil)
	for _, user := range []string{"", "alice", "nb", "nb" + strings.Repeat("a", 10), "nb" + strings.Repeat("1", 26), s.encode(1) + "a"} {
		if _, err := s.decode(user); !errors.Is(err, errTokenFormat) {
			t.Errorf("decode(%q) err = %v, want errTokenFormat", user, err)
		}
	}
}

func FuzzTokenDecode(f *testing.F) {
	s := newTokenSigner([]byte("fuzzing key 0123456789"))
	f.Add(s.encode(1))
	f.Add("alice")
	f.Add("nbaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, user string) {
		id, err := s.decode(user)
		if err == nil && !strings.EqualFold(s.encode(id), user) {
			t.Fatalf("decode accepted %q as %d, whose token is %q", user, id, s.encode(id))
		}
	})
}
