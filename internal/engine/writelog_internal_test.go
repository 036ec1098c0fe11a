package engine

import (
	"fmt"
	"testing"

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
