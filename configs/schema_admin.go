package configs

import (
	"net/netip"

	"gopkg.in/yaml.v3"
)

// AdminConfig is the `admin:` section: natsbc's HTTP endpoint for
// Prometheus metrics and pprof profiles.
type AdminConfig struct {
	// Listen is where the endpoint binds; the zero value (`listen: ""`,
	// the default) serves nothing.
	Listen netip.AddrPort
}

// admin decodes the `admin:` section. An empty listen is the documented
// way to say "off", so it is not an address error.
func (d *decoder) admin(n *yaml.Node, path string, a *AdminConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"listen": func(n *yaml.Node, p string) {
			if s, ok := d.scalar(n, p); ok && s == "" {
				a.Listen = netip.AddrPort{}
				return
			}
			d.addrPort(&a.Listen)(n, p)
		},
	})
}

// checkAdmin: the endpoint is a TCP listener like any other, so it needs a
// concrete port; it has no authentication, which the README says (bind it
// to loopback or a management network).
func (k *checker) checkAdmin(a *AdminConfig) {
	if !a.Listen.IsValid() {
		return
	}
	switch {
	case a.Listen.Port() == 0:
		k.fail("admin.listen", "port 0 is not allowed: scrapers need a known port")
	case a.Listen.Addr().IsMulticast():
		k.fail("admin.listen", "%s is a multicast address", a.Listen.Addr())
	}
}

// AdminListen is where the admin endpoint listens; ok is false when it is
// off.
func (c *Config) AdminListen() (addr netip.AddrPort, ok bool) {
	return c.Admin.Listen, c.Admin.Listen.IsValid()
}
