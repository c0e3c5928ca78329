package main

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/configs"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/sbc"
)

// reloader re-reads the configuration (SIGHUP, `natsbc ctl reload`) and
// applies what can change while calls run: peers, routes, limits, log
// level, keepalive, registration and media knobs, the admin token. They
// take effect for new calls and bindings; running ones keep theirs. A bad
// file changes nothing and every problem is reported; settings that only
// a restart applies keep their running values and are named.
type reloader struct {
	opts   options
	srv    *sbc.Server
	anchor *media.RelayAnchor // nil: media passthrough
	// certs re-reads every TLS file at each reload (nil: none).
	certs *certs.Store
	level *slog.LevelVar
	log   *slog.Logger

	mu  sync.Mutex // one reload at a time
	cfg *configs.Config
	// running is the configuration in force, read by the admin API.
	running sync.Mutex
}

// reloadReport is the answer of a reload (the admin API's JSON).
type reloadReport struct {
	Applied       bool     `json:"applied"`
	Errors        []string `json:"errors,omitempty"`
	RestartNeeded []string `json:"restart_needed,omitempty"`
}

func newReloader(opts options, cfg *configs.Config, srv *sbc.Server, anchor media.Anchor, level *slog.LevelVar, log *slog.Logger) *reloader {
	r := &reloader{opts: opts, cfg: cfg, srv: srv, level: level, log: log}
	r.anchor, _ = anchor.(*media.RelayAnchor)
	return r
}

// current is the configuration in force.
func (r *reloader) current() *configs.Config {
	r.running.Lock()
	defer r.running.Unlock()
	return r.cfg
}

func (r *reloader) reload() reloadReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.certs != nil {
		// Certificates are re-read even when the file has problems: a
		// renewed certificate must not wait for a config fix.
		r.certs.Reload()
	}
	next, err := loadConfig(r.opts)
	if err != nil {
		return r.refused(err)
	}
	pol, err := policy.New(next.Policy())
	if err != nil {
		return r.refused(err)
	}
	old := r.current()
	// admin.listen changes only at a restart: the token the new file
	// gives must still guard the socket that is open.
	if l := old.Admin.Listen; l.IsValid() && !l.Addr().IsLoopback() && next.Admin.Token == "" {
		return r.refused(fmt.Errorf("%s: admin.token: the admin endpoint listens on %s (not loopback) until a restart: it keeps needing a token", r.opts.configFile, l))
	}
	var rep reloadReport
	rep.RestartNeeded = restartOnly(old, next)
	if r.anchor != nil {
		_, mc := next.Media()
		if err := r.anchor.Retune(media.Tuning{Timeout: mc.Timeout, HoldTimeout: mc.HoldTimeout, LatchWindow: mc.LatchWindow, MaxStreams: mc.MaxStreams}); err != nil {
			return r.refused(err)
		}
	}
	sc := next.SBC()
	if next.Registrations.TokenSecret == "" {
		sc.Registrations.TokenSecret = nil // the running key (random or from the state file) stays
	}
	rep.RestartNeeded = append(rep.RestartNeeded, r.srv.Reload(sbc.Reload{Config: sc, Policy: pol})...)
	r.level.Set(next.LogLevel())
	r.running.Lock()
	r.cfg = next
	r.running.Unlock()
	rep.Applied = true
	r.log.Info("configuration reloaded", "file", r.opts.configFile, "restart_needed_for", rep.RestartNeeded)
	return rep
}

func (r *reloader) refused(err error) reloadReport {
	rep := reloadReport{Errors: strings.Split(strings.TrimSpace(err.Error()), "\n")}
	r.log.Error("configuration not reloaded: the running one stays", "file", r.opts.configFile, "errors", rep.Errors)
	return rep
}

// restartOnly names the sections that changed from old to next but only
// apply at start: sockets that are open, the state file, the shield (its
// tables are sized and keyed at start), the relay's port range.
func restartOnly(old, next *configs.Config) []string {
	_, om := old.Media()
	_, nm := next.Media()
	oldAnchor, _ := old.Media()
	newAnchor, _ := next.Media()
	parts := []struct {
		name string
		a, b any
	}{
		{"listen", old.Sockets, next.Sockets},
		{"admin.listen", old.Admin.Listen, next.Admin.Listen},
		{"log.format", old.Log.Format, next.Log.Format},
		{"registrations.state_file", old.Registrations.StateFile, next.Registrations.StateFile},
		{"cdr.path", old.CDR, next.CDR},
		{"hep", old.HEP, next.HEP},
		{"diagnosis.keep_calls", old.Diagnosis, next.Diagnosis},
		{"security", old.Security, next.Security},
		{"nat", old.NAT, next.NAT},
		{"sip.dns_servers", old.SIP.DNSServers, next.SIP.DNSServers},
		{"media.anchor", oldAnchor, newAnchor},
		{"media.ports", [2]int{om.PortMin, om.PortMax}, [2]int{nm.PortMin, nm.PortMax}},
		{"media.listen_ip", om.ListenIP, nm.ListenIP},
		{"media.drain", om.Drain, nm.Drain},
	}
	var out []string
	for _, p := range parts {
		if !reflect.DeepEqual(p.a, p.b) {
			out = append(out, p.name)
		}
	}
	return out
}
