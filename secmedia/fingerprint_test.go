package secmedia

import (
	"crypto/ecdsa"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCertificate(t *testing.T) {
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(c.DER())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Fatalf("key %T, want ECDSA", cert.PublicKey)
	}
	// Signed by its own key (CheckSignatureFrom would want a CA).
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
	now := time.Now()
	if !cert.NotBefore.Before(now.Add(-29*24*time.Hour)) || !cert.NotAfter.After(now.Add(364*24*time.Hour)) {
		t.Fatalf("valid %v to %v", cert.NotBefore, cert.NotAfter)
	}
	fp := c.Fingerprint()
	if !regexp.MustCompile(`^sha-256 [0-9A-F]{2}(:[0-9A-F]{2}){31}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q is not RFC 8122 sha-256 in upper-case hex", fp)
	}
	// Round trip: what natsbc announces matches what it sends.
	f, err := ParseFingerprint(fp)
	if err != nil {
		t.Fatalf("ParseFingerprint(%q): %v", fp, err)
	}
	if !f.Matches(c.DER()) || f.String() != fp {
		t.Fatal("natsbc's own fingerprint does not match its certificate")
	}
	other, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if f.Matches(other.DER()) || other.Fingerprint() == fp {
		t.Fatal("a different certificate matches")
	}
}

func TestFingerprintOtherHashes(t *testing.T) {
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	s1 := sha1.Sum(c.DER())
	s384 := sha512.Sum384(c.DER())
	s512 := sha512.Sum512(c.DER())
	for _, f := range []Fingerprint{
		{Hash: "sha-1", Digest: s1[:]},
		{Hash: "sha-384", Digest: s384[:]},
		{Hash: "sha-512", Digest: s512[:]},
	} {
		// Browsers send upper case; accept lower case and an upper-case
		// hash name too.
		for _, v := range []string{f.String(), strings.ToLower(f.String()), strings.ToUpper(f.String())} {
			got, err := ParseFingerprint(v)
			if err != nil {
				t.Fatalf("ParseFingerprint(%q): %v", v, err)
			}
			if got.Hash != f.Hash || !got.Matches(c.DER()) {
				t.Fatalf("%q: parsed %v, does not match", v, got)
			}
		}
	}
}

func TestParseFingerprintRefuses(t *testing.T) {
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	good := c.Fingerprint()
	digest := good[len("sha-256 "):]
	cases := map[string]string{
		"empty":                  "",
		"no digest":              "sha-256",
		"no hash":                digest,
		"md5":                    "md5 " + strings.Repeat("AB:", 15) + "AB",
		"unknown hash":           "sha-999 " + digest,
		"short digest":           "sha-256 " + digest[3:],
		"long digest":            good + ":AB",
		"sha-1 length for 256":   "sha-256 " + strings.Repeat("AB:", 19) + "AB",
		"no colons":              "sha-256 " + strings.ReplaceAll(digest, ":", "") + strings.Repeat("0", 31),
		"dash separators":        "sha-256 " + strings.ReplaceAll(digest, ":", "-"),
		"not hex":                "sha-256 " + "ZZ" + digest[2:],
		"single hex digits":      "sha-256 " + strings.Repeat("A:", 47) + "A",
		"trailing colon":         good[:len(good)-2] + ":",
		"space inside digest":    "sha-256 " + digest[:5] + " " + digest[6:],
		"hash joined to digest":  "sha-256:" + digest,
		"sign in hex":            "sha-256 +" + digest[1:],
		"three-character groups": "sha-256 " + strings.Repeat("ABC", 31) + "AB",
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			if f, err := ParseFingerprint(v); !errors.Is(err, ErrFingerprint) {
				t.Fatalf("ParseFingerprint(%q) = %v, %v; want ErrFingerprint", v, f, err)
			}
		})
	}
	// Surrounding white space, as an SDP reader might leave it, is fine.
	if _, err := ParseFingerprint("  " + good + " \t"); err != nil {
		t.Fatalf("white space around a good value: %v", err)
	}
}

// A Fingerprint that did not come from ParseFingerprint matches nothing
// unless it is complete.
func TestFingerprintMatchesNeedsAKnownHash(t *testing.T) {
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	f, _ := ParseFingerprint(c.Fingerprint())
	for _, bad := range []Fingerprint{{}, {Hash: "md5", Digest: f.Digest}, {Hash: "sha-256", Digest: f.Digest[:31]}, {Hash: "SHA-256", Digest: f.Digest}} {
		if bad.Matches(c.DER()) {
			t.Errorf("%+v matches", bad)
		}
	}
}

// FuzzParseFingerprint: any string either fails with ErrFingerprint or
// gives a fingerprint whose digest has its hash's size and whose String
// parses back to the same value.
func FuzzParseFingerprint(f *testing.F) {
	c, err := NewCertificate()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Fingerprint())
	f.Add(strings.ToLower(c.Fingerprint()))
	f.Add("sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB")
	f.Add("SHA-512 " + strings.Repeat("00:", 63) + "00")
	f.Add("md5 00")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		fp, err := ParseFingerprint(v)
		if err != nil {
			if !errors.Is(err, ErrFingerprint) {
				t.Fatalf("error %v is not ErrFingerprint", err)
			}
			return
		}
		h, ok := fingerprintHashes[fp.Hash]
		if !ok || len(fp.Digest) != h.Size() {
			t.Fatalf("parsed %q to hash %q with %d bytes", v, fp.Hash, len(fp.Digest))
		}
		back, err := ParseFingerprint(fp.String())
		if err != nil || back.Hash != fp.Hash || string(back.Digest) != string(fp.Digest) {
			t.Fatalf("%q -> %q does not parse back: %v", v, fp.String(), err)
		}
	})
}
