package cdr

import "time"

// Record is one ended call, as both of natsbc's legs saw it.
type Record struct {
	ACallID string `json:"a_call_id"`
	BCallID string `json:"b_call_id"`
	From    string `json:"from"`
	To      string `json:"to"`
	// APeer and BPeer name the configured peers of the legs ("unknown"
	// for a phone); ASource is where the caller's INVITE came from.
	APeer   string `json:"a_peer"`
	BPeer   string `json:"b_peer"`
	ASource string `json:"a_source"`
	// BNextHop is where natsbc sent the B-leg's INVITE.
	BNextHop string     `json:"b_next_hop"`
	Start    time.Time  `json:"start"`
	Answer   *time.Time `json:"answer,omitempty"`
	End      time.Time  `json:"end,omitzero"` // zero: the call is up (admin API)
	// DurationMS runs from the answer to the end (0 for a call never
	// answered); SetupMS from the start to the answer.
	DurationMS int64  `json:"duration_ms"`
	SetupMS    int64  `json:"setup_ms,omitempty"`
	Reason     string `json:"reason"`
	// NAT verdicts and route rules of each leg: why natsbc sent its
	// requests where it did.
	ANAT       string `json:"a_nat"`
	BNAT       string `json:"b_nat"`
	ARouteRule string `json:"a_route_rule"`
	BRouteRule string `json:"b_route_rule"`
	// Media holds the relay's statistics per direction (media.CallStats).
	Media any `json:"media"`
}
