// Package cdr writes call records: one JSON line per ended call, to a file
// or to standard output. The file is reopened when it was moved away (log
// rotation) and on Reopen (natsbc calls it on SIGHUP), so logrotate works
// with either copytruncate-free rotation or a signal.
package cdr
