package media

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
)

// originUser is the o= username natsbc writes (RFC 8866 §5.2).
const originUser = "natsbc"

// legOrigin is the o= line natsbc owns on one leg. RFC 3264 §8: every SDP
// an agent sends in a session keeps its username and session id, and the
// version goes up by one exactly when the SDP changes. natsbc is that
// agent for each leg's peer, whatever the far side does with its own o=
// (a PBX may restart it, or bump it on a session refresh that changes
// nothing), so the line is natsbc's and not the author's.
type legOrigin struct {
	sessID  uint64
	version uint64
	sent    []byte // the body last sent on the leg; nil before the first
}

func newLegOrigin() legOrigin {
	// RFC 8866 §5.2 only asks the id to be globally unique; 62 random bits
	// fit in a signed 64-bit integer, which some peers parse it into.
	return legOrigin{sessID: rand.Uint64() >> 2, version: 1}
}

// stamp gives out, written with o.version at versionAt, the version it
// must carry: the same as last time when nothing changed, else the next.
func (o *legOrigin) stamp(out []byte, versionAt [2]int) []byte {
	if o.sent != nil && !bytes.Equal(out, o.sent) {
		o.version++
		v := strconv.AppendUint(nil, o.version, 10)
		out = slices.Concat(out[:versionAt[0]], v, out[versionAt[1]:])
	}
	// A copy: the caller owns the body it gets and may change it.
	o.sent = slices.Clone(out)
	return out
}

// Origin is what an o= line says (RFC 8866 §5.2).
type Origin struct {
	Username, SessionID, Version, Address string
}

// ParseOrigin reads the o= line of an SDP body that ParseStreams accepts.
func ParseOrigin(body []byte) (Origin, error) {
	if _, err := ParseStreams(body); err != nil {
		return Origin{}, err
	}
	lines := sdpLines{rest: string(body)}
	for {
		l, ok, _ := lines.next()
		if !ok {
			return Origin{}, unparsable(0, "no o= line")
		}
		if l.typ == 'o' {
			o, err := parseOrigin(l.num, l.value)
			return Origin{Username: o.username, SessionID: o.sessID, Version: o.sessVersion, Address: o.address}, err
		}
	}
}
