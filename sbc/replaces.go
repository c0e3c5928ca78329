package sbc

import (
	"errors"
	"strings"
)

// replacesValue is a Replaces header value (RFC 3891 §6.1):
//
//	Replaces = callid *(SEMI replaces-param)
//	replaces-param = to-tag / from-tag / early-flag / generic-param
//
// The dialog it names is seen from the UA that receives it: to-tag is that
// UA's local tag, from-tag its remote tag (§3). params keeps every
// parameter in its order, so the early-only flag and unknown parameters
// survive a rewrite of the tags.
type replacesValue struct {
	callID, toTag, fromTag string
	params                 []string // "name" or "name=value", as received
}

var errBadReplaces = errors.New("malformed Replaces")

// parseReplaces reads a Replaces value. RFC 3891 §6.1 makes to-tag and
// from-tag mandatory, each once.
func parseReplaces(v string) (replacesValue, error) {
	parts := strings.Split(v, ";")
	r := replacesValue{callID: strings.TrimSpace(parts[0])}
	if r.callID == "" || strings.ContainsAny(r.callID, " \t\r\n,") {
		return replacesValue{}, errBadReplaces
	}
	var haveTo, haveFrom bool
	for _, p := range parts[1:] {
		name, value, hasValue := strings.Cut(strings.TrimSpace(p), "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if name == "" || strings.ContainsAny(name+value, " \t\r\n,") {
			return replacesValue{}, errBadReplaces
		}
		switch strings.ToLower(name) {
		case "to-tag":
			if haveTo || value == "" {
				return replacesValue{}, errBadReplaces
			}
			haveTo, r.toTag = true, value
		case "from-tag":
			if haveFrom || value == "" {
				return replacesValue{}, errBadReplaces
			}
			haveFrom, r.fromTag = true, value
		}
		if hasValue {
			r.params = append(r.params, name+"="+value)
		} else {
			r.params = append(r.params, name)
		}
	}
	if !haveTo || !haveFrom {
		return replacesValue{}, errBadReplaces
	}
	return r, nil
}

// String writes the value back, the tags as they are now, every other
// parameter as it came.
func (r replacesValue) String() string {
	var b strings.Builder
	b.WriteString(r.callID)
	for _, p := range r.params {
		b.WriteByte(';')
		name, _, _ := strings.Cut(p, "=")
		switch strings.ToLower(name) {
		case "to-tag":
			b.WriteString("to-tag=" + r.toTag)
		case "from-tag":
			b.WriteString("from-tag=" + r.fromTag)
		default:
			b.WriteString(p)
		}
	}
	return b.String()
}
