package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/configs"
	"github.com/natsbc/natsbc/diagnosis"
	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/nat"
	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/registrar"
	"github.com/natsbc/natsbc/registrar/store"
	"github.com/natsbc/natsbc/sbc"
)

func run(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "check-config" {
		return checkConfig(args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "ctl" {
		return ctl(args[1:], os.Stdout, stderr)
	}
	if len(args) > 0 && args[0] == "trace" {
		return trace(args[1:], os.Stdout, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "natsbc: %v\n", err)
		return exitUsage
	}
	cfg, err := loadConfig(opts)
	if err != nil {
		fmt.Fprintf(stderr, "natsbc: bad configuration:\n%v\n", err)
		return exitUsage
	}
	level := new(slog.LevelVar)
	level.Set(cfg.LogLevel())
	log := slog.New(cfg.LogHandler(stderr, level))
	state, err := openState(cfg.StateFile(), opts.resetState, log)
	if err != nil {
		fmt.Fprintf(stderr, "natsbc: %v\n", err)
		return exitUsage
	}
	defer closeState(state, log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, opts, cfg, state, level, log); err != nil {
		log.Error("natsbc stopped", "error", err)
		fmt.Fprintf(stderr, "natsbc: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// serve wires the packages (the only place that does), runs until ctx is
// cancelled, then drains.
func serve(ctx context.Context, opts options, cfg *configs.Config, state *store.Store, level *slog.LevelVar, log *slog.Logger) error {
	sc := cfg.SBC()
	var disk registrar.Disk
	if state != nil {
		disk = state
		if sc.Registrations.TokenSecret == nil {
			// Tokens the PBX holds stay valid across restarts.
			key, err := state.TokenKey(tokenKeySize)
			if err != nil {
				return fmt.Errorf("state file %s: token key: %w", state.Path(), err)
			}
			sc.Registrations.TokenSecret = key
		}
	}
	// sipgo keeps its timers and size limits in package globals: set them
	// once, here.
	sip.SetTimers(sc.T1, sc.T2, sc.T4)
	sbc.SetSipgoSizeLimits(sc.MaxMessageSize)
	sip.SetDefaultLogger(log.With("component", "sipgo"))

	pol, err := policy.New(cfg.Policy())
	if err != nil {
		return err
	}
	// TLS files are re-read on SIGHUP and when they change on disk.
	tlsFiles := certs.NewStore(log.With("component", "tls"))
	defer tlsFiles.Close()
	listeners, err := openListeners(cfg.Listen(), tlsFiles)
	if err != nil {
		return err
	}
	tlsFiles.Watch(certs.DefaultPoll)
	adminLn, err := listenAdmin(cfg)
	if err != nil {
		closeListeners(listeners)
		return err
	}
	hepOut, err := openHEP(cfg, log.With("component", "hep"))
	if err != nil {
		closeListeners(listeners)
		closeAdminListener(adminLn)
		return err
	}
	var tap ingress.Tap
	if hepOut != nil {
		// Closed last: the drain's BYEs are exported too.
		defer hepOut.Close()
		tap = hepOut
	}
	anchor, closeAnchor, err := newAnchor(cfg, hepOut, log)
	if err != nil {
		closeListeners(listeners)
		closeAdminListener(adminLn)
		return err
	}
	defer closeAnchor()
	records, err := openCallRecords(cfg)
	if err != nil {
		closeListeners(listeners)
		closeAdminListener(adminLn)
		return err
	}
	var callRecords sbc.CallRecorder
	if records != nil {
		// Closed after the drain: the calls it ends are recorded too.
		defer records.Close()
		callRecords = records
	}
	srv, err := sbc.New(sbc.Options{
		Config:         sc,
		Listeners:      listeners,
		Policy:         pol,
		Router:         nat.Fallback(nat.NewNetlinkRouter(), configuredRouter(cfg.Listen())),
		Media:          anchor,
		Locator:        newLocator(cfg, log),
		Logger:         log,
		STUNRefresh:    cfg.NATRefresh(),
		WatchAddresses: watchAddresses(log),
		State:          disk,
		Security:       cfg.Shield(),
		TCP:            cfg.TCPLimits(),
		CallRecords:    callRecords,
		Tap:            tap,
		Diagnosis:      diagnosis.NewRecorder(cfg.Diagnosis.KeepCalls),
		Certs:          tlsFiles,
	})
	if err != nil {
		closeListeners(listeners)
		closeAdminListener(adminLn)
		return err
	}
	if hepOut != nil {
		hepOut.correlate = srv.CorrelationID
	}
	if err := srv.Start(); err != nil {
		_ = srv.Close()
		closeAdminListener(adminLn)
		return err
	}
	reloads := newReloader(opts, cfg, srv, anchor, level, log)
	reloads.certs = tlsFiles
	// SIGHUP reloads the configuration and reopens the call records
	// (logrotate's postrotate).
	defer onHangup(ctx, log, func() {
		reloads.reload()
		if records != nil {
			reopenCallRecords(records, log)
		}
	})()
	if adminLn != nil {
		// Closed after the drain, so metrics stay readable during it.
		admin := startAdmin(adminLn, adminDeps{stats: srv.Stats, bans: srv.Shield(), ops: srv, reloads: reloads, hep: hepOut}, log.With("component", "admin"))
		defer admin.Close()
		log.Info("admin endpoint ready", "listen", adminLn.Addr().String())
	}
	log.Info("natsbc ready", "listen", srv.Sockets())

	<-ctx.Done()
	log.Info("natsbc stopping", "active_calls", srv.ActiveCalls())
	// The drain itself is bounded by the configured timeout; the BYEs that
	// follow by 32*T1 each.
	sctx, cancel := context.WithTimeout(context.Background(), sc.DrainTimeout+64*sc.T1)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newAnchor is the media relay, or the passthrough when media.anchor is
// false (SDP untouched, media flows end to end).
func newAnchor(cfg *configs.Config, hepOut *hepTap, log *slog.Logger) (media.Anchor, func(), error) {
	on, mc := cfg.Media()
	if !on {
		return media.Passthrough{}, func() {}, nil
	}
	mc.Logger = log.With("component", "media")
	if hepOut != nil {
		mc.OnRTCP = hepOut.RTCP
	}
	a, err := media.NewRelayAnchor(mc)
	if err != nil {
		return nil, nil, err
	}
	return a, func() { _ = a.Close() }, nil
}

// watchAddresses follows the host's addresses over netlink.
func watchAddresses(log *slog.Logger) func(context.Context, func(nat.AddrEvent)) (func(), error) {
	return func(ctx context.Context, onChange func(nat.AddrEvent)) (func(), error) {
		w, err := nat.WatchAddresses(ctx, nat.AddrWatchConfig{Logger: log.With("component", "addrwatch"), OnChange: onChange})
		if err != nil {
			return nil, err
		}
		return w.Close, nil
	}
}

func checkConfig(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: natsbc check-config FILE")
		return exitUsage
	}
	cfg, err := configs.Load(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: ok (%d sockets, %d peers)\n", args[0], len(cfg.Listen()), len(cfg.Peers))
	return exitOK
}
