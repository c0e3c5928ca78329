package main

import "testing"

func TestSmokeCheck(t *testing.T) {
	all := map[string]bool{"cps": true, "media": true}
	ok := &results{
		CPS: []cpsResult{{Steps: []cpsStep{{uacResult: uacResult{Successful: 1}}}}},
		Media: &mediaResult{
			Direct: []mediaRun{{Report: loadgenReport{CallsUp: 1, AToB: loadgenDirection{Received: 1}, BToA: loadgenDirection{Received: 1}}}},
			Via:    []mediaRun{{Report: loadgenReport{CallsUp: 1, AToB: loadgenDirection{Received: 1}, BToA: loadgenDirection{Received: 1}}}},
		},
	}
	if err := smokeCheck(ok, all); err != nil {
		t.Errorf("a working run fails the smoke check: %v", err)
	}
	noCalls := &results{CPS: []cpsResult{{Name: "x", Steps: []cpsStep{{}}}}}
	if err := smokeCheck(noCalls, all); err == nil {
		t.Error("a CPS part with no successful call passes")
	}
	deaf := &results{Media: &mediaResult{
		Direct: ok.Media.Direct,
		Via:    []mediaRun{{Report: loadgenReport{CallsUp: 1, AToB: loadgenDirection{Received: 1}}}},
	}}
	if err := smokeCheck(deaf, all); err == nil {
		t.Error("media that never came back passes")
	}
}
