//go:build linux

package natlab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Baresip is a baresip phone (Debian baresip-core 1.0) on a lab phone
// host, registering to natsbc's outside address with digest credentials,
// driven through its cons module and watched through its log (with -s, its
// SIP trace).
type Baresip struct {
	*Proc
	User string
	LAN  PhoneLAN
	Log  *LogWatcher
	cons *net.UDPConn
}

// BaresipOptions choose a baresip phone's account.
type BaresipOptions struct {
	User, Password string
	// AutoAnswer answers every incoming call at once (answermode=auto).
	AutoAnswer bool
	// Codecs is the account's audio_codecs, in order of preference
	// (default baresipCodecs: opus, G.722, PCMU).
	Codecs string
	// Source is the microphone: a wav file (aufile) instead of ausine's
	// 440 Hz sine. baresip 1.0 does not resample its source: ausine makes
	// only 48 kHz (opus), a file its own rate (16 kHz: G.722, 8 kHz: PCMU).
	Source string
	// Modules are more modules to load (e.g. mwi.so, presence.so).
	Modules []string
	// Contacts are lines of its contacts file (contact.so loads it), e.g.
	// `"Bob" <sip:bob@...>;presence=p2p` for a presence subscription.
	Contacts []string
	// TLS makes its account SIP over TLS to natsbc's outside address,
	// port 5061 (transport=tls in the AoR), trusting CAFile (sip_cafile).
	TLS    bool
	CAFile string
	// MediaEnc is the account's media encryption, its module loaded:
	// "srtp-mand" (SDES, RTP/SAVP) or "dtls_srtp" (UDP/TLS/RTP/SAVP).
	MediaEnc string
	// NoRegister keeps the account from registering (regint=0).
	NoRegister bool
}

// mediaEncModules are the baresip modules of each mediaenc value.
var mediaEncModules = map[string]string{
	"srtp": "srtp.so", "srtp-mand": "srtp.so", "srtp-mandf": "srtp.so",
	"dtls_srtp": "dtls_srtp.so", "dtls_srtpf": "dtls_srtp.so",
}

// baresipCodecs is what every lab baresip offers, in its order of
// preference: opus, G.722, PCMU (baresip spells G.722 at its real 16 kHz).
const baresipCodecs = "opus/48000/2,G722/16000/1,PCMU/8000/1"

// baresipRTPPorts keeps a phone's RTP (and RTCP) in a range of its own.
const baresipRTPPorts = "16000-16099"

// StartBaresip writes the phone's config and account, runs baresip on the
// phone host lan and waits until it is ready (cons listening, the REGISTER
// under way: await AwaitRegistered).
func (l *Lab) StartBaresip(t *testing.T, lan PhoneLAN, o BaresipOptions) *Baresip {
	t.Helper()
	dir := filepath.Join(l.Dir, "baresip-"+o.User)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const consAddr = "127.0.0.1:5555" // loopback of the phone host's own namespace
	tmpl, err := os.ReadFile(filepath.Join("testdata", "baresip", "config"))
	if err != nil {
		t.Fatal(err)
	}
	source := "ausine,440"
	if o.Source != "" {
		source = "aufile," + o.Source
	}
	cfg := strings.NewReplacer("__IP__", lan.IP, "__RTP_PORTS__", baresipRTPPorts, "__CONS__", consAddr,
		"__SOURCE__", source).Replace(string(tmpl))
	answer := "manual"
	if o.AutoAnswer {
		answer = "auto"
	}
	codecs := o.Codecs
	if codecs == "" {
		codecs = baresipCodecs
	}
	aor := "sip:" + o.User + "@" + EdgeOutIP
	if o.TLS {
		aor += ";transport=tls"
		cfg += "sip_cafile\t\t" + o.CAFile + "\n"
	}
	regint := 600
	if o.NoRegister {
		regint = 0
	}
	account := fmt.Sprintf("<%s>;auth_pass=%s;answermode=%s;regint=%d;audio_codecs=%s", aor, o.Password, answer, regint, codecs)
	modules := o.Modules
	if o.MediaEnc != "" {
		m, ok := mediaEncModules[o.MediaEnc]
		if !ok {
			t.Fatalf("StartBaresip: no module known for mediaenc %q", o.MediaEnc)
		}
		account += ";mediaenc=" + o.MediaEnc
		modules = append(modules, m)
	}
	account += "\n"
	for _, m := range modules {
		cfg += "module\t\t\t" + m + "\n"
	}
	files := map[string]string{"config": cfg, "accounts": account}
	if len(o.Contacts) > 0 {
		cfg += "module\t\t\tcontact.so\n"
		files["config"] = cfg
		files["contacts"] = strings.Join(o.Contacts, "\n") + "\n"
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := &Baresip{User: o.User, LAN: lan, Log: NewLogWatcher()}
	// baresip logs to stdout: send it where the watcher reads. -s: the SIP
	// trace; -t: a backstop should the lab's kill ever miss it.
	b.Proc = l.start(t, lan.Role, "baresip-"+o.User, func(line string) { b.Log.Line(ansiEscape.ReplaceAllString(line, "")) },
		"sh", "-c", `exec "$@" 1>&2`, "sh", "baresip", "-f", dir, "-s", "-t", "600")
	b.Await(t, 15*time.Second, "ready", "baresip is ready.")
	// The codec modules of the Debian package loaded (each logs "aucodec:").
	for _, c := range strings.Split(baresipCodecs, ",") {
		if len(b.Since(time.Time{}, "aucodec: "+c)) == 0 {
			t.Fatalf("baresip %s: codec %s not loaded (no \"aucodec: %s\" line); its log: %s", o.User, c, c, b.LogPath)
		}
	}
	b.cons = l.DialUDP(t, lan.Role, consAddr)
	return b
}

// Await waits for a log line containing s and fails the test, naming the
// phone and what it waited for, when the phone exits first or timeout passes.
func (b *Baresip) Await(t *testing.T, timeout time.Duration, what, s string) LogEntry {
	t.Helper()
	return b.AwaitAfter(t, time.Time{}, timeout, what, s)
}

// AwaitAfter is Await for lines logged at or after after (a second call).
func (b *Baresip) AwaitAfter(t *testing.T, after time.Time, timeout time.Duration, what, s string) LogEntry {
	t.Helper()
	return awaitRaw(t, b.Log, b.Proc, after, timeout, "baresip "+b.User, what,
		func(line string) bool { return strings.Contains(line, s) })
}

// AwaitRegistered waits for the registrar's 200 ("200 OK ... [1 binding]")
// and fails at once when baresip gives the registration up ("reg: AOR:
// 401 Unauthorized": its credentials were refused).
func (b *Baresip) AwaitRegistered(t *testing.T, timeout time.Duration) LogEntry {
	t.Helper()
	failed := "reg: sip:" + b.User + "@"
	e := awaitRaw(t, b.Log, b.Proc, time.Time{}, timeout, "baresip "+b.User, "registered (200 OK with a binding)",
		func(line string) bool {
			return strings.Contains(line, "200 OK") && strings.Contains(line, "binding") || strings.Contains(line, failed)
		})
	if strings.Contains(e.Raw, failed) {
		t.Fatalf("baresip %s: registration failed: %s", b.User, e.Raw)
	}
	return e
}

// AwaitEstablished waits for "Call established" logged at or after
// after; it fails at once, quoting the line, when the phone logs a call
// closing instead (a final error answer, the far end's BYE).
func (b *Baresip) AwaitEstablished(t *testing.T, after time.Time, timeout time.Duration, what string) LogEntry {
	t.Helper()
	closing := b.CloseWatch().marks
	e := awaitRaw(t, b.Log, b.Proc, after, timeout, "baresip "+b.User, what, func(line string) bool {
		return strings.Contains(line, "Call established") || containsAny(line, closing)
	})
	if !strings.Contains(e.Raw, "Call established") {
		t.Fatalf("baresip %s: %s: the call closed instead: %s", b.User, what, e.Raw)
	}
	return e
}

// ansiEscape matches the colour codes baresip puts around its log lines.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Command sends one cons command ("/dial sip:bob@host", "/hangup").
func (b *Baresip) Command(t *testing.T, cmd string) {
	t.Helper()
	// cons takes a command per datagram; a long one needs its newline.
	if _, err := b.cons.Write([]byte(cmd + "\n")); err != nil {
		t.Fatalf("baresip %s: command %q: %v", b.User, cmd, err)
	}
}

// Since returns the log lines containing s that arrived at or after from.
func (b *Baresip) Since(from time.Time, s string) []LogEntry {
	var out []LogEntry
	for _, e := range b.Log.Entries() {
		if !e.At.Before(from) && strings.Contains(e.Raw, s) {
			out = append(out, e)
		}
	}
	return out
}

// Codecs returns the audio encoder and decoder the phone set up last
// ("opus 48000Hz 2ch"), from its "Set audio encoder/decoder" lines.
func (b *Baresip) Codecs() (enc, dec string) {
	for _, e := range b.Log.Entries() {
		if _, v, ok := strings.Cut(e.Raw, "Set audio encoder: "); ok {
			enc = strings.TrimSpace(v)
		}
		if _, v, ok := strings.Cut(e.Raw, "Set audio decoder: "); ok {
			dec = strings.TrimSpace(v)
		}
	}
	return enc, dec
}

// BaresipAudio is what baresip's /audio_debug says of its audio stream.
type BaresipAudio struct {
	// Sent is its RTP packets sent ("TX: packets="), Received the RTP
	// packets it took from the far end (the RTCP members' "rcvd=").
	Sent, Received int
	// MediaEnc is the stream's media encryption ("menc: srtp"), Secure
	// whether it says it is secure ("secure=yes").
	MediaEnc string
	Secure   bool
	Raw      string
}

var (
	audioDebugSent   = regexp.MustCompile(`TX: packets=(\d+)`)
	audioDebugRcvd   = regexp.MustCompile(`rcvd=(\d+)`)
	audioDebugSecure = regexp.MustCompile(`menc: (\S+) \(secure=(yes|no)\)`)
)

// AudioDebug asks the phone for its audio stream's state (/audio_debug;
// cons answers on its socket, after the log lines it mirrors there).
func (b *Baresip) AudioDebug(t *testing.T) BaresipAudio {
	t.Helper()
	b.Command(t, "/audio_debug")
	buf := make([]byte, 64*1024)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = b.cons.SetReadDeadline(deadline)
		n, err := b.cons.Read(buf)
		if err != nil {
			t.Fatalf("baresip %s: no answer to /audio_debug on its cons socket: %v", b.User, err)
		}
		reply := string(buf[:n])
		if !strings.Contains(reply, "--- Audio stream ---") {
			continue
		}
		a := BaresipAudio{Raw: reply}
		if m := audioDebugSent.FindStringSubmatch(reply); m != nil {
			a.Sent, _ = strconv.Atoi(m[1])
		}
		for _, m := range audioDebugRcvd.FindAllStringSubmatch(reply, -1) {
			n, _ := strconv.Atoi(m[1])
			a.Received += n
		}
		if m := audioDebugSecure.FindStringSubmatch(reply); m != nil {
			a.MediaEnc, a.Secure = m[1], m[2] == "yes"
		}
		return a
	}
}
