package configs

// DNSServers is sip.dns_servers as host:port strings for resolve.NewClient;
// nil means the servers of /etc/resolv.conf.
func (c *Config) DNSServers() []string {
	var out []string
	for _, ap := range c.SIP.DNSServers {
		out = append(out, ap.String())
	}
	return out
}
