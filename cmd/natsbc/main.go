// Command natsbc is the SIP-aware NAT helper and session border controller.
//
//	natsbc [--config FILE] [--listen ADDR]... [--pbx HOST:PORT] [--advertise [LISTEN=]IP]...
//	natsbc check-config FILE
//	natsbc trace [--ladder] [--json] [--call-id ID] [--since TIME] FILE
//	natsbc ctl [--admin ADDR] [--token TOKEN] [--json] COMMAND (calls, hangup ID, bindings, reload, ...)
//
// With no flags and no file it runs on the embedded default configuration.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}
