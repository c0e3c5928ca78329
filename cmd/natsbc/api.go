package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/natsbc/natsbc/capture"
	"github.com/natsbc/natsbc/cdr"
	"github.com/natsbc/natsbc/configs"
	"github.com/natsbc/natsbc/diagnosis"
	"github.com/natsbc/natsbc/registrar"
	"github.com/natsbc/natsbc/sbc"
)

// The admin API (JSON under /api/v1/), what `natsbc ctl` speaks:
//
//	GET    /api/v1/version
//	GET    /api/v1/calls            GET /api/v1/calls/{call-id}
//	DELETE /api/v1/calls/{call-id}  hang up: BYE on both legs
//	GET    /api/v1/bindings         GET /api/v1/bindings/{id}
//	POST   /api/v1/drain            POST /api/v1/undrain
//	POST   /api/v1/reload
//	GET    /api/v1/config           secrets masked

// operations is what the API asks of the running B2BUA (*sbc.Server).
type operations interface {
	Calls() []cdr.Record
	Call(id string) (cdr.Record, bool)
	Hangup(id string) error
	BindingList() []registrar.Listing
	CallMessages(id string) []diagnosis.Message
	RecordedCalls() []diagnosis.EndedCall
	Drain() bool
	Undrain() bool
	Draining() bool
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func routeAPI(mux *http.ServeMux, ops operations, reloads *reloader, log *slog.Logger) {
	mux.HandleFunc("GET /api/v1/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, versionInfo())
	})
	mux.HandleFunc("GET /api/v1/calls", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"calls": ops.Calls()})
	})
	mux.HandleFunc("GET /api/v1/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := ops.Call(r.PathValue("id"))
		if !ok {
			writeJSON(w, http.StatusNotFound, apiError{"no call has a leg with Call-ID " + r.PathValue("id")})
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("DELETE /api/v1/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		err := ops.Hangup(id)
		switch {
		case errors.Is(err, sbc.ErrNoCall):
			writeJSON(w, http.StatusNotFound, apiError{"no call has a leg with Call-ID " + id})
		case errors.Is(err, sbc.ErrNotAnswered):
			writeJSON(w, http.StatusConflict, apiError{err.Error()})
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, apiError{err.Error()})
		default:
			log.Info("call hung up on the admin API", "call_id", id, "client", r.RemoteAddr)
			writeJSON(w, http.StatusOK, map[string]string{"hung_up": id})
		}
	})
	mux.HandleFunc("GET /api/v1/calls/{id}/pcap", func(w http.ResponseWriter, r *http.Request) {
		msgs := ops.CallMessages(r.PathValue("id"))
		if len(msgs) == 0 {
			writeJSON(w, http.StatusNotFound, apiError{"no messages kept of " + r.PathValue("id") + " (diagnosis.keep_calls)"})
			return
		}
		w.Header().Set("Content-Type", "application/vnd.tcpdump.pcap")
		w.Header().Set("Content-Disposition", `attachment; filename="`+pcapName(r.PathValue("id"))+`"`)
		_ = capture.Write(w, msgs)
	})
	mux.HandleFunc("GET /api/v1/calls/{id}/diagnosis", func(w http.ResponseWriter, r *http.Request) {
		msgs := ops.CallMessages(r.PathValue("id"))
		if len(msgs) == 0 {
			writeJSON(w, http.StatusNotFound, apiError{"no messages kept of " + r.PathValue("id") + " (diagnosis.keep_calls)"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"reports": diagnosis.Analyze(msgs)})
	})
	mux.HandleFunc("GET /api/v1/diagnosis", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ended_calls": ops.RecordedCalls()})
	})
	mux.HandleFunc("GET /api/v1/bindings", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"bindings": ops.BindingList()})
	})
	mux.HandleFunc("GET /api/v1/bindings/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{"a binding id is a number: " + r.PathValue("id")})
			return
		}
		for _, b := range ops.BindingList() {
			if b.ID == id {
				writeJSON(w, http.StatusOK, b)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, apiError{"no binding " + r.PathValue("id")})
	})
	mux.HandleFunc("POST /api/v1/drain", func(w http.ResponseWriter, r *http.Request) {
		changed := ops.Drain()
		writeJSON(w, http.StatusOK, map[string]bool{"draining": ops.Draining(), "changed": changed})
	})
	mux.HandleFunc("POST /api/v1/undrain", func(w http.ResponseWriter, r *http.Request) {
		changed := ops.Undrain()
		writeJSON(w, http.StatusOK, map[string]bool{"draining": ops.Draining(), "changed": changed})
	})
	if reloads == nil {
		return
	}
	mux.HandleFunc("POST /api/v1/reload", func(w http.ResponseWriter, r *http.Request) {
		log.Info("reload asked on the admin API", "client", r.RemoteAddr)
		rep := reloads.reload()
		status := http.StatusOK
		if !rep.Applied {
			status = http.StatusUnprocessableEntity
		}
		writeJSON(w, status, rep)
	})
	mux.HandleFunc("GET /api/v1/config", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, masked(reloads.current()))
	})
}

// pcapName is a file name for a call's capture: its Call-ID's safe
// characters.
func pcapName(id string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, id)
	return safe + ".pcap"
}

// masked is the configuration with its secrets replaced: what the API
// shows an operator, or a support ticket.
func masked(c *configs.Config) configs.Config {
	out := *c
	const hidden = "(set, hidden)"
	if out.Admin.Token != "" {
		out.Admin.Token = hidden
	}
	if out.Registrations.TokenSecret != "" {
		out.Registrations.TokenSecret = hidden
	}
	if out.HEP.Password != "" {
		out.HEP.Password = hidden
	}
	return out
}

// version is what natsbc was built from.
type version struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Go       string `json:"go"`
}

func versionInfo() version {
	v := version{Version: "unknown", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Revision = s.Value
			}
		}
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// requireToken lets a request through only with `Authorization: Bearer
// TOKEN` when a token is configured (compared in constant time). Without
// one (a loopback endpoint), a web page the operator has open could still
// reach it: a request must then name the endpoint by address (a DNS
// rebinding names a host), and one that changes something must say it is
// JSON, which a page cannot send to another origin without asking.
func requireToken(next http.Handler, token func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := token()
		if want == "" {
			host := r.Host
			if h, _, err := net.SplitHostPort(r.Host); err == nil {
				host = h
			}
			if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil && host != "localhost" {
				writeJSON(w, http.StatusMisdirectedRequest, apiError{"address the admin endpoint by its IP (Host: " + r.Host + ")"})
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				writeJSON(w, http.StatusUnsupportedMediaType, apiError{"a " + r.Method + " needs Content-Type: application/json"})
				return
			}
		}
		if want != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="natsbc"`)
				writeJSON(w, http.StatusUnauthorized, apiError{"a bearer token is required (admin.token)"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
