package main

import (
	"log/slog"

	"github.com/natsbc/natsbc/configs"
	"github.com/natsbc/natsbc/resolve"
	"github.com/natsbc/natsbc/sbc"
)

// newLocator is the RFC 3263 resolver of sip.dns_servers; nil (sbc's
// default: the servers of /etc/resolv.conf) when none are configured.
func newLocator(cfg *configs.Config, log *slog.Logger) sbc.Locator {
	servers := cfg.DNSServers()
	if len(servers) == 0 {
		return nil
	}
	c, err := resolve.NewClient(servers)
	if err != nil {
		// Unreachable with servers given; keep sbc's default then.
		log.Warn("DNS client not created", "error", err)
		return nil
	}
	log.Info("DNS servers", "servers", servers)
	return resolve.New(c, resolve.Options{})
}
