package policy

import "testing"

func TestContactFix(t *testing.T) {
	endpoint := Peer{Name: "phones", Role: RoleEndpoint, NAT: NATAuto}
	unknown := Peer{Role: RoleEndpoint, NAT: NATAuto}
	tests := []struct {
		name     string
		peer     Peer
		rr, nat  bool
		wantFix  bool
		wantRule string
	}{
		{"never beats detection", Peer{Name: "pbx", Role: RolePBX, NAT: NATNever}, false, true,
			false, "peer pbx nat=never"},
		{"never on an end-point", Peer{Name: "desk", Role: RoleEndpoint, NAT: NATNever}, false, true,
			false, "peer desk nat=never"},
		{"always on a trunk", Peer{Name: "carrier", Role: RoleTrunk, NAT: NATAlways}, false, false,
			true, "peer carrier nat=always"},
		{"always beats Record-Route", Peer{Name: "carrier", Role: RoleTrunk, NAT: NATAlways}, true, false,
			true, "peer carrier nat=always"},
		{"pbx keeps its Contact", Peer{Name: "pbx", Role: RolePBX, NAT: NATAuto}, false, true,
			false, "peer pbx is a pbx: stays in path, Contact kept"},
		{"proxy keeps its Contact", Peer{Name: "core", Role: RoleProxy, NAT: NATAuto}, true, true,
			false, "peer core is a proxy: stays in path, Contact kept"},
		{"trunk keeps its Contact", Peer{Name: "itsp", Role: RoleTrunk, NAT: NATAuto}, false, true,
			false, "peer itsp is a trunk: stays in path, Contact kept"},
		{"Record-Route from an end-point source", endpoint, true, true,
			false, "Record-Route present: route set, Contact kept"},
		{"Record-Route from unknown source", unknown, true, true,
			false, "Record-Route present: route set, Contact kept"},
		{"NATed known end-point", endpoint, false, true,
			true, "NATed end-point: routed to its flow"},
		{"NATed unknown end-point", unknown, false, true,
			true, "NATed end-point: routed to its flow"},
		{"reachable end-point", endpoint, false, false,
			false, "end-point not NATed: Contact used"},
		{"reachable unknown end-point", unknown, false, false,
			false, "end-point not NATed: Contact used"},
		{"zero peer behaves as unknown auto end-point", Peer{}, false, true,
			true, "NATed end-point: routed to its flow"},
		{"unknown peer label", Peer{NAT: NATNever}, false, true,
			false, "unknown peer nat=never"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fix, rule := ContactFix(tt.peer, tt.rr, tt.nat)
			if fix != tt.wantFix || rule != tt.wantRule {
				t.Errorf("ContactFix = %v, %q; want %v, %q", fix, rule, tt.wantFix, tt.wantRule)
			}
		})
	}
}
