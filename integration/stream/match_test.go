package stream

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

func TestMatchesAsTheLogFilters(t *testing.T) {
	const ws, user, asset = "0193a0a0-0000-7000-8000-000000000001", "0193a0a0-0000-7000-8000-0000000000aa", "0193a0a0-0000-7000-8000-0000000000bb"
	e := activity.Event{
		WorkspaceID: ws, Action: "license.assigned", Category: "license", Outcome: "success",
		Actor:    activity.Actor{ID: user, Type: activity.ActorUser},
		Resource: activity.Resource{Type: "license", ID: "0193a0a0-0000-7000-8000-0000000000cc"},
		Related:  []activity.Resource{{Type: "asset", ID: asset}},
		Context:  activity.Context{IP: "203.0.113.9"},
	}
	for _, tc := range []struct {
		name   string
		filter searchapi.EventFilter
		want   bool
	}{
		{"no filter", searchapi.EventFilter{}, true},
		{"user", searchapi.EventFilter{Users: []string{user}}, true},
		{"other user", searchapi.EventFilter{Users: []string{asset}}, false},
		{"action wildcard", searchapi.EventFilter{Actions: []string{"license.*"}}, true},
		{"related resource", searchapi.EventFilter{Resources: []string{"asset:" + asset}}, true},
		{"resource type", searchapi.EventFilter{Resources: []string{"user"}}, false},
		{"ip range", searchapi.EventFilter{IPs: []string{"203.0.113.0/24"}}, true},
		{"other ip", searchapi.EventFilter{IPs: []string{"198.51.100.1"}}, false},
		{"outcome", searchapi.EventFilter{Outcome: "failure"}, false},
		{"category and action", searchapi.EventFilter{Categories: []string{"license"}, Actions: []string{"*.assigned"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			if err := f.Validate(time.Now(), time.UTC); err != nil {
				t.Fatal(err)
			}
			if got := matches(f, e); got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		p    activity.Principal
		want bool
	}{
		{"owner", activity.Principal{WorkspaceID: ws, UserID: asset, Role: activity.RoleOwner}, true},
		{"the member who acted", activity.Principal{WorkspaceID: ws, UserID: user, Role: activity.RoleMember}, true},
		{"another member", activity.Principal{WorkspaceID: ws, UserID: asset, Role: activity.RoleMember}, false},
		{"another workspace's owner", activity.Principal{WorkspaceID: asset, UserID: user, Role: activity.RoleOwner}, false},
	} {
		if got := visible(tc.p, e); got != tc.want {
			t.Errorf("visible to %s = %v, want %v", tc.name, got, tc.want)
		}
	}
}
