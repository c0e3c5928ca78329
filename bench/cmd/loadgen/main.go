// Command loadgen sets up calls over SIP through a target (natsbc or any
// other SBC) and streams G.711-like RTP on both legs of every call, or, in
// direct mode, streams between its own two sides to show its own ceiling.
//
//	loadgen -mode sip -target 127.0.0.1:5060 -uac-ip 127.0.0.10 -uas 127.0.0.20:5080 \
//	        -calls 1000 -rate 500 -duration 10s -json out.json [-ptime 20ms -payload 160]
//
// It prints a one-line summary on stdout, warnings on stderr and the full
// report as JSON to -json. The exit code is 0 when the run completed, even
// with failed calls or lost packets; 1 when the tool could not run; 2 for
// bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/natsbc/natsbc/bench/loadgen"
)

type options struct {
	cfg      loadgen.Config
	uacIP    netip.Addr
	uas      netip.AddrPort
	uacPort  uint
	jsonPath string
	sockBuf  int
	workers  int
	cpuProf  string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	socks, closeAll, err := openSockets(opts, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	defer closeAll()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if opts.cpuProf != "" {
		stopProfile, err := startCPUProfile(opts.cpuProf)
		if err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
		defer stopProfile()
	}
	rep, runErr := loadgen.Run(ctx, opts.cfg, socks)
	fmt.Fprintln(stdout, rep.Summary())
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "loadgen: warning:", w)
	}
	if err := writeJSON(opts.jsonPath, rep); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "loadgen:", runErr)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	mode := fs.String("mode", "sip", "sip: calls through -target; direct: no SIP, the two sides stream to each other")
	target := fs.String("target", "127.0.0.1:5060", "sip mode: IP:PORT the caller sends its INVITEs to")
	uacIP := fs.String("uac-ip", "127.0.0.10", "IP of the caller's SIP and RTP sockets")
	uas := fs.String("uas", "127.0.0.20:5080", "IP:PORT the callee listens on for SIP (its RTP uses the same IP)")
	fs.IntVar(&o.cfg.Calls, "calls", 100, "calls to set up and stream")
	fs.Float64Var(&o.cfg.Rate, "rate", 100, "sip mode: call set-ups (and BYEs) per second")
	fs.DurationVar(&o.cfg.Duration, "duration", 10*time.Second, "how long all calls stream at once")
	fs.StringVar(&o.jsonPath, "json", "", "write the report as JSON to this file (- for stdout)")
	fs.DurationVar(&o.cfg.PTime, "ptime", 20*time.Millisecond, "packet interval per stream")
	fs.IntVar(&o.cfg.Payload, "payload", 160, fmt.Sprintf("RTP payload bytes (at least %d)", loadgen.MinPayload))
	fs.IntVar(&o.workers, "workers", 2, "media goroutines, each with its own RTP socket on each side")
	fs.DurationVar(&o.cfg.SetupTimeout, "setup-timeout", 5*time.Second, "sip mode: a call not up this long after its INVITE failed")
	fs.DurationVar(&o.cfg.Timers.T1, "t1", 500*time.Millisecond, "sip mode: RFC 3261 T1 (retransmission base)")
	fs.UintVar(&o.uacPort, "uac-port", 0, "sip mode: the caller's SIP port (0: any)")
	fs.IntVar(&o.sockBuf, "sockbuf", 8<<20, "kernel receive and send buffer per RTP socket, bytes")
	fs.StringVar(&o.cpuProf, "cpuprofile", "", "write a pprof CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.cfg.Mode = loadgen.Mode(*mode)
	if o.cfg.Mode != loadgen.ModeSIP && o.cfg.Mode != loadgen.ModeDirect {
		return o, fmt.Errorf("-mode %q: want sip or direct", *mode)
	}
	var err error
	if o.uacIP, err = netip.ParseAddr(*uacIP); err != nil {
		return o, fmt.Errorf("-uac-ip: %w", err)
	}
	if o.uas, err = netip.ParseAddrPort(*uas); err != nil {
		return o, fmt.Errorf("-uas: %w", err)
	}
	if o.cfg.Mode == loadgen.ModeSIP {
		if o.cfg.Target, err = netip.ParseAddrPort(*target); err != nil {
			return o, fmt.Errorf("-target: %w", err)
		}
		o.cfg.UASHost = o.uas.String()
	}
	switch {
	case o.cfg.Calls <= 0:
		return o, errors.New("-calls must be positive")
	case o.workers <= 0:
		return o, errors.New("-workers must be positive")
	case o.cfg.Rate <= 0:
		return o, errors.New("-rate must be positive")
	case o.cfg.Duration <= 0 || o.cfg.PTime <= 0:
		return o, errors.New("-duration and -ptime must be positive")
	case o.cfg.Payload < loadgen.MinPayload:
		return o, fmt.Errorf("-payload must be at least %d", loadgen.MinPayload)
	case o.uacPort > 65535:
		return o, errors.New("-uac-port must be at most 65535")
	}
	return o, nil
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeJSON(path string, rep loadgen.Report) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
