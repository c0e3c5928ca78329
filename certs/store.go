package certs

import (
	"log/slog"
	"sync"
	"time"
)

// DefaultPoll is how often the poller looks at the files' size and
// modification time.
const DefaultPoll = 5 * time.Second

// Store keeps one holder per file set, so a socket and a peer naming the
// same files share it, and reloads them all: on Reload (SIGHUP) and, once
// Watch started, when a file's size or modification time changes.
type Store struct {
	log *slog.Logger

	mu    sync.Mutex
	pairs map[[2]string]*KeyPair
	cas   map[string]*CA

	watchOnce sync.Once
	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{} // closed when the poller ended (or never ran)
}

// NewStore makes an empty store; log may be nil.
func NewStore(log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{log: log, pairs: map[[2]string]*KeyPair{}, cas: map[string]*CA{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// KeyPair returns the holder of a certificate and key, reading the files
// the first time they are named.
func (s *Store) KeyPair(certFile, keyFile string) (*KeyPair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.pairs[[2]string{certFile, keyFile}]; ok {
		return k, nil
	}
	k, err := newKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	s.pairs[[2]string{certFile, keyFile}] = k
	s.log.Info("TLS certificate loaded", "cert", certFile, "key", keyFile, "not_after", k.expiry().UTC().Format(time.RFC3339))
	return k, nil
}

// CA returns the holder of a CA file, reading it the first time.
func (s *Store) CA(file string) (*CA, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cas[file]; ok {
		return c, nil
	}
	c, err := newCA(file)
	if err != nil {
		return nil, err
	}
	s.cas[file] = c
	return c, nil
}

// Reload reads every file again (SIGHUP); files that do not load keep
// what was in force, with a warning each.
func (s *Store) Reload() { s.check(true) }

// Watch starts the poller: every period, files whose size or modification
// time changed are read again. Close stops it.
func (s *Store) Watch(period time.Duration) {
	if period <= 0 {
		period = DefaultPoll
	}
	s.watchOnce.Do(func() {
		go func() {
			defer close(s.done)
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-s.stop:
					return
				case <-t.C:
					s.check(false)
				}
			}
		}()
	})
}

// Close stops the poller and waits for it.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		// A store never watched has no poller to wait for.
		s.watchOnce.Do(func() { close(s.done) })
	})
	<-s.done
}

// check reloads what changed (everything when force), one log line each.
func (s *Store) check(force bool) {
	s.mu.Lock()
	pairs := make([]*KeyPair, 0, len(s.pairs))
	for _, k := range s.pairs {
		pairs = append(pairs, k)
	}
	cas := make([]*CA, 0, len(s.cas))
	for _, c := range s.cas {
		cas = append(cas, c)
	}
	s.mu.Unlock()
	for _, k := range pairs {
		changed, err := k.reload(force)
		switch {
		case err != nil:
			s.log.Warn("TLS certificate not reloaded: the old one stays", "cert", k.certFile, "key", k.keyFile, "error", err)
		case changed:
			s.log.Info("TLS certificate reloaded", "cert", k.certFile, "key", k.keyFile, "not_after", k.expiry().UTC().Format(time.RFC3339))
		}
	}
	for _, c := range cas {
		changed, err := c.reload(force)
		switch {
		case err != nil:
			s.log.Warn("TLS CA file not reloaded: the old one stays", "file", c.file, "error", err)
		case changed:
			s.log.Info("TLS CA file reloaded", "file", c.file)
		}
	}
}
