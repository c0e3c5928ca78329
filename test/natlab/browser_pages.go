//go:build linux

package natlab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pageServer serves the browser's test pages on the loopback of its host
// (GET /<page>, /lab.js, /jssip.min.js), takes the page's events
// (POST /event, one JSON object each) and hands it the test's commands
// (GET /command: held until a command is queued or commandPoll passes,
// then an empty answer and the page asks again).
type pageServer struct {
	addr     string
	events   *LogWatcher
	eventLog *os.File
	commands chan string
	stop     chan struct{} // closed first at shutdown: held /command requests end
	srv      *http.Server
	done     chan struct{} // closed when Serve has returned
}

// commandPoll is how long a GET /command is held without a command.
const commandPoll = 10 * time.Second

// startPageServer listens on 127.0.0.1 (a free port) in namespace ns and
// serves until t's cleanup, which waits for every request to end.
func (l *Lab) startPageServer(t *testing.T, ns string, events *LogWatcher) *pageServer {
	t.Helper()
	var ln net.Listener
	if err := l.InNS(ns, func() (err error) { ln, err = net.Listen("tcp4", "127.0.0.1:0"); return err }); err != nil {
		t.Fatalf("page server in %s: %v", ns, err)
	}
	eventLog, err := os.Create(filepath.Join(l.Dir, "browser-events.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &pageServer{
		addr: ln.Addr().String(), events: events, eventLog: eventLog,
		commands: make(chan string, 8), stop: make(chan struct{}), done: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir(filepath.Join("testdata", "browser"))))
	mux.HandleFunc("GET /jssip.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("testdata", "jssip", "jssip.min.js"))
	})
	mux.HandleFunc("POST /event", s.event)
	mux.HandleFunc("GET /command", s.command)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(s.shutdown)
	return s
}

func (s *pageServer) shutdown() {
	close(s.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
	s.eventLog.Close()
}

// event takes one JSON event; an event is one line for the watcher.
func (s *pageServer) event(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	line := string(bytes.ReplaceAll(bytes.TrimSpace(body), []byte("\n"), []byte(" ")))
	fmt.Fprintf(s.eventLog, "%s %s\n", time.Now().Format("15:04:05.000"), line)
	s.events.Line(line)
	w.WriteHeader(http.StatusNoContent)
}

func (s *pageServer) command(w http.ResponseWriter, r *http.Request) {
	poll := time.NewTimer(commandPoll)
	defer poll.Stop()
	select {
	case cmd := <-s.commands:
		fmt.Fprintf(s.eventLog, "%s command %s\n", time.Now().Format("15:04:05.000"), cmd)
		_, _ = io.WriteString(w, cmd)
	case <-poll.C:
	case <-s.stop:
	case <-r.Context().Done():
	}
}
