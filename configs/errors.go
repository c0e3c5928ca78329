package configs

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a configuration, formatted
// `FILE:LINE:COLUMN: path: what is wrong`. Problems that came from a
// command-line flag name the flag instead of a file position.
type Error struct {
	File   string
	Line   int // 0 when unknown
	Column int // 0 when unknown
	Flag   string
	Path   string // e.g. "peers[1].role"; "" for the whole file
	Msg    string

	// key is the value's path even where Path is left out of the message
	// (unknown keys); Parse uses it to drop follow-on problems.
	key string
}

func (e *Error) Error() string {
	var where string
	switch {
	case e.Flag != "":
		where = e.Flag + ": "
	case e.Line > 0 && e.Column > 0:
		where = fmt.Sprintf("%s:%d:%d: ", e.File, e.Line, e.Column)
	case e.Line > 0:
		where = fmt.Sprintf("%s:%d: ", e.File, e.Line)
	case e.File != "":
		where = e.File + ": "
	}
	if e.Path != "" {
		return where + e.Path + ": " + e.Msg
	}
	return where + e.Msg
}

// problems collects Errors in the order of the file.
type problems []*Error

func (ps *problems) add(e *Error) { *ps = append(*ps, e) }

// without drops problems about values that already failed to decode:
// `listen: expected a list` makes `listen: at least one socket is
// required` noise.
func (ps problems) without(failed problems) problems {
	var out problems
	for _, p := range ps {
		if !slices.ContainsFunc(failed, func(f *Error) bool { return within(p.key, f.key) }) {
			out = append(out, p)
		}
	}
	return out
}

// within reports whether path is base or inside it.
func within(path, base string) bool {
	if !strings.HasPrefix(path, base) {
		return false
	}
	rest := path[len(base):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	slices.SortStableFunc(ps, func(a, b *Error) int {
		if a.Flag != b.Flag { // file problems first, then flags
			return cmp.Compare(a.Flag, b.Flag)
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}
