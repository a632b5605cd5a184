package integration

import (
	"testing"

	activity "github.com/fluxera/activity"
)

func TestFilter(t *testing.T) {
	created := activity.Event{Action: "asset.created", Category: "asset", Outcome: "success"}
	failed := activity.Event{Action: "auth.login_failed", Category: "auth", Outcome: "failure"}
	for _, tc := range []struct {
		name            string
		filter          Filter
		field           string
		created, failed bool
	}{
		{name: "empty passes all", created: true, failed: true},
		{name: "category", filter: Filter{Categories: []string{"Asset"}}, created: true},
		{name: "action wildcard", filter: Filter{Actions: []string{"*.login_failed"}}, failed: true},
		{name: "resource wildcard", filter: Filter{Actions: []string{"asset.*"}}, created: true},
		{name: "outcome", filter: Filter{Outcome: "FAILURE"}, failed: true},
		{name: "all kinds must match", filter: Filter{Categories: []string{"auth"}, Outcome: "success"}},
		{name: "unknown category", filter: Filter{Categories: []string{"asset", "nope"}}, field: "categories[1]"},
		{name: "not an action", filter: Filter{Actions: []string{"created"}}, field: "actions[0]"},
		{name: "unknown action", filter: Filter{Actions: []string{"asset.created", "asset.teleported"}}, field: "actions[1]"},
		{name: "pattern matching nothing", filter: Filter{Actions: []string{"*.teleported"}}, field: "actions[0]"},
		{name: "bad outcome", filter: Filter{Outcome: "maybe"}, field: "outcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			err := f.Validate()
			if got := activity.ErrorField(err); got != tc.field || (tc.field != "" && activity.ErrorCode(err) != activity.EINVALID) {
				t.Fatalf("Validate: %v, want an error on %q", err, tc.field)
			}
			if err != nil {
				return
			}
			if got := f.Matches(created); got != tc.created {
				t.Errorf("asset.created: %v, want %v", got, tc.created)
			}
			if got := f.Matches(failed); got != tc.failed {
				t.Errorf("auth.login_failed: %v, want %v", got, tc.failed)
			}
		})
	}
}
