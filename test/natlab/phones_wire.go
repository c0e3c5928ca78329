//go:build linux

package natlab

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Capture is tshark capturing every UDP packet on eth0 of a phone host:
// what the phone really sent and received, counted on the wire.
type Capture struct {
	*Proc
	Log  *LogWatcher
	file string
}

// StartCapture starts tshark on eth0 of namespace role and waits until it
// captures (its "Capturing on" line).
func (l *Lab) StartCapture(t *testing.T, role, name string) *Capture {
	t.Helper()
	c := &Capture{Log: NewLogWatcher(), file: filepath.Join(l.Dir, name+".pcapng")}
	c.Proc = l.start(t, role, name, c.Log.Line, "tshark", "-n", "-i", "eth0", "-f", "udp", "-w", c.file)
	awaitRaw(t, c.Log, c.Proc, time.Time{}, startBound, "tshark "+name, "capturing (\"Capturing on\")",
		func(s string) bool { return strings.Contains(s, "Capturing on") })
	return c
}

// Stop ends the capture (SIGINT: tshark writes out what it has) and reads
// the packets back.
func (c *Capture) Stop(t *testing.T) []WirePacket {
	t.Helper()
	if err := c.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("tshark %s: SIGINT: %v", c.Name, err)
	}
	if err := c.Wait(15 * time.Second); err != nil {
		t.Fatalf("tshark %s did not end on SIGINT: %v", c.Name, err)
	}
	pkts, err := readCapture(c.file)
	if err != nil {
		t.Fatalf("tshark %s: reading %s: %v", c.Name, c.file, err)
	}
	return pkts
}

// WirePacket is one captured UDP packet as tshark dissects it: SIP (the
// start line and whether digest headers were there), RTP (its payload
// type) or neither.
type WirePacket struct {
	At       time.Time
	Src, Dst string // ip:port
	// RTPType is the RTP payload type, -1 for a packet that is not RTP.
	RTPType int
	// Method is the request method, Status the response code (0 for a
	// request); CSeqMethod the method a response answers.
	Method     string
	Status     int
	CSeqMethod string
	// Headers present: WWW-/Proxy-Authenticate, Authorization, Proxy-Authorization.
	WWWAuth, ProxyAuth, Authorization, ProxyAuthorization bool
	// Media are the SDP m= lines of the message ("audio 16000 RTP/AVP 96 9 0"),
	// MediaAttrs its a= lines ("rtpmap:96 opus/48000/2").
	Media, MediaAttrs []string
	// The SIP dialog it belongs to, and its Replaces header (RFC 3891).
	CallID, FromTag, ToTag, Replaces string
	// Payload is the size of its UDP payload in bytes: an SRTP packet is
	// its RTP packet and the authentication tag.
	Payload int
}

// IsSIP reports whether the packet is a SIP message.
func (p WirePacket) IsSIP() bool { return p.Method != "" || p.Status != 0 }

// String names the packet for failure messages.
func (p WirePacket) String() string {
	what := "RTP PT " + strconv.Itoa(p.RTPType)
	switch {
	case p.Method != "":
		what = p.Method
	case p.Status != 0:
		what = fmt.Sprintf("%d (%s)", p.Status, p.CSeqMethod)
	case p.RTPType < 0:
		what = "UDP"
	}
	return fmt.Sprintf("%s %s -> %s %s", p.At.Format("15:04:05.000"), p.Src, p.Dst, what)
}

var wireFields = []string{"frame.time_epoch", "ip.src", "udp.srcport", "ip.dst", "udp.dstport",
	"rtp.p_type", "sip.Method", "sip.Status-Code", "sip.CSeq.method",
	"sip.WWW-Authenticate", "sip.Proxy-Authenticate", "sip.Authorization", "sip.Proxy-Authorization",
	"sdp.media", "sdp.media_attr", "sip.Call-ID", "sip.from.tag", "sip.to.tag", "sip.Replaces", "udp.length"}

// readCapture dissects a capture file. RTP is found from the SDP of the
// SIP in the same capture, and by heuristics for what precedes it.
func readCapture(file string) ([]WirePacket, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"-n", "-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-T", "fields",
		"-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"}
	for _, f := range wireFields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(ctx, "tshark", args...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return nil, fmt.Errorf("tshark -r: %v %s", err, stderr)
	}
	var pkts []WirePacket
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != len(wireFields) {
			return nil, fmt.Errorf("tshark line with %d fields, want %d: %q", len(f), len(wireFields), line)
		}
		first := func(i int) string { s, _, _ := strings.Cut(f[i], "|"); return s }
		sec, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("tshark time %q: %v", f[0], err)
		}
		p := WirePacket{
			At:  time.Unix(0, int64(sec*1e9)),
			Src: first(1) + ":" + first(2), Dst: first(3) + ":" + first(4),
			RTPType: -1, Method: first(6), CSeqMethod: first(8),
			WWWAuth: f[9] != "", ProxyAuth: f[10] != "", Authorization: f[11] != "", ProxyAuthorization: f[12] != "",
		}
		if pt, err := strconv.Atoi(first(5)); err == nil {
			p.RTPType = pt
		}
		p.Status, _ = strconv.Atoi(first(7))
		p.CallID, p.FromTag, p.ToTag, p.Replaces = first(15), first(16), first(17), first(18)
		if n, err := strconv.Atoi(first(19)); err == nil {
			p.Payload = n - 8 // udp.length counts the UDP header
		}
		if f[13] != "" {
			p.Media = strings.Split(f[13], "|")
		}
		if f[14] != "" {
			p.MediaAttrs = strings.Split(f[14], "|")
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// RTPFlow counts the RTP packets of one direction at a phone.
type RTPFlow struct {
	Packets     int
	Types       map[int]int    // payload type -> packets
	Peers       map[string]int // far address (ip:port) -> packets
	First, Last time.Time
	// MaxGap is the longest silence between two packets from First to Last.
	MaxGap time.Duration
}

func (f RTPFlow) String() string {
	pts := make([]string, 0, len(f.Types))
	for pt, n := range f.Types {
		pts = append(pts, fmt.Sprintf("PT %d: %d", pt, n))
	}
	sort.Strings(pts)
	return fmt.Sprintf("%d packets (%s) from %s to %s, longest gap %v, peers %v",
		f.Packets, strings.Join(pts, ", "), f.First.Format("15:04:05.000"), f.Last.Format("15:04:05.000"), f.MaxGap, f.Peers)
}

// RTPAt splits the RTP packets of a capture at a phone host into what the
// host at ip sent and what it received, within [from, to].
func RTPAt(pkts []WirePacket, ip string, from, to time.Time) (sent, received RTPFlow) {
	add := func(f *RTPFlow, p WirePacket, peer string) {
		if f.Types == nil {
			f.Types, f.Peers = map[int]int{}, map[string]int{}
		}
		if f.Packets == 0 {
			f.First = p.At
		} else if gap := p.At.Sub(f.Last); gap > f.MaxGap {
			f.MaxGap = gap
		}
		f.Packets++
		f.Types[p.RTPType]++
		f.Peers[peer]++
		f.Last = p.At
	}
	for _, p := range pkts {
		if p.RTPType < 0 || p.At.Before(from) || p.At.After(to) {
			continue
		}
		switch {
		case hostOf(p.Src) == ip:
			add(&sent, p, p.Dst)
		case hostOf(p.Dst) == ip:
			add(&received, p, p.Src)
		}
	}
	return sent, received
}

// staticPT are the RFC 3551 §6 payload types the lab's phones use, which
// an SDP may list without an rtpmap.
var staticPT = map[int]string{0: "PCMU/8000", 8: "PCMA/8000", 9: "G722/8000"}

// Codecs lists what the SDP of p offers or answers, in its order: the
// payload types of its first m= line named by their rtpmap (or RFC 3551
// for static ones), "96 opus/48000/2".
func (p WirePacket) Codecs() []string {
	if len(p.Media) == 0 {
		return nil
	}
	names := map[string]string{}
	for _, a := range p.MediaAttrs {
		if v, ok := strings.CutPrefix(a, "rtpmap:"); ok {
			if pt, name, ok := strings.Cut(v, " "); ok {
				names[pt] = name
			}
		}
	}
	f := strings.Fields(p.Media[0]) // media port proto fmt...
	var out []string
	for _, pt := range f[min(3, len(f)):] {
		name := names[pt]
		if n, err := strconv.Atoi(pt); err == nil && name == "" {
			name = staticPT[n]
		}
		out = append(out, pt+" "+name)
	}
	return out
}

// CodecOf names RTP payload type pt as the SDP in a capture does (the
// last SIP message that maps it), e.g. "opus/48000/2".
func CodecOf(pkts []WirePacket, pt int) string {
	name := staticPT[pt]
	for _, p := range SIPAt(pkts) {
		for _, c := range p.Codecs() {
			if n, codec, _ := strings.Cut(c, " "); n == strconv.Itoa(pt) && codec != "" {
				name = codec
			}
		}
	}
	return name
}

// SIPAt returns the SIP messages of a capture, in order.
func SIPAt(pkts []WirePacket) []WirePacket {
	var out []WirePacket
	for _, p := range pkts {
		if p.IsSIP() {
			out = append(out, p)
		}
	}
	return out
}

func hostOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr
	}
	return addr[:i]
}
