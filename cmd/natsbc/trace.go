package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/natsbc/natsbc/capture"
	"github.com/natsbc/natsbc/diagnosis"
)

// exitLostACK is `natsbc trace`'s answer when the capture holds a call
// whose 2xx no ACK answered.
const exitLostACK = 3

// trace is `natsbc trace FILE`: the verdict on every INVITE dialog of a
// capture, with why for each lost ACK. Exit 0: none lost; 3: at least one;
// 2: bad usage or not a capture.
func trace(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("natsbc trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ladder := fs.Bool("ladder", false, "draw each call's messages as an ASCII ladder")
	asJSON := fs.Bool("json", false, "print the reports as JSON")
	callID := fs.String("call-id", "", "only the call with this Call-ID")
	since := fs.String("since", "", "only messages at or after `TIME` (RFC 3339, e.g. 2026-12-04T10:00:00Z)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: natsbc trace [flags] FILE (pcap or pcapng)\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = time.Parse(time.RFC3339, *since); err != nil {
			fmt.Fprintf(stderr, "natsbc trace: --since %q: want RFC 3339 time\n", *since)
			return exitUsage
		}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "natsbc trace: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	msgs, err := capture.Read(f)
	if err != nil && len(msgs) == 0 {
		fmt.Fprintf(stderr, "natsbc trace: %s: %v\n", fs.Arg(0), err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "natsbc trace: %s: %v (read what came before)\n", fs.Arg(0), err)
	}
	if !from.IsZero() {
		kept := msgs[:0]
		for _, m := range msgs {
			if !m.Time.Before(from) {
				kept = append(kept, m)
			}
		}
		msgs = kept
	}
	var reports []diagnosis.Report
	lost := false
	for _, r := range diagnosis.Analyze(msgs) {
		if *callID != "" && r.CallID != *callID {
			continue
		}
		reports = append(reports, r)
		lost = lost || r.Verdict.LostACK()
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if reports == nil {
			reports = []diagnosis.Report{}
		}
		_ = enc.Encode(reports)
	} else {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			_ = diagnosis.WriteText(stdout, r)
			if *ladder {
				_ = diagnosis.WriteLadder(stdout, r)
			}
		}
		fmt.Fprintf(stdout, "\n%d calls, %d with a lost ACK\n", len(reports), countLost(reports))
	}
	if lost {
		return exitLostACK
	}
	return exitOK
}

func countLost(rs []diagnosis.Report) int {
	n := 0
	for _, r := range rs {
		if r.Verdict.LostACK() {
			n++
		}
	}
	return n
}
