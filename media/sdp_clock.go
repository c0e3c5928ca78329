package media

// staticClockRate is the RTP clock rate of a static payload type, 0 for a
// dynamic or unassigned one.
//
// RFC 3551 §6, tables 4 and 5. G722 (9) runs its RTP clock at 8000 Hz
// although it samples at 16000 (§4.5.2).
func staticClockRate(pt uint8) uint32 {
	switch pt {
	case 0, 3, 4, 5, 7, 8, 9, 12, 13, 15, 18: // PCMU GSM G723 DVI4 LPC PCMA G722 QCELP CN G728 G729
		return 8000
	case 6: // DVI4
		return 16000
	case 10, 11: // L16 stereo, mono
		return 44100
	case 16: // DVI4
		return 11025
	case 17: // DVI4
		return 22050
	case 14, 25, 26, 28, 31, 32, 33, 34: // MPA CelB JPEG nv H261 MPV MP2T H263
		return 90000
	}
	return 0
}
