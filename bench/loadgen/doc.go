// Package loadgen is natsbc's SIP and RTP load generator. It plays both
// ends of every call: the caller (side A, UAC) sets calls up over SIP
// through any target, natsbc or another SBC, and the callee (side B, UAS)
// answers what the target routes to it; then every call streams G.711-like
// RTP both ways and the generator measures loss, one-way latency and its
// own ability to keep the send rate. In direct mode there is no SIP and
// the two sides stream to each other: the generator's own ceiling.
//
// Signalling (sip_*.go) is hand-built SIP over UDP, dialog-correct per RFC
// 3261: INVITE with Timer A, 100/180/200 with the Record-Route copied, the
// 2xx retransmitted until its ACK, the ACK and the BYE through the reversed
// route set. A call is up only when the callee got the ACK.
//
// Media (media_*.go, batch_conn.go, rtp_socket.go) is built for packets per
// second on a small box:
//   - Each worker owns a share of the calls (WorkerOf) and one RTP socket on
//     each side; every call's SDP names its worker's sockets, so calls share
//     a handful of sockets and are told apart by their payload.
//   - A worker wakes once per slot (a ptime cut in ten), sends that slot's
//     packets with sendmmsg and drains both its sockets with recvmmsg, all
//     MSG_DONTWAIT on raw sockets outside Go's poller: no wake-up per packet.
//   - Packets carry the run, call, direction and send time; the kernel
//     stamps every arrival (SO_TIMESTAMPNS), so latency is exact however
//     long a packet waits for the next tick, and counts the datagrams it
//     dropped at the generator's sockets (SO_RXQ_OVFL).
//   - Per-stream sequence tracking gives loss, duplicates and reordering; a
//     log-linear histogram gives latency quantiles. Nothing on the packet
//     path allocates (BenchmarkBatchRoundTrip).
//   - A tick that starts more than a ptime late, or cannot send its packets,
//     is late; more than one in a thousand and the report says the rate was
//     not kept.
//
// It is Linux only (recvmmsg, sendmmsg, socket timestamps).
package loadgen
