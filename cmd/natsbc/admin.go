package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/natsbc/natsbc/configs"
	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/sbc"
)

// adminEndpoint serves /metrics, /debug/pprof/, /bans and the admin API
// (api.go) on its own listener. With admin.token set, every request must
// carry it as a bearer token (Prometheus: `authorization: credentials`);
// without one, the configuration only allows a loopback listener.
type adminEndpoint struct {
	http *http.Server
	done chan struct{} // closed when Serve has returned
}

// Bans is what the admin endpoint shows and lifts of the ingress shield.
type Bans interface {
	Bans() []ingress.Ban
	Lift(src netip.Addr) bool
}

// adminDeps is what the endpoint reads and drives.
type adminDeps struct {
	stats   func() sbc.Stats
	bans    Bans
	ops     operations
	reloads *reloader
	hep     *hepTap // nil: no HEP export
}

// startAdmin serves on ln until Close. stats is read at every scrape.
func startAdmin(ln net.Listener, deps adminDeps, log *slog.Logger) *adminEndpoint {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
		statsCollector{stats: deps.stats},
	)
	if deps.hep != nil {
		reg.MustRegister(hepCollector{deps.hep.exp})
	}
	bans := deps.bans
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// pprof.Index also serves the named profiles (/debug/pprof/heap,
	// goroutine, allocs, ...); heap?gc=1 runs a GC first, which is how
	// the benchmark reads the live heap without a custom endpoint.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /bans", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		list := bans.Bans()
		if list == nil {
			list = []ingress.Ban{}
		}
		_ = json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("DELETE /bans/{ip}", func(w http.ResponseWriter, r *http.Request) {
		ip, err := netip.ParseAddr(r.PathValue("ip"))
		switch {
		case err != nil:
			http.Error(w, "not an IP address: "+r.PathValue("ip"), http.StatusBadRequest)
		case !bans.Lift(ip):
			http.Error(w, ip.String()+" is not banned", http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	if deps.ops != nil {
		routeAPI(mux, deps.ops, deps.reloads, log)
		routeWeb(mux, deps.ops, log)
	}
	var handler http.Handler = mux
	if deps.reloads != nil {
		handler = requireToken(mux, func() string { return deps.reloads.current().Admin.Token })
	}
	a := &adminEndpoint{
		http: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(a.done)
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin endpoint stopped", "error", err)
		}
	}()
	return a
}

// Close stops serving (a CPU profile in progress is cut short) and waits
// for the serving goroutine.
func (a *adminEndpoint) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := a.http.Shutdown(ctx); err != nil {
		_ = a.http.Close()
	}
	<-a.done
}

// statsCollector turns one sbc.Stats snapshot per scrape into gauges.
type statsCollector struct {
	stats func() sbc.Stats
}

var (
	activeCallsDesc = prometheus.NewDesc("natsbc_active_calls",
		"Calls from INVITE until they end.", nil, nil)
	registrationsDesc = prometheus.NewDesc("natsbc_registrations",
		"Registered contacts (bindings) natsbc holds.", nil, nil)
	subscriptionsDesc = prometheus.NewDesc("natsbc_subscriptions",
		"SUBSCRIBE dialogs (voicemail lights, busy lamps, presence) natsbc holds.", nil, nil)
	mediaSessionsDesc = prometheus.NewDesc("natsbc_media_sessions",
		"Active calls whose media natsbc relays.", nil, nil)
	ingressDroppedDesc = prometheus.NewDesc("natsbc_ingress_dropped_total",
		"Datagrams and requests the ingress shield dropped, by reason (acl, rate, banned, scanner).", []string{"reason"}, nil)
	ingress503Desc = prometheus.NewDesc("natsbc_ingress_rate_503_total",
		"503s the ingress shield answered to sources over their rate (one per excess).", nil, nil)
	bansDesc = prometheus.NewDesc("natsbc_bans_total",
		"Sources banned (rate, scanner).", nil, nil)
	unbansDesc = prometheus.NewDesc("natsbc_unbans_total",
		"Bans ended (expired or lifted on the admin endpoint).", nil, nil)
	relayPairsDesc = prometheus.NewDesc("natsbc_relay_port_pairs",
		"RTP/RTCP port pairs of media.ports, by state (in_use: held by a call; free: free or resting after one).", []string{"state"}, nil)
	unprovenDesc = prometheus.NewDesc("natsbc_unproven_dropped_total",
		"Datagrams natsbc did not send to a UDP source that has not proven it receives them, over security.unproven_credit (no amplification).", nil, nil)
	callsStartedDesc = prometheus.NewDesc("natsbc_calls_started_total",
		"Calls natsbc started (an INVITE it took), by the caller's peer (unknown: a phone).", []string{"peer"}, nil)
	callsAnsweredDesc = prometheus.NewDesc("natsbc_calls_answered_total",
		"Calls whose caller got a 2xx, by the caller's peer.", []string{"peer"}, nil)
	callsEndedDesc = prometheus.NewDesc("natsbc_calls_ended_total",
		"Calls ended, by the reason of the `call ended` log line and the caller's peer.", []string{"reason", "peer"}, nil)
	callSetupDesc = prometheus.NewDesc("natsbc_call_setup_seconds",
		"Time from a call's INVITE to the 2xx its caller got, for answered calls.", nil, nil)
	shedDesc = prometheus.NewDesc("natsbc_overload_shed_total",
		"New requests refused 503 because natsbc had limits.max_transactions in hand.", nil, nil)
	tcpOpenDesc = prometheus.NewDesc("natsbc_tcp_connections",
		"TCP connections natsbc holds on its listeners.", nil, nil)
	tcpClosedDesc = prometheus.NewDesc("natsbc_tcp_closed_total",
		"TCP connections natsbc closed itself, by reason (refused: shield or caps at accept; cut: idle, a header block too slow, or the source banned).", []string{"reason"}, nil)
)

func (statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeCallsDesc
	ch <- registrationsDesc
	ch <- mediaSessionsDesc
	ch <- subscriptionsDesc
	ch <- ingressDroppedDesc
	ch <- ingress503Desc
	ch <- bansDesc
	ch <- unbansDesc
	ch <- tcpOpenDesc
	ch <- tcpClosedDesc
	ch <- relayPairsDesc
	ch <- shedDesc
	ch <- unprovenDesc
	ch <- callsStartedDesc
	ch <- callsAnsweredDesc
	ch <- callsEndedDesc
	ch <- callSetupDesc
	for _, d := range opsDescs {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(activeCallsDesc, prometheus.GaugeValue, float64(st.ActiveCalls))
	ch <- prometheus.MustNewConstMetric(registrationsDesc, prometheus.GaugeValue, float64(st.Bindings))
	ch <- prometheus.MustNewConstMetric(mediaSessionsDesc, prometheus.GaugeValue, float64(st.MediaSessions))
	ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(st.Subscriptions))
	sh := st.Shield
	for reason, n := range map[string]uint64{"acl": sh.DroppedACL, "rate": sh.DroppedRate, "banned": sh.DroppedBanned, "scanner": sh.DroppedScanner} {
		ch <- prometheus.MustNewConstMetric(ingressDroppedDesc, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(ingress503Desc, prometheus.CounterValue, float64(sh.Answered503))
	ch <- prometheus.MustNewConstMetric(bansDesc, prometheus.CounterValue, float64(sh.Bans))
	ch <- prometheus.MustNewConstMetric(unbansDesc, prometheus.CounterValue, float64(sh.Unbans))
	ch <- prometheus.MustNewConstMetric(tcpOpenDesc, prometheus.GaugeValue, float64(st.TCP.Open))
	ch <- prometheus.MustNewConstMetric(tcpClosedDesc, prometheus.CounterValue, float64(st.TCP.Refused), "refused")
	ch <- prometheus.MustNewConstMetric(tcpClosedDesc, prometheus.CounterValue, float64(st.TCP.Cut), "cut")
	ch <- prometheus.MustNewConstMetric(shedDesc, prometheus.CounterValue, float64(st.Shed))
	if st.Calls != nil {
		collectCalls(ch, st.Calls)
	}
	if st.Ops != nil {
		collectOps(ch, st.Ops)
	}
	if st.Registrar != nil {
		collectRegistrar(ch, st.Registrar)
	}
	ch <- prometheus.MustNewConstMetric(unprovenDesc, prometheus.CounterValue, float64(sh.UnprovenDropped))
	if st.RelayPairs > 0 {
		ch <- prometheus.MustNewConstMetric(relayPairsDesc, prometheus.GaugeValue, float64(st.RelayPairs-st.RelayPairsFree), "in_use")
		ch <- prometheus.MustNewConstMetric(relayPairsDesc, prometheus.GaugeValue, float64(st.RelayPairsFree), "free")
	}
}

// listenAdmin opens admin.listen; nil when the endpoint is off.
func listenAdmin(cfg *configs.Config) (net.Listener, error) {
	addr, ok := cfg.AdminListen()
	if !ok {
		return nil, nil
	}
	ln, err := net.Listen(family("tcp", addr.Addr()), addr.String())
	if err != nil {
		// "address already in use", not "listen tcp4 ...: bind: ...".
		var sys *os.SyscallError
		if errors.As(err, &sys) {
			err = sys.Err
		}
		return nil, fmt.Errorf("cannot listen on admin.listen tcp %s: %v", addr, err)
	}
	return ln, nil
}

func closeAdminListener(ln net.Listener) {
	if ln != nil {
		_ = ln.Close()
	}
}

// collectCalls turns the call counters into metrics.
func collectCalls(ch chan<- prometheus.Metric, c *sbc.CallCounts) {
	for peer, n := range c.Started {
		ch <- prometheus.MustNewConstMetric(callsStartedDesc, prometheus.CounterValue, float64(n), peer)
	}
	for peer, n := range c.Answered {
		ch <- prometheus.MustNewConstMetric(callsAnsweredDesc, prometheus.CounterValue, float64(n), peer)
	}
	for k, n := range c.Ended {
		ch <- prometheus.MustNewConstMetric(callsEndedDesc, prometheus.CounterValue, float64(n), k.Reason, k.Peer)
	}
	ch <- histogram(callSetupDesc, c.Setup)
}

// buildInfo is natsbc_build_info: 1, labelled with the module version, the
// VCS revision it was built from (when the build recorded one) and Go's
// version.
func buildInfo() prometheus.Collector {
	v := versionInfo()
	revision := v.Revision
	if revision == "" {
		revision = "unknown"
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "natsbc_build_info",
		Help:        "Always 1; its labels say which natsbc this is.",
		ConstLabels: prometheus.Labels{"version": v.Version, "revision": revision, "goversion": v.Go}})
	g.Set(1)
	return g
}
