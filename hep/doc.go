// Package hep writes and reads HEP v3 ("HEP3", the Homer Encapsulation
// Protocol, also called EEP) packets and sends them to a capture collector
// such as Homer without ever blocking the SIP path that produces them.
//
// A HEP3 packet is the 4 bytes "HEP3", a big-endian uint16 total length
// (header included), and a sequence of chunks. Every chunk is a 6-byte
// header (vendor id uint16, chunk type id uint16, chunk length uint16 that
// includes the header) followed by its value; all integers are big endian.
package hep
