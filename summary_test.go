package activity_test

import (
	"testing"

	activity "github.com/fluxera/activity"
)

func TestSummary(t *testing.T) {
	jane := activity.Actor{Name: "Jane Roe", Type: activity.ActorUser}
	mac := activity.Resource{Type: "asset", ID: "a1", Name: "MacBook Pro A-1029"}
	bob := activity.Resource{Type: "user", ID: "u2", Name: "Bob Builder", Role: "assignee"}
	tests := []struct {
		name string
		e    activity.Event
		want string
	}{
		{"creation", activity.Event{Action: "asset.created", Actor: jane, Resource: mac}, "Jane Roe created asset MacBook Pro A-1029"},
		{"one change", activity.Event{Action: "asset.status_changed", Actor: jane, Resource: mac, Changes: []activity.Change{{Field: "status", Before: "available", After: "lost"}}},
			"Jane Roe changed status from available to lost on asset MacBook Pro A-1029"},
		{"several changes", activity.Event{Action: "asset.updated", Actor: jane, Resource: mac, Changes: []activity.Change{{Field: "a"}, {Field: "b"}}}, "Jane Roe updated asset MacBook Pro A-1029"},
		{"a redacted change is not spelled out", activity.Event{Action: "license.updated", Actor: jane, Resource: activity.Resource{Type: "license", Name: "Figma"}, Changes: []activity.Change{{Field: "key", Redacted: true}}}, "Jane Roe updated license Figma"},
		{"assignment", activity.Event{Action: "asset.assigned", Actor: jane, Resource: mac, Related: []activity.Resource{bob}}, "Jane Roe assigned asset MacBook Pro A-1029 to Bob Builder"},
		{"seat", activity.Event{Action: "license.assigned", Actor: jane, Resource: activity.Resource{Type: "license", Name: "Figma"}, Related: []activity.Resource{bob}}, "Jane Roe gave Bob Builder a seat of license Figma"},
		{"anonymous failure", activity.Event{Action: "auth.login_failed", Actor: activity.Actor{Email: "x@example.com", Type: activity.ActorAnonymous}, Resource: activity.Resource{Type: "user", Name: "x@example.com"}}, "x@example.com failed to log in"},
		{"nobody named", activity.Event{Action: "auth.logout", Resource: activity.Resource{Type: "user"}}, "Someone logged out"},
		{"unknown action", activity.Event{Action: "asset.audited", Actor: jane, Resource: mac}, "Jane Roe audited asset MacBook Pro A-1029"},
		{"rule change", activity.Event{Action: "alert_rule.updated", Actor: jane, Resource: activity.Resource{Type: "alert_rule", Name: "Exports"}, Changes: []activity.Change{{Field: "threshold", Before: "3", After: "5"}}}, "Jane Roe changed threshold from 3 to 5 on alert rule Exports"},
		{"alert resolved", activity.Event{Action: "alert.resolved", Actor: jane, Resource: activity.Resource{Type: "alert", Name: "3 failed logins for ann@example.com within 10 minutes"}}, "Jane Roe resolved the alert \"3 failed logins for ann@example.com within 10 minutes\""},
		{"detection", activity.Event{Action: "system.detection_changed", Actor: jane, Resource: activity.Resource{Type: "workspace", Name: "Acme"}}, "Jane Roe changed the security detection settings of workspace Acme"},
		{"key view", activity.Event{Action: "license.key_viewed", Actor: jane, Resource: activity.Resource{Type: "license", Name: "Figma"}}, "Jane Roe viewed the key of license Figma"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Summary(); got != tt.want {
				t.Errorf("Summary() = %q, want %q", got, tt.want)
			}
		})
	}
}
