package main

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/natsbc/natsbc/cdr"
	"github.com/natsbc/natsbc/diagnosis"
	"github.com/natsbc/natsbc/registrar"
)

// The web view (issue 14, item 3): server-rendered pages on the admin
// endpoint, behind the same token as the API, no JavaScript. /ui/ lists
// the calls up, the ended calls natsbc keeps (diagnosis.keep_calls) with
// their verdicts, and the registrations; /ui/calls/{id} draws a call's
// two legs as one ladder (natsbc's sockets in the middle), the failing
// step in red, the verdict in words, and links its pcap.

var webPages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><title>natsbc {{.}}</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:14px}
.lost{color:#c00;font-weight:bold}.ok{color:#080}svg .failing text{font-weight:bold}</style></head><body>{{end}}

{{define "index"}}{{template "head" "calls"}}
<h1>natsbc</h1>
<h2>Calls up ({{len .Up}})</h2>
<table id="calls-up"><tr><th>A-leg Call-ID</th><th>From</th><th>To</th><th>Peers</th><th>Answered</th><th>NAT (A / B)</th><th>Route rules</th></tr>
{{range .Up}}<tr><td><a href="/ui/calls/{{.ACallID | urlquery}}">{{.ACallID}}</a></td><td>{{.From}}</td><td>{{.To}}</td><td>{{.APeer}} → {{.BPeer}}</td>
<td>{{if .Answer}}yes{{else}}ringing{{end}}</td><td>{{.ANAT}} / {{.BNAT}}</td><td>{{.ARouteRule}} / {{.BRouteRule}}</td></tr>{{end}}</table>
<h2>Ended calls kept ({{len .Ended}})</h2>
<table id="calls-ended"><tr><th>A-leg Call-ID</th><th>Ended</th><th>Verdict</th><th>Cause</th></tr>
{{range .Ended}}<tr class="{{if .Lost}}lost{{end}}"><td><a href="/ui/calls/{{.ID | urlquery}}">{{.ID}}</a></td><td class="reason">{{.Reason}}</td><td class="verdict">{{.Verdict}}</td><td>{{.Cause}}</td></tr>{{end}}</table>
<h2>Registrations ({{len .Bindings}})</h2>
<table id="bindings"><tr><th>AoR</th><th>Flow</th><th>NAT</th><th>Keepalive</th><th>Expires</th></tr>
{{range .Bindings}}<tr><td>{{.AoR}}</td><td>{{.Flow}}</td><td>{{.NAT}}</td><td>{{if .Keepalive}}yes, {{.Missed}} missed{{else}}no{{end}}</td><td>{{.Expires.Format "15:04:05"}}</td></tr>{{end}}</table>
</body></html>{{end}}

{{define "call"}}{{template "head" .ID}}
<p><a href="/ui/">all calls</a></p>
<h1>Call {{.ID}}</h1>
{{range .Reports}}<div class="report"><h2>Leg {{.CallID}}: <span class="verdict {{if .Verdict.LostACK}}lost{{else}}ok{{end}}">{{.Verdict}}</span>{{if .Cause}}: {{.Cause}}{{end}}</h2>
{{if .Rule}}<p class="rule">{{.Rule}}</p>{{end}}</div>{{end}}
<p><a id="pcap" href="/api/v1/calls/{{.ID | urlquery}}/pcap">download the call as pcap</a> (Wireshark, <code>natsbc trace</code>)</p>
{{.Ladder}}
</body></html>{{end}}
`))

// endedRow is one ended call of the index.
type endedRow struct {
	ID, Reason     string
	Verdict, Cause string
	Lost           bool
}

func routeWeb(mux *http.ServeMux, ops operations, log *slog.Logger) {
	mux.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, _ *http.Request) {
		page := struct {
			Up       []cdr.Record
			Ended    []endedRow
			Bindings []registrar.Listing
		}{Up: ops.Calls(), Bindings: ops.BindingList()}
		for _, e := range ops.RecordedCalls() {
			row := endedRow{ID: e.ID, Reason: e.Reason, Verdict: "no INVITE dialog"}
			for _, r := range diagnosis.Analyze(ops.CallMessages(e.ID)) {
				// The worst leg speaks for the call.
				if row.Verdict == "no INVITE dialog" || r.Verdict.LostACK() && !row.Lost {
					row.Verdict, row.Cause, row.Lost = string(r.Verdict), string(r.Cause), r.Verdict.LostACK()
				}
			}
			page.Ended = append(page.Ended, row)
		}
		render(w, log, "index", page)
	})
	mux.HandleFunc("GET /ui/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		msgs := ops.CallMessages(id)
		if len(msgs) == 0 {
			http.Error(w, "natsbc keeps no messages of "+id+" (diagnosis.keep_calls)", http.StatusNotFound)
			return
		}
		reports := diagnosis.Analyze(msgs)
		var svg bytes.Buffer
		if err := diagnosis.WriteSVG(&svg, reports...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		render(w, log, "call", struct {
			ID      string
			Reports []diagnosis.Report
			Ladder  template.HTML
		}{id, reports, template.HTML(svg.String())}) // WriteSVG escapes every text it writes
	})
	mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
}

func render(w http.ResponseWriter, log *slog.Logger, page string, data any) {
	var b bytes.Buffer
	if err := webPages.ExecuteTemplate(&b, page, data); err != nil {
		log.Error("web page not rendered", "page", page, "error", err)
		http.Error(w, "page not rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}
