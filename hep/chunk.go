package hep

// Chunk type ids of the generic vendor (0x0000), named as in the HEP3
// specification. Only the ones natsbc writes are listed; Decode skips the
// others (VLAN, MAC addresses, MOS, compressed payload, ...).
const (
	vendorGeneric = 0x0000

	chunkFamily        = 0x0001 // uint8 IP protocol family
	chunkProto         = 0x0002 // uint8 IP protocol ID
	chunkIPv4Src       = 0x0003 // inet4-addr IPv4 source address
	chunkIPv4Dst       = 0x0004 // inet4-addr IPv4 destination address
	chunkIPv6Src       = 0x0005 // inet6-addr IPv6 source address
	chunkIPv6Dst       = 0x0006 // inet6-addr IPv6 destination address
	chunkSrcPort       = 0x0007 // uint16 protocol source port
	chunkDstPort       = 0x0008 // uint16 protocol destination port
	chunkTimeSec       = 0x0009 // uint32 timestamp, seconds since 01/01/1970
	chunkTimeUsec      = 0x000a // uint32 timestamp microseconds offset
	chunkType          = 0x000b // uint8 protocol type
	chunkCaptureID     = 0x000c // uint32 capture agent ID
	chunkAuthKey       = 0x000e // octet-string authenticate key
	chunkPayload       = 0x000f // octet-string captured packet payload
	chunkCorrelationID = 0x0011 // octet-string internal correlation id
)
