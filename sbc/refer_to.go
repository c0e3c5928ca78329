package sbc

import (
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// referToReplaces finds the Replaces header embedded in a Refer-To value
// (RFC 3515 §2.1, RFC 3891 §7: <sip:target?Replaces=escaped-value>). It
// returns the value, unescaped and parsed, and where its escaped text sits
// in v so that a mapped value can be spliced in without touching anything
// else. found is false when the target carries no Replaces; err when it is
// there but unreadable.
func referToReplaces(v string) (r replacesValue, start, end int, found bool, err error) {
	var u sip.Uri
	hp := sip.NewParams()
	if _, err := sip.ParseAddressValue(v, &u, &hp); err != nil {
		return replacesValue{}, 0, 0, false, err
	}
	q := strings.IndexByte(v, '?')
	if q < 0 || u.Headers == nil {
		return replacesValue{}, 0, 0, false, nil
	}
	for _, kv := range u.Headers {
		if !strings.EqualFold(kv.K, "Replaces") {
			continue
		}
		// sipgo keeps header values as escaped on the wire: find that text
		// after the '?' that starts the URI's headers.
		key := kv.K + "=" + kv.V
		at := strings.Index(v[q:], key)
		if at < 0 {
			return replacesValue{}, 0, 0, true, errBadReplaces
		}
		start = q + at + len(kv.K) + 1
		end = start + len(kv.V)
		raw, err := url.PathUnescape(kv.V)
		if err != nil {
			return replacesValue{}, 0, 0, true, err
		}
		r, err = parseReplaces(raw)
		return r, start, end, true, err
	}
	return replacesValue{}, 0, 0, false, nil
}

// escapeURIHeader escapes a value for a SIP URI header (RFC 3261 §25.1:
// hvalue = *( hnv-unreserved / unreserved / escaped )).
func escapeURIHeader(v string) string {
	const keep = "[]/?:+$-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}
