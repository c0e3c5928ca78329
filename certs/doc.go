// Package certs holds natsbc's TLS material: the certificate and key of
// each TLS listen socket and of each peer that wants a client certificate,
// and the CA files that verify the other side. Each file set is read into
// an atomic holder that a reload (SIGHUP) or a change of the files on disk
// (a poller) replaces, so new handshakes get the new certificate without a
// listener restart; files that do not load keep the old material and say
// why in one log line.
//
// The tls.Config builders (ServerConfig, Store.ClientConfig) read the
// holders per handshake.
package certs
