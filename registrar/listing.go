package registrar

import (
	"sort"
	"time"
)

// Listing is one binding as an operator sees it (the admin API): where
// the phone is, what natsbc decided about its NAT, and its keepalive state.
type Listing struct {
	ID         uint64    `json:"id"`
	AoR        string    `json:"aor"`
	Contact    string    `json:"contact"`
	Token      string    `json:"token"`
	Flow       string    `json:"flow"`
	Local      string    `json:"local"`
	NAT        string    `json:"nat"`
	Checks     []string  `json:"checks"`
	Keepalive  bool      `json:"keepalive"`
	Answered   bool      `json:"answered"`
	Missed     int       `json:"keepalives_missed"`
	NextPing   time.Time `json:"next_keepalive,omitzero"`
	Granted    int       `json:"granted"`
	Expires    time.Time `json:"expires"`
	PBXExpires time.Time `json:"pbx_expires"`
	Registrar  string    `json:"registrar"`
}

// List returns every binding, by AoR and then id.
func (r *Registrar) List() []Listing {
	r.mu.Lock()
	out := make([]Listing, 0, r.store.count())
	for _, e := range r.store.all() {
		l := Listing{
			ID: e.ID, AoR: e.AoR, Contact: e.URI.String(), Token: e.Token, Flow: e.Flow.String(), Local: e.Flow.Local.String(),
			NAT: e.Verdict.Kind, Checks: append([]string{}, e.Verdict.Checks...), Keepalive: e.Verdict.Keepalive,
			Answered: e.Answered, Missed: e.missed, Granted: e.Granted, Expires: e.Expires, PBXExpires: e.PBXExpires,
			Registrar: e.PBX.Dst.String(),
		}
		if e.Verdict.Keepalive {
			l.NextPing = e.nextPing
		}
		out = append(out, l)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].AoR != out[j].AoR {
			return out[i].AoR < out[j].AoR
		}
		return out[i].ID < out[j].ID
	})
	return out
}
