// The lab's side of every test page: events to the test (POST /event),
// commands from it (GET /command), and the audio figures of an
// RTCPeerConnection's getStats() in one flat shape the test reads.
'use strict';

const lab = {
  params: new URLSearchParams(location.search),

  // report sends one event; the test awaits events by their msg.
  async report(msg, fields) {
    const body = JSON.stringify(Object.assign({ msg: msg, at: Date.now() }, fields || {}));
    console.log('natlab event ' + body.slice(0, 300));
    try {
      await fetch('/event', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body });
    } catch (e) {
      console.log('natlab: event not delivered: ' + e);
    }
  },

  // fail reports an error event: the test stops waiting and shows it.
  fail(where, err) {
    return lab.report('error', { where: where, error: String((err && err.stack) || err) });
  },

  // command waits for the test's next command ("hangup").
  async command() {
    for (;;) {
      try {
        const res = await fetch('/command');
        const cmd = (await res.text()).trim();
        if (cmd) return cmd;
      } catch (e) {
        await lab.sleep(500);
      }
    }
  },

  sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  },

  // audioStats flattens getStats() to what the scenarios assert and what
  // a failure needs to explain itself: packets each way, the codec, and
  // the transport (ICE, DTLS, SRTP, the candidate pair in use).
  async audioStats(pc) {
    const report = await pc.getStats();
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    const out = { inbound: null, outbound: null, transport: null, pair: null };
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        const codec = byId.get(s.codecId);
        out.inbound = {
          ssrc: s.ssrc, packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived,
          packetsLost: s.packetsLost, jitter: s.jitter, codec: codec ? codec.mimeType + '/' + codec.clockRate : '',
          payloadType: codec ? codec.payloadType : undefined,
        };
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        const codec = byId.get(s.codecId);
        out.outbound = {
          ssrc: s.ssrc, packetsSent: s.packetsSent, bytesSent: s.bytesSent,
          codec: codec ? codec.mimeType + '/' + codec.clockRate : '', payloadType: codec ? codec.payloadType : undefined,
        };
      }
      if (s.type === 'transport') {
        out.transport = {
          iceState: s.iceState, dtlsState: s.dtlsState, dtlsRole: s.dtlsRole, srtpCipher: s.srtpCipher,
          tlsVersion: s.tlsVersion, dtlsCipher: s.dtlsCipher, packetsSent: s.packetsSent, packetsReceived: s.packetsReceived,
        };
        const pair = byId.get(s.selectedCandidatePairId);
        if (pair) {
          const local = byId.get(pair.localCandidateId) || {};
          const remote = byId.get(pair.remoteCandidateId) || {};
          out.pair = {
            state: pair.state, nominated: pair.nominated, requestsSent: pair.requestsSent, responsesReceived: pair.responsesReceived,
            local: local.address + ':' + local.port + ' ' + local.candidateType,
            remote: remote.address + ':' + remote.port + ' ' + remote.candidateType,
          };
        }
      }
    });
    return out;
  },
};

window.addEventListener('error', (e) => lab.report('error', { where: 'window', error: e.message + ' at ' + e.filename + ':' + e.lineno }));
window.addEventListener('unhandledrejection', (e) => lab.fail('promise', e.reason));
