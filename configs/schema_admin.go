package configs

import (
	"net/netip"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// AdminConfig is the `admin:` section: natsbc's HTTP endpoint for
// Prometheus metrics, pprof profiles and the admin API (`natsbc ctl`).
type AdminConfig struct {
	// Listen is where the endpoint binds; the zero value (`listen: ""`,
	// the default) serves nothing.
	Listen netip.AddrPort
	// Token is the bearer token every request must carry (admin.token, or
	// the first line of admin.token_file); "" lets anyone who reaches a
	// loopback listener in.
	Token string
}

// admin decodes the `admin:` section. An empty listen is the documented
// way to say "off", so it is not an address error.
func (d *decoder) admin(n *yaml.Node, path string, a *AdminConfig) {
	var tokenNode, fileNode *yaml.Node
	var file string
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"listen": func(n *yaml.Node, p string) {
			if s, ok := d.scalar(n, p); ok && s == "" {
				a.Listen = netip.AddrPort{}
				return
			}
			d.addrPort(&a.Listen)(n, p)
		},
		"token": func(n *yaml.Node, p string) {
			tokenNode = n
			d.str(&a.Token)(n, p)
		},
		"token_file": func(n *yaml.Node, p string) {
			fileNode = n
			d.str(&file)(n, p)
		},
	})
	switch {
	case tokenNode != nil && fileNode != nil:
		d.fail(fileNode, path+".token_file", "give admin.token or admin.token_file, not both")
	case fileNode != nil && file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			d.fail(fileNode, path+".token_file", "%v", err)
			return
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if a.Token = strings.TrimSpace(line); a.Token == "" {
			d.fail(fileNode, path+".token_file", "%s: the first line is empty", file)
		}
	}
}

// checkAdmin: the endpoint is a TCP listener like any other, so it needs a
// concrete port. The admin API can hang up calls and reload the
// configuration: off loopback it needs a token.
func (k *checker) checkAdmin(a *AdminConfig) {
	if !a.Listen.IsValid() {
		return
	}
	switch {
	case a.Listen.Port() == 0:
		k.fail("admin.listen", "port 0 is not allowed: scrapers need a known port")
	case a.Listen.Addr().IsMulticast():
		k.fail("admin.listen", "%s is a multicast address", a.Listen.Addr())
	case !a.Listen.Addr().IsLoopback() && a.Token == "":
		k.fail("admin.listen", "%s is not a loopback address: set admin.token or admin.token_file (the admin API hangs up calls and reloads the configuration)", a.Listen.Addr())
	case a.Token != "" && len(a.Token) < 16:
		k.fail("admin.token", "a token of %d characters is guessable: use at least 16", len(a.Token))
	}
}

// AdminListen is where the admin endpoint listens; ok is false when it is
// off.
func (c *Config) AdminListen() (addr netip.AddrPort, ok bool) {
	return c.Admin.Listen, c.Admin.Listen.IsValid()
}
