package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
	"time"
)

// Binding is one registered Contact as it is kept on disk: everything
// needed to route calls to the phone again after a restart and to refresh
// or remove the registration at the PBX on its behalf. It knows nothing of
// the SIP stack: URIs are their text, sockets their local address.
type Binding struct {
	ID      uint64 `json:"id"`
	AOR     string `json:"aor"`
	Key     string `json:"key"`     // AoR + Contact: the binding across refreshes
	Contact string `json:"contact"` // the phone's own Contact URI

	Flow      Flow     `json:"flow"`
	Verdict   string   `json:"verdict"`
	Checks    []string `json:"checks,omitempty"`
	Keepalive bool     `json:"keepalive"`

	Asked   int `json:"asked"`   // Expires the phone asked for (-1: none)
	Granted int `json:"granted"` // Expires told to the phone
	// Expires is the phone side (gone unless refreshed by then);
	// PBXExpires the PBX side.
	Expires    time.Time `json:"expires"`
	PBXExpires time.Time `json:"pbx_expires"`

	PBX PBXSide `json:"pbx"`
}

// Flow is how the phone is reached: the local socket its REGISTER came in
// on (address and transport), its source address, and natsbc's address as
// the phone sees it.
type Flow struct {
	Transport  string         `json:"transport"` // "UDP" | "TCP"
	Local      netip.AddrPort `json:"local"`
	Source     netip.AddrPort `json:"source"`
	Advertised netip.AddrPort `json:"advertised"`
}

// PBXSide is the registration natsbc holds at the PBX for the phone:
// RFC 3261 §10.2.4 refreshes keep its Call-ID and raise its CSeq.
type PBXSide struct {
	RequestURI  string         `json:"ruri"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	CallID      string         `json:"call_id"`
	CSeq        uint32         `json:"cseq"`
	Transport   string         `json:"transport"`
	Local       netip.AddrPort `json:"local"` // natsbc's socket facing the PBX
	Destination netip.AddrPort `json:"dst"`
	Advertised  netip.AddrPort `json:"advertised"`
}

var errChecksum = errors.New("checksum does not match")

// encodeBinding is a CRC-32C of the JSON followed by the JSON: bbolt's own
// checksums cover its meta pages only, so a damaged data page would
// otherwise be read back as a wrong binding.
func encodeBinding(b Binding) ([]byte, error) {
	js, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4, 4+len(js))
	binary.BigEndian.PutUint32(out, crc32.Checksum(js, crcTable))
	return append(out, js...), nil
}

// decodeBinding reads a value written by encodeBinding.
func decodeBinding(v []byte) (Binding, error) {
	var b Binding
	if len(v) < 4 {
		return b, fmt.Errorf("record of %d bytes is too short", len(v))
	}
	if binary.BigEndian.Uint32(v) != crc32.Checksum(v[4:], crcTable) {
		return b, errChecksum
	}
	if err := json.Unmarshal(v[4:], &b); err != nil {
		return b, err
	}
	return b, nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }
