package configs

import (
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/natsbc/natsbc/certs"
)

// WebSocket defaults of a ws/wss listen entry (RFC 6455 §5.5.2 pings keep
// a live browser's connection busy, so only a dead one idles out).
const (
	DefaultWSIdleTimeout  = 120 * time.Second
	DefaultWSPingInterval = 30 * time.Second
)

// listenTLS decodes a listen entry's `tls:` mapping.
func (d *decoder) listenTLS(dst *certs.Server) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		d.mapping(n, p, map[string]func(*yaml.Node, string){
			"cert_file":      d.fileName(&dst.CertFile),
			"key_file":       d.fileName(&dst.KeyFile),
			"client_ca_file": d.fileName(&dst.ClientCAFile),
			"verify_clients": d.str(&dst.VerifyClients),
		})
	}
}

// peerTLS decodes a peer's `tls:` mapping.
func (d *decoder) peerTLS(dst *certs.Client) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		d.mapping(n, p, map[string]func(*yaml.Node, string){
			"ca_file":     d.fileName(&dst.CAFile),
			"server_name": d.str(&dst.ServerName),
			"cert_file":   d.fileName(&dst.CertFile),
			"key_file":    d.fileName(&dst.KeyFile),
		})
	}
}

// fileName decodes a file name; a relative one is taken from the directory of
// the configuration file, wherever natsbc was started.
func (d *decoder) fileName(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		if s != "" && !filepath.IsAbs(s) {
			s = filepath.Join(filepath.Dir(d.file), s)
		}
		*dst = s
	}
}
