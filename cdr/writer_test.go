package cdr

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// One JSON line per record, appended; a file moved away (logrotate) is
// followed by a new one at the path, and Reopen starts one as well.
func TestWriterLinesAndRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdr.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	start := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	answer := start.Add(2 * time.Second)
	rec := Record{ACallID: "a1", BCallID: "b1", Start: start, Answer: &answer, End: answer.Add(time.Minute),
		DurationMS: 60000, SetupMS: 2000, Reason: "bye-from-a", Media: map[string]int{"packets": 3}}
	for range 2 {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if got := readRecords(t, path); len(got) != 2 || got[0].ACallID != "a1" || !got[1].Answer.Equal(answer) {
		t.Fatalf("records %+v", got)
	}

	rotated := filepath.Join(dir, "cdr.jsonl.1")
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	rec.ACallID = "a2"
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if got := readRecords(t, path); len(got) != 1 || got[0].ACallID != "a2" {
		t.Fatalf("after rotation the path holds %+v, want a2 alone", got)
	}
	if got := readRecords(t, rotated); len(got) != 2 {
		t.Fatalf("the rotated file holds %d records, want its 2", len(got))
	}

	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	rec.ACallID = "a3"
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if got := readRecords(t, path); len(got) != 2 || got[1].ACallID != "a3" {
		t.Fatalf("after Reopen %+v", got)
	}
}

// A record of a call never answered leaves out the answer and the setup
// time; the field names are the documented ones.
func TestRecordUnansweredFields(t *testing.T) {
	b, err := json.Marshal(Record{ACallID: "a", Reason: "rejected", End: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["answer"]; ok {
		t.Error("an unanswered call has an answer time")
	}
	for _, k := range []string{"a_call_id", "b_call_id", "from", "to", "a_peer", "b_peer", "start", "end", "duration_ms", "reason", "a_nat", "b_nat", "a_route_rule", "b_route_rule", "media"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
}

// An unwritable path fails at Open, naming it.
func TestOpenFails(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing", "cdr.jsonl"))
	if err == nil {
		t.Fatal("Open of a path in a missing directory succeeded")
	}
}
