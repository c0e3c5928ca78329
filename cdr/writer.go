package cdr

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
)

// Stdout is the path that sends records to standard output.
const Stdout = "-"

// Writer appends records to one file (or standard output). It is safe for
// concurrent use; each record is one write of one line.
type Writer struct {
	path string

	mu  sync.Mutex
	f   *os.File // nil for standard output
	out io.Writer
	buf []byte
}

// Open opens path for appending (creating it, mode 0640), or standard
// output for Stdout.
func Open(path string) (*Writer, error) {
	w := &Writer{path: path}
	if path == Stdout {
		w.out = os.Stdout
		return w, nil
	}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	w.f, w.out = f, f
	return nil
}

// Write appends r as one JSON line. The file is reopened first when the
// path no longer names it (rotated away or deleted).
func (w *Writer) Write(r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil && w.moved() {
		if err := w.reopenLocked(); err != nil {
			return err
		}
	}
	w.buf = append(append(w.buf[:0], line...), '\n')
	if _, err := w.out.Write(w.buf); err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	return nil
}

// moved reports whether the path names another file than the open one.
func (w *Writer) moved() bool {
	onPath, err := os.Stat(w.path)
	if err != nil {
		return true
	}
	open, err := w.f.Stat()
	return err != nil || !os.SameFile(onPath, open)
}

// Reopen closes and reopens the file (on SIGHUP, after a rotation that
// kept the name).
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.reopenLocked()
}

func (w *Writer) reopenLocked() error {
	_ = w.f.Close()
	return w.open()
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f, w.out = nil, io.Discard
	return err
}
