#!/usr/bin/env bash
# Installs the system packages the NAT lab needs (Debian/Ubuntu).
# Idempotent: when everything is present it only checks and exits.
set -euo pipefail

# gcc and libc6-dev: the race detector (-race) needs cgo. baresip-core,
# linphone-nogtk (linphonec) and tshark: the real phones and the capture
# that counts their RTP on the wire (test/natlab/phones_*). sipvicious:
# the scanner the security scenarios run against natsbc. sngrep: the HEP
# collector the operations scenario captures with. chromium: the browser that
# opens the web view (headless) and saves its screenshot, and the browser phone
# (JsSIP over WSS, DTLS-SRTP) of the secure-media scenarios; JsSIP itself is
# vendored (test/natlab/testdata/jssip), so no node or npm. linphone-nogtk also
# brings (through linphone-cli, linphone-common) the 8 kHz wav baresip sends as
# PCMU (/usr/share/sounds/linphone). kamailio-tls-modules: the TLS trunk with
# mutual TLS (test/natlab/tls_test.go).
pkgs=(sip-tester kamailio kamailio-tls-modules iptables iproute2 conntrack procps ca-certificates gcc libc6-dev
	baresip-core linphone-nogtk tshark sipvicious sngrep chromium)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	echo "deps: all present (${pkgs[*]})"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from starting daemons (kamailio) on the host: the
# lab runs its own instances inside network namespaces.
added_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	added_policy=1
fi
cleanup() { if ((added_policy)); then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

# tshark's package asks whether non-root users may capture; answer it
# beforehand (no: the lab captures as root) so nothing waits on a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections

echo "deps: installing ${missing[*]}"
apt-get update </dev/null
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
