package searchapi

import (
	"errors"
	"maps"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

func TestRebuildAsOf(t *testing.T) {
	asset := activity.Resource{Type: "asset", ID: "0190f5a4-0000-7000-8000-000000000001"}
	user := activity.Resource{Type: "user", ID: "0190f5a4-0000-7000-8000-000000000002"}
	at := func(min int) time.Time { return time.Date(2026, 12, 1, 9, min, 0, 0, time.UTC) }
	entry := func(id string, seq int64, min int, action string, res activity.Resource, changes ...activity.Change) activity.Event {
		e := activity.Event{ID: id, Action: action, OccurredAt: at(min), Outcome: activity.OutcomeSuccess, Resource: res, Changes: changes}
		if seq > 0 {
			e.Chain = &activity.Chain{Seq: seq}
		}
		return e
	}
	ch := func(field, before, after string) activity.Change {
		return activity.Change{Field: field, Before: before, After: after}
	}
	created := entry("e1", 1, 0, "asset.created", asset, ch("name", "", "Laptop"), ch("status", "", "available"))
	renamed := entry("e2", 2, 10, "asset.updated", asset, ch("name", "Laptop", "Laptop 2"), ch("location", "", "Berlin"))
	moved := entry("e3", 3, 20, "asset.updated", asset, ch("location", "Berlin", ""))
	failed := entry("e4", 4, 15, "asset.updated", asset, ch("name", "Laptop 2", "Broken"))
	failed.Outcome = activity.OutcomeFailure
	deleted := entry("e5", 5, 30, "asset.deleted", asset, ch("name", "Laptop 2", ""), ch("status", "available", ""))
	// Published in the order of their sequence numbers, even where the
	// clocks that stamped them disagree.
	early := entry("e6", 2, 12, "asset.updated", asset, ch("status", "available", "repair"))
	late := entry("e7", 3, 11, "asset.updated", asset, ch("status", "repair", "retired"))
	accepted := entry("e8", 0, 0, "invitation.accepted", activity.Resource{Type: "invitation", ID: "i"}, ch("name", "", "Ann"), ch("role", "", "member"))
	accepted.Related = []activity.Resource{user}
	promoted := entry("e9", 0, 5, "user.role_changed", user, ch("role", "member", "admin"))

	tests := []struct {
		name    string
		res     activity.Resource
		t       time.Time
		entries []activity.Event
		fields  map[string]string
		deleted bool
		ids     []string
	}{
		{"at creation", asset, at(0), []activity.Event{renamed, created}, map[string]string{"name": "Laptop", "status": "available"}, false, []string{"e1"}},
		{"between changes", asset, at(15), []activity.Event{moved, renamed, created, failed}, map[string]string{"name": "Laptop 2", "status": "available", "location": "Berlin"}, false, []string{"e1", "e2"}},
		{"a field emptied", asset, at(25), []activity.Event{moved, renamed, created}, map[string]string{"name": "Laptop 2", "status": "available"}, false, []string{"e1", "e2", "e3"}},
		{"deleted", asset, at(40), []activity.Event{deleted, moved, renamed, created}, map[string]string{}, true, []string{"e1", "e2", "e3", "e5"}},
		{"sequence before clock", asset, at(15), []activity.Event{late, early, created}, map[string]string{"name": "Laptop", "status": "retired"}, false, []string{"e1", "e6", "e7"}},
		{"user created by an invitation", user, at(6), []activity.Event{promoted, accepted}, map[string]string{"name": "Ann", "role": "admin"}, false, []string{"e8", "e9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := RebuildAsOf(tt.res, tt.t, tt.entries)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(v.Fields, tt.fields) || v.Deleted != tt.deleted {
				t.Errorf("fields %v deleted %v, want %v %v", v.Fields, v.Deleted, tt.fields, tt.deleted)
			}
			var ids []string
			for _, e := range v.Entries {
				ids = append(ids, e.ID)
			}
			if len(ids) != len(tt.ids) {
				t.Fatalf("entries %v, want %v", ids, tt.ids)
			}
			for i := range ids {
				if ids[i] != tt.ids[i] {
					t.Errorf("entries %v, want %v", ids, tt.ids)
				}
			}
		})
	}

	t.Run("before creation", func(t *testing.T) {
		_, err := RebuildAsOf(asset, at(0).Add(-time.Second), []activity.Event{created, renamed})
		var e *activity.Error
		if !errors.As(err, &e) || e.Code != activity.ENOTFOUND {
			t.Errorf("err %v, want not found", err)
		}
	})
}
