package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/natsbc/natsbc/cdr"
	"github.com/natsbc/natsbc/configs"
)

// openCallRecords opens cdr.path; nil when call records are off.
func openCallRecords(cfg *configs.Config) (*cdr.Writer, error) {
	if cfg.CDR.Path == "" {
		return nil, nil
	}
	return cdr.Open(cfg.CDR.Path)
}

// reopenCallRecords reopens w, after logrotate moved its file away.
func reopenCallRecords(w *cdr.Writer, log *slog.Logger) {
	if err := w.Reopen(); err != nil {
		log.Error("call records not reopened", "error", err)
		return
	}
	log.Info("call records reopened")
}

// onHangup runs do at every SIGHUP until ctx ends; the returned function
// stops it and waits for its goroutine.
func onHangup(ctx context.Context, log *slog.Logger, do func()) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading")
				do()
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}
