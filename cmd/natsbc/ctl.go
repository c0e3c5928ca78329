package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/natsbc/natsbc/cdr"
	"github.com/natsbc/natsbc/configs"
	"github.com/natsbc/natsbc/diagnosis"
	"github.com/natsbc/natsbc/registrar"
)

const ctlUsage = `usage: natsbc ctl [flags] COMMAND

commands:
  calls             the calls up
  call ID           one call (ID: the Call-ID of either leg)
  hangup ID         end a call with BYE on both legs
  diagnose ID       natsbc trace's verdict on a call natsbc keeps (diagnosis.keep_calls)
  pcap ID           a call natsbc keeps, as a pcap on standard output
  bindings          the registrations natsbc relays
  binding ID        one registration
  drain | undrain   refuse new calls and registrations (503), or take them again
  reload            re-read the configuration file
  config            the running configuration, secrets hidden
  version           what natsbc runs

flags:
`

// ctlClient speaks the admin API (api.go).
type ctlClient struct {
	base  string // http://ADDR
	token string
	http  *http.Client
}

// ctl is `natsbc ctl`: a command line over the admin API, tables by
// default and the API's JSON with --json.
func ctl(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("natsbc ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := fs.String("admin", envOr("NATSBC_ADMIN", "127.0.0.1:9090"), "admin endpoint `ADDR` (IP:PORT or URL; $NATSBC_ADMIN)")
	token := fs.String("token", os.Getenv("NATSBC_TOKEN"), "bearer `TOKEN` ($NATSBC_TOKEN; a flag shows in ps: prefer the variable or --token-file)")
	tokenFile := fs.String("token-file", "", "read the bearer token from the first line of `FILE`")
	cfgFile := fs.String("config", "", "take the endpoint and token from natsbc's configuration `FILE` (admin.listen, admin.token)")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprint(stderr, ctlUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "natsbc ctl: %v\n", err)
			return exitUsage
		}
		line, _, _ := strings.Cut(string(b), "\n")
		*token = strings.TrimSpace(line)
	}
	if *cfgFile != "" {
		cfg, err := configs.Load(*cfgFile)
		if err != nil {
			fmt.Fprintf(stderr, "natsbc ctl: %v\n", err)
			return exitUsage
		}
		addr, ok := cfg.AdminListen()
		if !ok {
			fmt.Fprintf(stderr, "natsbc ctl: %s has no admin.listen: the admin API is off\n", *cfgFile)
			return exitUsage
		}
		*admin = addr.String()
		if *token == "" {
			*token = cfg.Admin.Token
		}
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	base := *admin
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	c := &ctlClient{base: strings.TrimRight(base, "/"), token: *token, http: &http.Client{Timeout: 70 * time.Second}}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	need := map[string]int{"call": 1, "hangup": 1, "binding": 1, "diagnose": 1, "pcap": 1}[cmd]
	if len(rest) != need {
		fmt.Fprintf(stderr, "natsbc ctl %s: takes %d argument(s)\n", cmd, need)
		return exitUsage
	}
	var method, path string
	var show func(io.Writer, []byte) error
	switch cmd {
	case "calls":
		method, path, show = "GET", "/api/v1/calls", showCalls
	case "call":
		method, path, show = "GET", "/api/v1/calls/"+url.PathEscape(rest[0]), showCall
	case "hangup":
		method, path, show = "DELETE", "/api/v1/calls/"+url.PathEscape(rest[0]), func(w io.Writer, _ []byte) error {
			_, err := fmt.Fprintf(w, "hung up %s\n", rest[0])
			return err
		}
	case "diagnose":
		method, path, show = "GET", "/api/v1/calls/"+url.PathEscape(rest[0])+"/diagnosis", showDiagnosis
	case "pcap":
		method, path, show = "GET", "/api/v1/calls/"+url.PathEscape(rest[0])+"/pcap", func(w io.Writer, b []byte) error {
			_, err := w.Write(b)
			return err
		}
	case "bindings":
		method, path, show = "GET", "/api/v1/bindings", showBindings
	case "binding":
		method, path, show = "GET", "/api/v1/bindings/"+url.PathEscape(rest[0]), showBinding
	case "drain", "undrain":
		method, path, show = "POST", "/api/v1/"+cmd, showDraining
	case "reload":
		method, path, show = "POST", "/api/v1/reload", showReload
	case "config":
		method, path, show = "GET", "/api/v1/config", nil
	case "version":
		method, path, show = "GET", "/api/v1/version", showVersion
	default:
		fmt.Fprintf(stderr, "natsbc ctl: unknown command %q\n", cmd)
		fs.Usage()
		return exitUsage
	}
	body, status, err := c.do(method, path)
	if err != nil {
		fmt.Fprintf(stderr, "natsbc ctl: %v\n", err)
		return exitFailure
	}
	if *asJSON || show == nil {
		_, _ = stdout.Write(body)
	} else if status < 300 {
		if err := show(stdout, body); err != nil {
			fmt.Fprintf(stderr, "natsbc ctl: %v\n", err)
			return exitFailure
		}
	}
	if status >= 300 {
		if cmd == "reload" && !*asJSON {
			_ = showReload(stderr, body)
		} else if !*asJSON {
			var e apiError
			if json.Unmarshal(body, &e) == nil && e.Error != "" {
				fmt.Fprintf(stderr, "natsbc ctl: %s (HTTP %d)\n", e.Error, status)
			} else {
				fmt.Fprintf(stderr, "natsbc ctl: HTTP %d\n", status)
			}
		}
		return exitFailure
	}
	return exitOK
}

func (c *ctlClient) do(method, path string) ([]byte, int, error) {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("admin endpoint %s: %w", c.base, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	return body, res.StatusCode, err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func callRow(c cdr.Record) []string {
	state, took := "ringing", time.Since(c.Start)
	if c.Answer != nil {
		state, took = "answered", time.Duration(c.DurationMS)*time.Millisecond
	}
	return []string{c.ACallID, c.From, c.To, c.APeer + " → " + c.BPeer, state, took.Round(time.Second).String(), c.ANAT + " / " + c.BNAT}
}

const callHeader = "A-LEG CALL-ID\tFROM\tTO\tPEERS\tSTATE\tDURATION\tNAT (A / B)"

func showCalls(w io.Writer, body []byte) error {
	var v struct{ Calls []cdr.Record }
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	rows := make([][]string, 0, len(v.Calls))
	for _, c := range v.Calls {
		rows = append(rows, callRow(c))
	}
	if err := table(w, callHeader, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d calls\n", len(v.Calls))
	return err
}

func showCall(w io.Writer, body []byte) error {
	var c cdr.Record
	if err := json.Unmarshal(body, &c); err != nil {
		return err
	}
	if err := table(w, callHeader, [][]string{callRow(c)}); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "B-leg Call-ID %s, next hop %s, routes %q / %q; caller from %s\n",
		c.BCallID, c.BNextHop, c.ARouteRule, c.BRouteRule, c.ASource)
	return err
}

const bindingHeader = "ID\tAOR\tFLOW\tNAT\tKEEPALIVE\tEXPIRES"

func bindingRow(b registrar.Listing) []string {
	keep := "no"
	if b.Keepalive {
		keep = fmt.Sprintf("yes, %d missed", b.Missed)
	}
	return []string{fmt.Sprint(b.ID), b.AoR, b.Flow, b.NAT, keep, time.Until(b.Expires).Round(time.Second).String()}
}

func showBindings(w io.Writer, body []byte) error {
	var v struct{ Bindings []registrar.Listing }
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	rows := make([][]string, 0, len(v.Bindings))
	for _, b := range v.Bindings {
		rows = append(rows, bindingRow(b))
	}
	if err := table(w, bindingHeader, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d bindings\n", len(v.Bindings))
	return err
}

func showBinding(w io.Writer, body []byte) error {
	var b registrar.Listing
	if err := json.Unmarshal(body, &b); err != nil {
		return err
	}
	if err := table(w, bindingHeader, [][]string{bindingRow(b)}); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "contact %s, token %s, checks: %s\n", b.Contact, b.Token, strings.Join(b.Checks, "; "))
	return err
}

func showDraining(w io.Writer, body []byte) error {
	var v struct{ Draining bool }
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "draining: %v\n", v.Draining)
	return err
}

func showReload(w io.Writer, body []byte) error {
	var r reloadReport
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	var b bytes.Buffer
	if r.Applied {
		b.WriteString("reloaded\n")
	} else {
		b.WriteString("not reloaded: the running configuration stays\n")
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	if len(r.RestartNeeded) > 0 {
		fmt.Fprintf(&b, "changed but applied only by a restart: %s\n", strings.Join(r.RestartNeeded, ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func showDiagnosis(w io.Writer, body []byte) error {
	var v struct{ Reports []diagnosis.Report }
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	for i, r := range v.Reports {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := diagnosis.WriteText(w, r); err != nil {
			return err
		}
	}
	return nil
}

func showVersion(w io.Writer, body []byte) error {
	var v version
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "natsbc %s %s (%s)\n", v.Version, v.Revision, v.Go)
	return err
}
