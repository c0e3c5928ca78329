package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/natsbc/natsbc/configs"
)

// Exit codes: 0 clean stop, 1 runtime failure, 2 bad usage or bad config.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

type options struct {
	configFile string
	overrides  configs.Overrides
	// resetState moves an unreadable state file aside instead of failing.
	resetState bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var listen, advertise repeated
	fs := flag.NewFlagSet("natsbc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configFile, "config", "", "configuration `FILE` (YAML); flags override it")
	fs.Var(&listen, "listen", "SIP socket `ADDR` (IP:PORT for UDP and TCP, udp:IP:PORT, tcp:IP:PORT); repeatable, replaces the file's list")
	fs.StringVar(&o.overrides.PBX, "pbx", "", "upstream PBX/registrar/proxy `HOST:PORT` that requests from the outside go to")
	fs.Var(&advertise, "advertise", "public `IP` to put in Via/Contact (natsbc behind a 1:1 NAT), or stun:HOST[:PORT] to learn it from a STUN server (port 3478 by default); LISTEN=VALUE for one socket; repeatable")
	fs.StringVar(&o.overrides.LogFormat, "log-format", "", "log format: text or json")
	fs.StringVar(&o.overrides.LogLevel, "log-level", "", "log level: debug, info, warn or error")
	fs.Func("state-file", "`PATH` of the file that keeps registrations across restarts (default "+configs.DefaultStateFile+`); "" keeps them in memory only`, func(v string) error {
		o.overrides.StateFile = &v
		return nil
	})
	fs.BoolVar(&o.resetState, "reset-state", false, "move a corrupt or unreadable state file aside (to PATH.corrupt-UNIXTIME) and start with no registrations")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: natsbc [flags]\n       natsbc check-config FILE\n       natsbc ctl [flags] COMMAND   (natsbc ctl -h for its commands)\n       natsbc trace [flags] FILE    (why calls in a pcap dropped)\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.overrides.Listen = listen
	o.overrides.Advertise = advertise
	return o, nil
}

// loadConfig reads the file (or the embedded default) and applies the flags.
func loadConfig(o options) (*configs.Config, error) {
	cfg := configs.Default()
	if o.configFile != "" {
		var err error
		if cfg, err = configs.Load(o.configFile); err != nil {
			return nil, err
		}
	}
	if err := cfg.Apply(o.overrides); err != nil {
		return nil, err
	}
	return cfg, nil
}
