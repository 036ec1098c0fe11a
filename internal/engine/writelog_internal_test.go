package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv/memkv"
)

// TestWriteLog: the write log answers by record and by subtree, and when
// it grows past its bound it forgets at once, so that a body rendered
// before is taken as changed.
func TestWriteLog(t *testing.T) {
	s := &countingStore{Store: memkv.New()}
	ws := "/subscriptions/s/resourcegroups/rg/providers/ml/workspaces/ws"
	child := ws + sep + "datastores" + sep + "d1"
	deep := ws + "/datastores/d1" + sep + "versions" + sep + "1"
	other := "/subscriptions/s/resourcegroups/rg/providers/ml/workspaces/ws2" + sep + "datastores" + sep + "d1"
	s.count(loggedWrite{records: []string{"x"}}) // count 1
	tree := &renderDeps{subtrees: []string{ws}}
	record := &renderDeps{records: []string{child}}
	for _, tc := range []struct {
		name    string
		write   string
		deps    *renderDeps
		changed bool
	}{
		{"a direct child is in the subtree", child, tree, true},
		{"a grandchild is in the subtree", deep, tree, true},
		{"a sibling's child (ws2) is not", other, tree, false},
		{"the record itself", child, record, true},
		{"another record", other, record, false},
	} {
		since := s.writes.Load()
		s.count(loggedWrite{records: []string{tc.write}})
		if got := s.changedSince(since, s.writes.Load(), tc.deps); got != tc.changed {
			t.Errorf("%s: changed %v, want %v", tc.name, got, tc.changed)
		}
	}
	since := s.writes.Load()
	s.count(loggedWrite{all: true})
	if !s.changedSince(since, s.writes.Load(), record) {
		t.Error("a write of unknown records did not count as a change")
	}

	since = s.writes.Load()
	many := make([]string, maxLoggedKeys)
	for i := range many {
		many[i] = fmt.Sprintf("/subscriptions/s/resourcegroups/rg%d%sgroups%sg", i, sep, sep)
	}
	s.count(loggedWrite{records: many})
	s.count(loggedWrite{records: []string{"y"}}) // past the bound: the log starts afresh
	if !s.changedSince(since, s.writes.Load(), record) {
		t.Error("after the log forgot, a body from before was taken as unchanged")
	}
	after := s.writes.Load()
	s.count(loggedWrite{records: []string{"z"}})
	if s.changedSince(after, s.writes.Load(), record) {
		t.Error("a write after the log started afresh ended a body it does not touch")
	}
}

// TestRenderedEntryValid: an entry checked at a later write count than a
// request's answers it (it shows every write acknowledged before the
// request began); one due to change by time does not.
func TestRenderedEntryValid(t *testing.T) {
	s := &countingStore{Store: memkv.New()}
	for range 3 {
		s.count(loggedWrite{records: []string{"other"}})
	}
	now := time.Unix(1000, 0)
	ent := &renderedEntry{writes: 3, deps: &renderDeps{records: []string{"mine"}}, renderedAt: now.Add(time.Second)}
	if !ent.valid(s, 1, now) {
		t.Error("an entry checked at count 3 refused a request that began at count 1")
	}
	if !ent.valid(s, 3, now) {
		t.Error("an entry refused a request at its own count")
	}
	s.count(loggedWrite{records: []string{"mine"}})
	if ent.valid(s, 4, now) {
		t.Error("an entry outlived a write of its record")
	}
	ent = &renderedEntry{writes: 4, deps: &renderDeps{records: []string{"mine"}}, renderedAt: now, until: now.Add(time.Second)}
	if ent.valid(s, 4, now.Add(time.Second)) {
		t.Error("an entry was served past its time")
	}
}
