package e2e

import (
	"net/http"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// TestInsightsKeepToTheContract writes a week of work — sessions of
// several actions, an asset created then assigned, a maintenance
// scheduled then completed, a reassignment, a license seat and a renewal —
// and reads the workflows, task times and assignments over it, and the
// alert response times, each answer checked against the OpenAPI document
// by the end-to-end client, with lists that are not empty.
func TestInsightsKeepToTheContract(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Insights "+stacktest.RandomID())
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	var me domainUser
	owner.call("GET", "/api/v1/me", nil, nil).decode(t, &me)

	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	laptop := activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: "Laptop"}
	printer := activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: "Printer"}
	seats := activity.Resource{Type: "license", ID: activity.NewEventID(), Name: "Figma"}
	assignee := activity.Resource{Type: "user", ID: member.id, Name: "Max Member", Role: "assignee"}
	previous := activity.Resource{Type: "user", ID: owner.id, Name: "Olga Owner", Role: "previous_assignee"}
	var events []activity.Event
	add := func(minutes int, session, action string, r activity.Resource, related ...activity.Resource) *activity.Event {
		e := activity.NewEvent(me.WorkspaceID, action, day.Add(time.Duration(minutes)*time.Minute))
		e.Actor = activity.Actor{ID: owner.id, Email: owner.email, Name: "Olga Owner", Role: activity.RoleOwner, Type: activity.ActorUser}
		e.Resource, e.Related = r, related
		e.Context = activity.Context{IP: "192.0.2.10", Method: activity.MethodWeb, SessionID: session, RequestID: stacktest.RandomID()}
		events = append(events, e)
		return &events[len(events)-1]
	}
	for _, s := range []string{"s1", "s2"} {
		base := map[string]int{"s1": 0, "s2": 24 * 60}[s]
		add(base, s, "auth.login", activity.Resource{Type: "user", ID: owner.id})
		add(base+5, s, "asset.created", laptop)
		add(base+10, s, "asset.updated", laptop)
		add(base+15, s, "asset.assigned", laptop, assignee)
	}
	add(3*24*60, "s3", "asset.assigned", printer, assignee, previous)
	add(3*24*60+5, "s3", "asset.maintenance_scheduled", printer)
	add(4*24*60, "s3", "asset.maintenance_completed", printer)
	add(4*24*60+5, "s3", "license.assigned", seats, assignee)
	renewal := add(4*24*60+10, "s3", "license.renewed", seats)
	renewal.Changes = []activity.Change{{Field: "expires_on", Before: "2026-03-20", After: "2027-03-20"}}
	mustWriteEvents(t, cfg, events)
	stacktest.Eventually(t, "every event is indexed", func() bool {
		var page searchapi.EventPage
		owner.call("GET", "/api/v1/activity?limit=1&from=2026-03-01&to=2026-03-31", nil, nil).decode(t, &page)
		return page.Total == int64(len(events))
	})

	const march = "from=2026-03-01&to=2026-03-31"
	var w searchapi.Workflows
	getJSON(t, owner.client, "/api/v1/analytics/workflows?limit=5&"+march, &w)
	if len(w.Pairs) == 0 || len(w.Triples) == 0 {
		t.Errorf("workflows: %+v, want pairs and triples", w)
	}
	var tt searchapi.TaskTimes
	getJSON(t, owner.client, "/api/v1/analytics/task-times?"+march, &tt)
	if len(tt.Tasks) == 0 || len(tt.Bottlenecks) == 0 || tt.Renewals.Count != 1 {
		t.Errorf("task times: %+v, want tasks, bottlenecks and one renewal", tt)
	}
	var as searchapi.Assignments
	getJSON(t, owner.client, "/api/v1/analytics/assignments?limit=5&"+march, &as)
	if as.Total != 4 || as.Reassignments != 1 || len(as.Assigners) == 0 || len(as.Assignees) == 0 {
		t.Errorf("assignments: %+v, want 4 with one reassignment", as)
	}
	// With people pseudonymized, the answers keep their shape.
	for _, path := range []string{"/api/v1/analytics/workflows?anonymize=true&", "/api/v1/analytics/task-times?anonymize=true&", "/api/v1/analytics/assignments?anonymize=true&", "/api/v1/analytics/time-spent?anonymize=true&idle=10&"} {
		if a := owner.call("GET", path+march, nil, nil); a.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path+march, a.status, a.body)
		}
	}
	for _, path := range []string{"/api/v1/analytics/alert-response?" + march, "/api/v1/analytics/alert-response?range=7d"} {
		if a := owner.call("GET", path, nil, nil); a.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, a.status, a.body)
		}
	}
	// A member sees their own insights, and is refused the alerts'.
	getJSON(t, member.client, "/api/v1/analytics/workflows?"+march, &w)
	if a := member.call("GET", "/api/v1/analytics/alert-response?"+march, nil, nil); a.status != http.StatusForbidden {
		t.Errorf("alert response as a member: %d %s", a.status, a.body)
	}
}
