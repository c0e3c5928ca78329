package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/natsbc/natsbc/registrar/store"
)

// tokenKeySize is the key natsbc draws for its binding tokens when
// registrations.token_secret is not configured: 256 bits, like the
// HMAC-SHA-256 it keys.
const tokenKeySize = 32

// openState opens the registrations' state file, nil when path is "" (memory
// only). A corrupt file, or one of another format version, fails the start,
// unless reset asks to move it aside (PATH.corrupt-UNIXTIME, kept for a
// post-mortem) and start a fresh one. A file another natsbc holds is never
// moved aside.
func openState(path string, reset bool, log *slog.Logger) (*store.Store, error) {
	if path == "" {
		log.Warn("registrations kept in memory only: a restart forgets them", "state_file", "")
		return nil, nil
	}
	st, err := store.Open(path)
	switch {
	case err == nil:
		return st, nil
	case !store.IsUnreadable(err):
		return nil, err
	case !reset:
		return nil, fmt.Errorf("%w (--reset-state moves it aside and starts with no registrations)", err)
	}
	aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, fmt.Errorf("%w; moving it aside: %w", err, rerr)
	}
	log.Warn("state file unreadable: moved aside, starting with no registrations", "path", path, "moved_to", aside, "problem", err.Error())
	return store.Open(path)
}

// closeState releases the file (and its lock) at exit.
func closeState(st *store.Store, log *slog.Logger) {
	if st == nil {
		return
	}
	if err := st.Close(); err != nil {
		log.Warn("state file not closed cleanly", "path", st.Path(), "error", err)
	}
}
