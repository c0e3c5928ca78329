package registrar

import "testing"

func TestMemBindings(t *testing.T) {
	m := newMemBindings()
	a1 := &entry{Binding: Binding{ID: 1, AoR: "sip:a@x", Key: "sip:a@x\x00sip:a@10.0.0.1"}}
	a2 := &entry{Binding: Binding{ID: 2, AoR: "sip:a@x", Key: "sip:a@x\x00sip:a@10.0.0.2"}}
	b1 := &entry{Binding: Binding{ID: 3, AoR: "sip:b@x", Key: "sip:b@x\x00sip:b@10.0.0.3"}}
	for _, b := range []*entry{a1, a2, b1} {
		m.put(b)
	}
	m.put(a1) // a refresh puts the same binding again
	if m.count() != 3 {
		t.Fatalf("count = %d, want 3", m.count())
	}
	if got := m.ofAOR("sip:a@x"); len(got) != 2 {
		t.Errorf("ofAOR(a) = %d bindings, want 2", len(got))
	}
	if got, ok := m.byKey(a2.Key); !ok || got != a2 {
		t.Errorf("byKey(a2) = %v, %v", got, ok)
	}

	// A new binding for the same contact replaces the old one entirely.
	a1b := &entry{Binding: Binding{ID: 4, AoR: a1.AoR, Key: a1.Key}}
	m.put(a1b)
	if _, ok := m.byID(1); ok {
		t.Error("replaced binding still found by id")
	}
	if got, _ := m.byKey(a1.Key); got != a1b || m.count() != 3 {
		t.Errorf("after replace: byKey = %v, count = %d", got, m.count())
	}

	// Removal happens once: expiry and keepalive racing on one binding
	// must not both un-register it.
	if !m.remove(a2) || m.remove(a2) {
		t.Error("remove(a2) twice: want true then false")
	}
	if m.remove(a1) {
		t.Error("removing a binding that was replaced reported true")
	}
	m.remove(a1b)
	if got := m.ofAOR("sip:a@x"); len(got) != 0 || m.count() != 1 || len(m.all()) != 1 {
		t.Errorf("after removals: ofAOR = %d, count = %d", len(got), m.count())
	}
}
