package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

// reportEvent is one action of the reports' story, at a Berlin wall-clock
// time in March 2026.
type reportEvent struct {
	at       string // RFC 3339 with the Berlin offset of that day
	actor    string // "owner", "member" or "stranger"
	action   string
	resource activity.Resource
	failed   bool
	ip       string
	changes  []activity.Change
	related  []activity.Resource
	details  map[string]any
}

// mustGenerate asks for a report and returns it, failing unless it is made.
func mustGenerate(t *testing.T, c *client, body any) report.Report {
	t.Helper()
	a := c.call("POST", "/api/v1/reports", body, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("POST /api/v1/reports %v: %d %s", body, a.status, a.body)
	}
	var r report.Report
	a.decode(t, &r)
	return r
}

// TestReports writes a known March of one Berlin workspace — two people
// logging in and failing to, changing assets and licenses, viewing keys,
// changing a member's permissions — plus events just outside the month and
// in another workspace, raises alerts in and after the month, and checks
// every section of every type of report to the unit: as the owner, who
// sees the workspace, as a member, who sees their own actions, and narrowed
// to one user and to activity types. It then reads the kept reports back,
// lists them, downloads them as PDF, CSV and JSON, and checks who may do
// what and that bad input is refused with nothing kept.
func TestReports(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing: the report PDFs are read with poppler-utils, which make up installs")
	}
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Reports Co")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	stranger := mustOwner(t, m, cfg, "Elsewhere")
	workspace := func(c *client) string {
		var me struct {
			WorkspaceID string `json:"workspace_id"`
		}
		getJSON(t, c, "/api/v1/me", &me)
		return me.WorkspaceID
	}
	ws, strangerWS := workspace(owner.client), workspace(stranger.client)
	people := map[string]struct{ ws, id, email, name string }{
		"owner":    {ws, owner.id, owner.email, "Olga Owner"},
		"member":   {ws, member.id, member.email, "Max Member"},
		"stranger": {strangerWS, stranger.id, stranger.email, "Stella Stranger"},
	}
	a1 := activity.Resource{Type: "asset", ID: "a1a1a1a1-0000-4000-8000-000000000001", Name: "Laptop One"}
	a2 := activity.Resource{Type: "asset", ID: "a2a2a2a2-0000-4000-8000-000000000002", Name: "Monitor Two"}
	l1 := activity.Resource{Type: "license", ID: "11111111-0000-4000-8000-000000000001", Name: "Figma"}
	l2 := activity.Resource{Type: "license", ID: "22222222-0000-4000-8000-000000000002", Name: "Slack"}
	l3 := activity.Resource{Type: "license", ID: "33333333-0000-4000-8000-000000000003", Name: "Zoom"}
	lena := activity.Resource{Type: "user", ID: "1e4a0000-0000-4000-8000-00000000000e", Name: "Lena Lux"}
	user := func(who string) activity.Resource {
		return activity.Resource{Type: "user", ID: people[who].id, Name: people[who].name}
	}
	as := func(r activity.Resource, role string) activity.Resource { r.Role = role; return r }
	status := func(before, after string) activity.Change {
		return activity.Change{Field: "status", Before: before, After: after}
	}
	story := []reportEvent{
		// Monday 2 March.
		{at: "2026-03-02T09:00:00+01:00", actor: "owner", action: "auth.login", resource: user("owner"), ip: "192.0.2.10"},
		{at: "2026-03-02T09:10:00+01:00", actor: "owner", action: "asset.created", resource: a1, changes: []activity.Change{{Field: "name", After: a1.Name}, status("", "available")}},
		{at: "2026-03-02T09:20:00+01:00", actor: "owner", action: "asset.updated", resource: a1, changes: []activity.Change{{Field: "location", After: "Berlin"}}},
		{at: "2026-03-02T09:29:00+01:00", actor: "member", action: "auth.login_failed", resource: user("member"), failed: true, ip: "192.0.2.20"},
		{at: "2026-03-02T09:30:00+01:00", actor: "member", action: "auth.login", resource: user("member"), ip: "192.0.2.20"},
		{at: "2026-03-02T09:40:00+01:00", actor: "member", action: "asset.assigned", resource: a2, related: []activity.Resource{as(lena, "assignee")},
			changes: []activity.Change{status("available", "assigned"), {Field: "assigned_to", After: "Lena Lux"}}},
		{at: "2026-03-02T09:50:00+01:00", actor: "member", action: "license.key_viewed", resource: l1, ip: "192.0.2.20"},
		// Tuesday 3 March: two failed logins, then the owner's session.
		{at: "2026-03-03T13:58:00+01:00", actor: "owner", action: "auth.login_failed", resource: user("owner"), failed: true, ip: "198.51.100.7"},
		{at: "2026-03-03T13:59:00+01:00", actor: "owner", action: "auth.login_failed", resource: user("owner"), failed: true, ip: "198.51.100.7"},
		{at: "2026-03-03T14:00:00+01:00", actor: "owner", action: "auth.login", resource: user("owner"), ip: "192.0.2.10"},
		{at: "2026-03-03T14:05:00+01:00", actor: "owner", action: "asset.status_changed", resource: a2, related: []activity.Resource{as(lena, "previous_assignee")},
			changes: []activity.Change{status("assigned", "in_maintenance"), {Field: "assigned_to", Before: "Lena Lux"}}},
		{at: "2026-03-03T14:10:00+01:00", actor: "owner", action: "asset.maintenance_scheduled", resource: a2,
			details: map[string]any{"scheduled_for": "2026-03-10", "description": "Replace the panel"}},
		{at: "2026-03-03T14:20:00+01:00", actor: "owner", action: "asset.updated", resource: a2, failed: true},
		// Tuesday 10 March: maintenance done, seats handed out.
		{at: "2026-03-10T10:00:00+01:00", actor: "owner", action: "asset.maintenance_completed", resource: a2,
			details: map[string]any{"scheduled_for": "2026-03-10", "description": "Replace the panel", "outcome": "Panel replaced"}},
		{at: "2026-03-10T10:05:00+01:00", actor: "owner", action: "asset.status_changed", resource: a2, changes: []activity.Change{status("in_maintenance", "available")}},
		{at: "2026-03-10T10:30:00+01:00", actor: "owner", action: "license.assigned", resource: l1, related: []activity.Resource{as(user("member"), "assignee")}},
		{at: "2026-03-10T10:31:00+01:00", actor: "owner", action: "license.assigned", resource: l2, related: []activity.Resource{as(lena, "assignee")}},
		{at: "2026-03-10T10:40:00+01:00", actor: "owner", action: "license.unassigned", resource: l1, related: []activity.Resource{as(user("member"), "assignee")}},
		{at: "2026-03-10T11:00:00+01:00", actor: "owner", action: "license.key_viewed", resource: l2, ip: "192.0.2.10"},
		// Wednesday 11 March: license changes.
		{at: "2026-03-11T09:00:00+01:00", actor: "owner", action: "license.renewed", resource: l1, changes: []activity.Change{{Field: "expires_on", Before: "2026-04-01", After: "2027-04-01"}}},
		{at: "2026-03-11T09:05:00+01:00", actor: "owner", action: "license.updated", resource: l2, changes: []activity.Change{{Field: "seats", Before: "5", After: "10"}}},
		{at: "2026-03-11T09:10:00+01:00", actor: "owner", action: "license.created", resource: l3},
		// Thursday 12 March: Lena's permissions.
		{at: "2026-03-12T09:00:00+01:00", actor: "owner", action: "user.role_changed", resource: lena, changes: []activity.Change{{Field: "role", Before: "viewer", After: "member"}}},
		{at: "2026-03-12T09:01:00+01:00", actor: "owner", action: "user.deactivated", resource: lena, changes: []activity.Change{{Field: "active", Before: "true", After: "false"}}},
		{at: "2026-03-12T09:02:00+01:00", actor: "owner", action: "user.activated", resource: lena, changes: []activity.Change{{Field: "active", Before: "false", After: "true"}}},
		// Monday 16 March: the member's early session.
		{at: "2026-03-16T08:15:00+01:00", actor: "member", action: "auth.login", resource: user("member"), ip: "192.0.2.20"},
		{at: "2026-03-16T08:20:00+01:00", actor: "member", action: "auth.logout", resource: user("member"), ip: "192.0.2.20"},
		// Sunday 29 March, summer time: an export late in the evening.
		{at: "2026-03-29T23:30:00+02:00", actor: "owner", action: "system.data_exported", resource: activity.Resource{Type: "export", Name: "assets.csv"}},
	}
	noise := []reportEvent{
		{at: "2026-02-28T23:30:00+01:00", actor: "owner", action: "auth.login", resource: user("owner")},
		{at: "2026-04-01T00:00:00+02:00", actor: "member", action: "license.key_viewed", resource: l1},
		{at: "2026-03-02T09:00:00+01:00", actor: "stranger", action: "auth.login_failed", resource: user("stranger"), failed: true, ip: "192.0.2.99"},
		{at: "2026-03-02T09:10:00+01:00", actor: "stranger", action: "asset.status_changed", resource: a1, changes: []activity.Change{status("available", "lost")}},
		{at: "2026-03-02T09:20:00+01:00", actor: "stranger", action: "license.key_viewed", resource: l1},
	}
	var events []activity.Event
	for _, s := range append(append([]reportEvent{}, story...), noise...) {
		at, err := time.Parse(time.RFC3339, s.at)
		if err != nil {
			t.Fatal(err)
		}
		who := people[s.actor]
		e := activity.NewEvent(who.ws, s.action, at)
		e.Actor = activity.Actor{ID: who.id, Email: who.email, Name: who.name, Role: activity.RoleOwner, Type: activity.ActorUser}
		if s.actor == "member" {
			e.Actor.Role = activity.RoleMember
		}
		e.Resource, e.Related, e.Changes, e.Details = s.resource, s.related, s.changes, s.details
		if s.failed {
			e.Outcome = activity.OutcomeFailure
		}
		e.Context = activity.Context{IP: s.ip, Method: activity.MethodWeb, TimeZone: "Europe/Berlin", RequestID: stacktest.RandomID()}
		events = append(events, e)
	}
	mustProduceEvents(t, cfg, events)
	stacktest.Eventually(t, "every produced event is indexed", func() bool { return indexedCount(t, cfg) == len(events) })

	// Alerts: two raised in March, one acknowledged since, one in April.
	raised := func(at string, detector, severity, subject string) alert.Alert {
		tm, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		a := postgrestest.Alert(ws, detector, tm, severity)
		a.Subject.ID = subject
		return a
	}
	failedAlert := postgrestest.MustRaise(t, m.DB, raised("2026-03-03T13:59:30+01:00", alert.DetectFailedLogins, "high", owner.id))
	permAlert := postgrestest.MustRaise(t, m.DB, raised("2026-03-12T09:02:30+01:00", alert.DetectPermissionChanges, "medium", lena.ID))
	postgrestest.MustRaise(t, m.DB, raised("2026-04-02T10:00:00+02:00", alert.DetectUnusualTime, "low", owner.id))
	if a := owner.call("POST", "/api/v1/alerts/"+permAlert.ID+"/acknowledge", nil, nil); a.status != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", a.status, a.body)
	}

	march := map[string]any{"from": "2026-03-01", "to": "2026-03-31"}
	with := func(typ string, extra map[string]any) map[string]any {
		b := map[string]any{"type": typ}
		for k, v := range march {
			b[k] = v
		}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	period := func(t *testing.T, r report.Report) {
		t.Helper()
		p := r.Result.Period
		if p.From.Format(time.RFC3339) != "2026-03-01T00:00:00+01:00" || p.To.Format(time.RFC3339) != "2026-04-01T00:00:00+02:00" || p.TimeZone != "Europe/Berlin" {
			t.Errorf("period = %+v, want March in Berlin", p)
		}
		if !r.Period.From.Equal(p.From) || !r.Period.To.Equal(p.To) {
			t.Errorf("the report's period %+v differs from its result's %+v", r.Period, p)
		}
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	ownerP := searchapi.Person{ID: owner.id, Name: "Olga Owner", Email: owner.email}
	memberP := searchapi.Person{ID: member.id, Name: "Max Member", Email: member.email}
	// Ties in ranked lists go by id.
	byID := func(a, b searchapi.Person) (searchapi.Person, searchapi.Person) {
		if a.ID < b.ID {
			return a, b
		}
		return b, a
	}
	cats := func(asset, license, usr, auth, system int64) map[string]int64 {
		return map[string]int64{"asset": asset, "license": license, "user": usr, "auth": auth, "system": system}
	}
	same := func(t *testing.T, what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s:\n got %s\nwant %s", what, g, w)
		}
	}
	generated := map[string]report.Report{}

	t.Run("user", func(t *testing.T) {
		before := ob.last()
		r := mustGenerate(t, owner.client, with("user", nil))
		generated["user"] = r
		period(t, r)
		if r.Type != "user" || r.Scope != report.ScopeWorkspace || r.Workspace != "Reports Co" || r.Name != "User activity report, 2026-03-01 to 2026-03-31" ||
			r.GeneratedBy.ID != owner.id || r.Result.Total != 28 || r.ID == "" {
			t.Errorf("report: %+v", r)
		}
		u := r.Result.User
		if u == nil {
			t.Fatal("no user section")
		}
		same(t, "actions per user", u.ActionsPerUser, searchapi.ActionsPerUser{Actions: 28, Users: 2, Average: 14, Entries: []searchapi.UserUsage{
			{Person: ownerP, Actions: 22, Categories: cats(7, 7, 3, 4, 1)},
			{Person: memberP, Actions: 6, Categories: cats(1, 1, 0, 4, 0)},
		}})
		same(t, "most active users", u.MostActiveUsers.Entries, []searchapi.ActiveUser{
			{Person: ownerP, Actions: 22, Share: 78.6, ActiveDays: 6, LastAction: at("2026-03-29T23:30:00+02:00")},
			{Person: memberP, Actions: 6, Share: 21.4, ActiveDays: 2, LastAction: at("2026-03-16T08:20:00+01:00")},
		})
		first, second := byID(ownerP, memberP)
		same(t, "login frequency", u.LoginFrequency, searchapi.LoginFrequency{Logins: 4, Users: 2, Days: 31, PerDay: 0.13, PerWeek: 0.9, Entries: []searchapi.UserLogin{
			{Person: first, Logins: 2, LoginDays: 2, PerDay: 0.06, PerWeek: 0.45},
			{Person: second, Logins: 2, LoginDays: 2, PerDay: 0.06, PerWeek: 0.45},
		}})
		same(t, "usage by category", u.FeatureUsage.Categories, []searchapi.CategoryUsage{
			cu("asset", 8, 2), cu("auth", 8, 2), cu("license", 8, 2), cu("user", 3, 1), cu("system", 1, 1),
		})
		same(t, "usage by action", u.FeatureUsage.Actions, []searchapi.ActionUsage{
			au("auth.login", 4, 2), au("auth.login_failed", 3, 2),
			au("asset.status_changed", 2, 1), au("asset.updated", 2, 1), au("license.assigned", 2, 1), au("license.key_viewed", 2, 2),
			au("asset.assigned", 1, 1), au("asset.created", 1, 1), au("asset.maintenance_completed", 1, 1), au("asset.maintenance_scheduled", 1, 1),
			au("auth.logout", 1, 1), au("license.created", 1, 1), au("license.renewed", 1, 1), au("license.unassigned", 1, 1),
			au("license.updated", 1, 1), au("system.data_exported", 1, 1), au("user.activated", 1, 1), au("user.deactivated", 1, 1),
			au("user.role_changed", 1, 1),
		})
		// Generating is recorded, with the report as its resource.
		evs, _ := ob.since(before)
		if len(evs) != 1 || evs[0].Action != "system.report_generated" || evs[0].Actor.ID != owner.id ||
			evs[0].Resource != (activity.Resource{Type: "report", ID: r.ID, Name: r.Name}) || evs[0].Details["report_type"] != "user" {
			t.Errorf("generating wrote %+v, want one system.report_generated of the report", evs)
		}

		// The member's report covers their own actions.
		mr := mustGenerate(t, member.client, with("user", nil))
		generated["member"] = mr
		if mr.Scope != report.ScopeOwn || mr.Result.Total != 6 {
			t.Errorf("member's report: scope %s, total %d", mr.Scope, mr.Result.Total)
		}
		same(t, "member's actions per user", mr.Result.User.ActionsPerUser, searchapi.ActionsPerUser{Actions: 6, Users: 1, Average: 6, Entries: []searchapi.UserUsage{
			{Person: memberP, Actions: 6, Categories: cats(1, 1, 0, 4, 0)},
		}})
		// Narrowed to the member, the owner sees what the member sees.
		nr := mustGenerate(t, owner.client, with("user", map[string]any{"users": []string{strings.ToUpper(member.id)}}))
		same(t, "narrowed to the member", nr.Result.User, mr.Result.User)
		same(t, "the narrowed report's users", nr.Parameters.Users, []string{member.id})
		// Narrowed to activity types: the auth category and one action.
		tr := mustGenerate(t, owner.client, with("user", map[string]any{"activity_types": []string{"auth", "License.Key_Viewed"}}))
		if tr.Result.Total != 10 || !reflect.DeepEqual(tr.Parameters.ActivityTypes, []string{"auth", "license.key_viewed"}) {
			t.Errorf("auth and key views: total %d, activity types %v", tr.Result.Total, tr.Parameters.ActivityTypes)
		}
		wr := mustGenerate(t, owner.client, with("user", map[string]any{"activity_types": []string{"license.*"}}))
		if wr.Result.Total != 8 {
			t.Errorf("license.*: total %d, want 8", wr.Result.Total)
		}
	})

	t.Run("asset", func(t *testing.T) {
		r := mustGenerate(t, owner.client, with("asset", nil))
		generated["asset"] = r
		period(t, r)
		a := r.Result.Asset
		if r.Result.Total != 8 || a == nil {
			t.Fatalf("asset report: total %d, %+v", r.Result.Total, a)
		}
		same(t, "most modified", a.MostModified, searchapi.MostModifiedAssets{Changes: 7, Assets: 2, Entries: []searchapi.ChangedThing{
			{Thing: searchapi.Thing{ID: a2.ID, Name: a2.Name}, Changes: 5, Actions: map[string]int64{
				"asset.assigned": 1, "asset.status_changed": 2, "asset.maintenance_scheduled": 1, "asset.maintenance_completed": 1}},
			{Thing: searchapi.Thing{ID: a1.ID, Name: a1.Name}, Changes: 2, Actions: map[string]int64{"asset.created": 1, "asset.updated": 1}},
		}})
		same(t, "assignments", a.Assignments, searchapi.AssetAssignments{Assigned: 1, Unassigned: 0, Entries: []searchapi.AssignedThing{
			{Thing: searchapi.Thing{ID: a2.ID, Name: a2.Name}, Assigned: 1},
		}})
		same(t, "status changes", a.StatusChanges, searchapi.StatusChanges{Changes: 3, Complete: true, Entries: []searchapi.StatusTransition{
			{From: "assigned", To: "in_maintenance", Count: 1}, {From: "available", To: "assigned", Count: 1}, {From: "in_maintenance", To: "available", Count: 1},
		}})
		same(t, "maintenance", a.Maintenance, searchapi.MaintenanceHistory{Scheduled: 1, Completed: 1, Entries: []searchapi.MaintenanceEntry{
			{At: at("2026-03-10T10:00:00+01:00"), Action: "asset.maintenance_completed", Asset: searchapi.Thing{ID: a2.ID, Name: a2.Name}, By: ownerP,
				ScheduledFor: "2026-03-10", Description: "Replace the panel", Outcome: "Panel replaced"},
			{At: at("2026-03-03T14:10:00+01:00"), Action: "asset.maintenance_scheduled", Asset: searchapi.Thing{ID: a2.ID, Name: a2.Name}, By: ownerP,
				ScheduledFor: "2026-03-10", Description: "Replace the panel"},
		}})
	})

	t.Run("license", func(t *testing.T) {
		r := mustGenerate(t, owner.client, with("license", nil))
		generated["license"] = r
		period(t, r)
		l := r.Result.License
		if r.Result.Total != 8 || l == nil {
			t.Fatalf("license report: total %d, %+v", r.Result.Total, l)
		}
		same(t, "license changes", l.Changes, searchapi.LicenseChanges{Changes: 2,
			Actions: []searchapi.ActionCount{{Action: "license.created", Count: 1}, {Action: "license.updated", Count: 1}},
			Entries: []searchapi.ChangedThing{
				{Thing: searchapi.Thing{ID: l2.ID, Name: l2.Name}, Changes: 1, Actions: map[string]int64{"license.updated": 1}},
				{Thing: searchapi.Thing{ID: l3.ID, Name: l3.Name}, Changes: 1, Actions: map[string]int64{"license.created": 1}},
			}})
		firstGiven, secondGiven := searchapi.AssignedPerson{Thing: searchapi.Thing{ID: member.id, Name: "Max Member"}, Assigned: 1},
			searchapi.AssignedPerson{Thing: searchapi.Thing{ID: lena.ID, Name: lena.Name}, Assigned: 1}
		if secondGiven.ID < firstGiven.ID {
			firstGiven, secondGiven = secondGiven, firstGiven
		}
		same(t, "assignment patterns", l.Assignments, searchapi.SeatAssignments{Assigned: 2, Unassigned: 1,
			Entries: []searchapi.AssignedThing{
				{Thing: searchapi.Thing{ID: l1.ID, Name: l1.Name}, Assigned: 1, Unassigned: 1},
				{Thing: searchapi.Thing{ID: l2.ID, Name: l2.Name}, Assigned: 1},
			},
			Assignees: []searchapi.AssignedPerson{firstGiven, secondGiven}})
		first, second := byID(ownerP, memberP)
		same(t, "key access log", l.KeyAccess, searchapi.KeyAccessLog{Views: 2, Viewers: 2, Licenses: 2,
			Entries: []searchapi.KeyView{
				{At: at("2026-03-10T11:00:00+01:00"), License: searchapi.Thing{ID: l2.ID, Name: l2.Name}, By: ownerP, IP: "192.0.2.10"},
				{At: at("2026-03-02T09:50:00+01:00"), License: searchapi.Thing{ID: l1.ID, Name: l1.Name}, By: memberP, IP: "192.0.2.20"},
			},
			Top: []searchapi.UserSeen{{Person: first, Count: 1}, {Person: second, Count: 1}}})
		same(t, "renewals", l.Renewals, searchapi.RenewalActivity{Renewals: 1, Licenses: 1, Entries: []searchapi.Renewal{
			{At: at("2026-03-11T09:00:00+01:00"), License: searchapi.Thing{ID: l1.ID, Name: l1.Name}, By: ownerP, From: "2026-04-01", To: "2027-04-01"},
		}})
	})

	t.Run("security", func(t *testing.T) {
		r := mustGenerate(t, owner.client, with("security", nil))
		generated["security"] = r
		period(t, r)
		s := r.Result.Security
		if r.Result.Total != 10 || s == nil {
			t.Fatalf("security report: total %d, %+v", r.Result.Total, s)
		}
		var times [7][24]int64
		times[0][9], times[0][8], times[1][14] = 2, 1, 1
		same(t, "login attempts", s.LoginAttempts, searchapi.LoginAttempts{Successful: 4, Failed: 3, Times: times, Days: []searchapi.LoginDay{
			{Day: "2026-03-02", Successful: 2, Failed: 1}, {Day: "2026-03-03", Successful: 1, Failed: 2}, {Day: "2026-03-16", Successful: 1},
		}})
		same(t, "failed authentications", s.FailedAuth, searchapi.FailedAuthentications{Failed: 3, Accounts: 2, Addresses: 2,
			ByAccount: []searchapi.FailedAccount{
				{Person: ownerP, Failed: 2, Last: at("2026-03-03T13:59:00+01:00")},
				{Person: memberP, Failed: 1, Last: at("2026-03-02T09:29:00+01:00")},
			},
			ByAddress: []searchapi.FailedAddress{
				{IP: "198.51.100.7", Failed: 2, Accounts: 1, Last: at("2026-03-03T13:59:00+01:00")},
				{IP: "192.0.2.20", Failed: 1, Accounts: 1, Last: at("2026-03-02T09:29:00+01:00")},
			}})
		lenaT := searchapi.Thing{ID: lena.ID, Name: lena.Name}
		same(t, "permission changes", s.PermissionChanges, searchapi.PermissionChanges{Changes: 3, RoleChanges: 1, Activations: 1, Deactivations: 1,
			Entries: []searchapi.PermissionChange{
				{At: at("2026-03-12T09:02:00+01:00"), Action: "user.activated", User: lenaT, By: ownerP},
				{At: at("2026-03-12T09:01:00+01:00"), Action: "user.deactivated", User: lenaT, By: ownerP},
				{At: at("2026-03-12T09:00:00+01:00"), Action: "user.role_changed", User: lenaT, By: ownerP, From: "viewer", To: "member"},
			}})
		entry := func(a alert.Alert, state string) report.SuspiciousAlert {
			return report.SuspiciousAlert{ID: a.ID, RaisedAt: a.RaisedAt.UTC(), Severity: a.Severity, State: state, Source: a.Detector, Summary: a.Summary, Subject: a.Subject}
		}
		same(t, "suspicious activity", r.Result.Suspicious, &report.Suspicious{Visible: true, Alerts: 2, Complete: true,
			ByState:    map[string]int64{"open": 1, "acknowledged": 1, "resolved": 0},
			BySeverity: map[string]int64{"low": 0, "medium": 1, "high": 1, "critical": 0},
			Entries:    []report.SuspiciousAlert{entry(permAlert, "acknowledged"), entry(failedAlert, "open")},
		})
		// Narrowed to the owner: their logins, and the alert about them.
		nr := mustGenerate(t, owner.client, with("security", map[string]any{"users": []string{owner.id}}))
		if nr.Result.Total != 7 || nr.Result.Security.LoginAttempts.Successful != 2 || nr.Result.Security.LoginAttempts.Failed != 2 ||
			nr.Result.Suspicious.Alerts != 1 || nr.Result.Suspicious.Entries[0].ID != failedAlert.ID {
			t.Errorf("owner's security report: total %d, %+v, %+v", nr.Result.Total, nr.Result.Security.LoginAttempts, nr.Result.Suspicious)
		}
		// A member sees their own logins and no alerts.
		mr := mustGenerate(t, member.client, with("security", nil))
		if mr.Result.Total != 3 || mr.Result.Security.LoginAttempts.Successful != 2 || mr.Result.Security.LoginAttempts.Failed != 1 ||
			mr.Result.Security.PermissionChanges.Changes != 0 || mr.Result.Suspicious == nil || mr.Result.Suspicious.Visible || len(mr.Result.Suspicious.Entries) != 0 {
			t.Errorf("member's security report: total %d, %+v, %+v", mr.Result.Total, mr.Result.Security, mr.Result.Suspicious)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("kept and listed", func(t *testing.T) {
		for typ, r := range generated {
			var got report.Report
			getJSON(t, clientOf(typ, owner, member), "/api/v1/reports/"+r.ID, &got)
			same(t, typ+" read back", got, r)
		}
		var page report.Page
		getJSON(t, owner.client, "/api/v1/reports?limit=200", &page)
		if len(page.Reports) != 10 || page.NextCursor != "" {
			t.Fatalf("owner lists %d reports, cursor %q", len(page.Reports), page.NextCursor)
		}
		for i := 1; i < len(page.Reports); i++ {
			a, b := page.Reports[i-1], page.Reports[i]
			if a.GeneratedAt.Before(b.GeneratedAt) || a.GeneratedAt.Equal(b.GeneratedAt) && a.ID < b.ID {
				t.Errorf("reports are not newest first: %s then %s", a.GeneratedAt, b.GeneratedAt)
			}
		}
		// One at a time, following the cursor, gives the same list.
		var ids []string
		cursor := ""
		for n := 0; n < 20; n++ {
			var p report.Page
			path := "/api/v1/reports?limit=3"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			getJSON(t, owner.client, path, &p)
			for _, s := range p.Reports {
				ids = append(ids, s.ID)
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		var want []string
		for _, s := range page.Reports {
			want = append(want, s.ID)
		}
		same(t, "pages of three", ids, want)
		getJSON(t, owner.client, "/api/v1/reports?type=security", &page)
		if len(page.Reports) != 3 {
			t.Errorf("owner lists %d security reports, want 3", len(page.Reports))
		}
		// A member lists only their own reports, and cannot read others'.
		getJSON(t, member.client, "/api/v1/reports", &page)
		if len(page.Reports) != 2 || page.Reports[0].GeneratedBy.ID != member.id || page.Reports[1].GeneratedBy.ID != member.id {
			t.Errorf("member lists %+v", page.Reports)
		}
		for _, path := range []string{"/api/v1/reports/" + generated["security"].ID, "/api/v1/reports/" + generated["security"].ID + "/export?format=csv"} {
			if a := member.call("GET", path, nil, nil); a.status != http.StatusNotFound {
				t.Errorf("member GET %s: %d %s", path, a.status, a.body)
			}
		}
	})

	t.Run("exports", func(t *testing.T) {
		for _, typ := range searchapi.ReportTypes {
			r := generated[typ]
			for _, format := range []string{"pdf", "csv", "json"} {
				before := ob.last()
				a := owner.call("GET", "/api/v1/reports/"+r.ID+"/export?format="+format, nil, nil)
				if a.status != http.StatusOK {
					t.Fatalf("export %s as %s: %d %s", typ, format, a.status, a.body)
				}
				wantName := report.FileName(r, format)
				if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename=`+wantName {
					t.Errorf("export %s as %s: Content-Disposition %q", typ, format, cd)
				}
				if a.header.Get("Cache-Control") != "no-store" {
					t.Errorf("export %s as %s may be cached", typ, format)
				}
				evs, _ := ob.since(before)
				if len(evs) != 1 || evs[0].Action != "system.data_exported" || evs[0].Resource.ID != r.ID || evs[0].Resource.Type != "report" ||
					evs[0].Details["format"] != format {
					t.Errorf("export %s as %s recorded %+v", typ, format, evs)
				}
				switch format {
				case "pdf":
					checkReportPDF(t, a.body, r)
				case "csv":
					checkReportCSV(t, a.body, r)
				case "json":
					var got report.Report
					a.decode(t, &got)
					same(t, typ+" as JSON", got, r)
				}
			}
		}
		if a := owner.call("GET", "/api/v1/reports/"+generated["user"].ID+"/export", nil, nil); a.status != http.StatusOK || !bytes.HasPrefix(a.body, []byte("%PDF-")) {
			t.Errorf("export without a format: %d, %.8q", a.status, a.body)
		}
	})

	t.Run("access", func(t *testing.T) {
		r := generated["security"]
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/reports", with("security", nil)},
			{"GET", "/api/v1/reports", nil},
			{"GET", "/api/v1/reports/" + r.ID, nil},
			{"GET", "/api/v1/reports/" + r.ID + "/export?format=pdf", nil},
		} {
			before := ob.last()
			a := viewer.call(c.method, c.path, c.body, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusForbidden || e.Error.Code != activity.EFORBIDDEN {
				t.Errorf("viewer %s %s: %d %s", c.method, c.path, a.status, a.body)
			}
			evs, _ := ob.since(before)
			if len(evs) != 1 || evs[0].Action != "auth.access_denied" || evs[0].Actor.ID != viewer.id || evs[0].Resource.Type != "report" {
				t.Errorf("viewer %s %s recorded %+v, want one auth.access_denied", c.method, c.path, evs)
			}
		}
		// Another workspace's report is not found, and nothing is recorded.
		before := ob.last()
		for _, path := range []string{"/api/v1/reports/" + r.ID, "/api/v1/reports/" + r.ID + "/export?format=json", "/api/v1/reports/not-an-id"} {
			a := stranger.call("GET", path, nil, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusNotFound || e.Error.Code != activity.ENOTFOUND || strings.Contains(string(a.body), r.Name) {
				t.Errorf("another workspace's GET %s: %d %s", path, a.status, a.body)
			}
		}
		var page report.Page
		getJSON(t, stranger.client, "/api/v1/reports", &page)
		if len(page.Reports) != 0 {
			t.Errorf("another workspace lists %d reports", len(page.Reports))
		}
		// The other workspace's own report holds none of this workspace.
		sr := mustGenerate(t, stranger.client, with("security", nil))
		if sr.Result.Total != 1 || sr.Result.Security.FailedAuth.ByAddress[0].IP != "192.0.2.99" || sr.Result.Suspicious.Alerts != 0 {
			t.Errorf("another workspace's security report: %d, %+v", sr.Result.Total, sr.Result.Security.FailedAuth)
		}
		if evs, _ := ob.since(before); len(evs) != 1 || evs[0].WorkspaceID != strangerWS {
			t.Errorf("reading another workspace's reports recorded %+v", evs)
		}
		if a := newClient(t, m).call("GET", "/api/v1/reports", nil, nil); a.status != http.StatusUnauthorized {
			t.Errorf("without a session: %d", a.status)
		}
	})

	t.Run("periods at the edges of the calendar", func(t *testing.T) {
		for _, p := range [][2]string{
			{"0001-01-02", "0001-03-01"}, {"1969-12-31T23:59:59Z", "1970-01-01T00:00:01Z"}, {"9998-06-01", "9999-12-30"},
			{"2026-03-29T01:59:59+01:00", "2026-03-29T03:00:01+02:00"},
		} {
			for _, typ := range searchapi.ReportTypes {
				if a := owner.call("POST", "/api/v1/reports", map[string]string{"type": typ, "from": p[0], "to": p[1]}, nil); a.status != http.StatusCreated {
					t.Errorf("%s report from %s to %s: %d %.300s", typ, p[0], p[1], a.status, a.body)
				}
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		var page report.Page
		getJSON(t, owner.client, "/api/v1/reports?limit=200", &page)
		kept, before := len(page.Reports), ob.last()
		for _, c := range []struct {
			name  string
			body  any
			field string
		}{
			{"no type", map[string]any{}, "type"},
			{"an unknown type", map[string]any{"type": "weekly"}, "type"},
			{"a type of the wrong kind", map[string]any{"type": 1}, "type"},
			{"a period over two years", with("user", map[string]any{"from": "2024-01-01", "to": "2026-03-01"}), "to"},
			{"a period before the year 1 in UTC", with("security", map[string]any{"from": "0001-01-01", "to": "0001-01-31"}), "from"},
			{"an unknown range", map[string]any{"type": "user", "range": "1y"}, "range"},
			{"a range and dates", map[string]any{"type": "user", "range": "7d", "from": "2026-03-01"}, "range"},
			{"a bad date", with("user", map[string]any{"from": "yesterday"}), "from"},
			{"to before from", with("user", map[string]any{"from": "2026-03-31", "to": "2026-03-01"}), "to"},
			{"a user that is no id", with("user", map[string]any{"users": []string{"me"}}), "users"},
			{"an empty user", with("user", map[string]any{"users": []string{""}}), "users"},
			{"users not a list", with("user", map[string]any{"users": member.id}), "users"},
			{"an unknown action", with("security", map[string]any{"activity_types": []string{"asset.exploded"}}), "activity_types"},
			{"an unknown category", with("security", map[string]any{"activity_types": []string{"billing"}}), "activity_types"},
			{"an unknown resource", with("security", map[string]any{"activity_types": []string{"billing.*"}}), "activity_types"},
			{"an unknown field", with("user", map[string]any{"format": "pdf"}), "format"},
		} {
			a := owner.call("POST", "/api/v1/reports", c.body, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Code != activity.EINVALID || e.Error.Field != c.field || e.Error.Message == "" {
				t.Errorf("%s: %d %s, want 400 naming %s", c.name, a.status, a.body, c.field)
			}
		}
		for path, field := range map[string]string{
			"/api/v1/reports?limit=0":                                        "limit",
			"/api/v1/reports?type=weekly":                                    "type",
			"/api/v1/reports?cursor=nonsense":                                "cursor",
			"/api/v1/reports?sort=name":                                      "sort",
			"/api/v1/reports/" + generated["user"].ID + "/export?format=xls": "format",
		} {
			a := owner.call("GET", path, nil, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Field != field {
				t.Errorf("GET %s: %d %s, want 400 naming %s", path, a.status, a.body, field)
			}
		}
		getJSON(t, owner.client, "/api/v1/reports?limit=200", &page)
		if evs, _ := ob.since(before); len(page.Reports) != kept || len(evs) != 0 {
			t.Errorf("bad input kept %d reports and recorded %d events", len(page.Reports)-kept, len(evs))
		}
	})
}

// clientOf is the client that generated the report kept under key.
func clientOf(key string, owner, m member) *client {
	if key == "member" {
		return m.client
	}
	return owner.client
}

// checkReportPDF reads a report's PDF back as text and checks its title
// page and that every section is in it.
func checkReportPDF(t *testing.T, pdf []byte, r report.Report) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("%s: not a PDF: %.16q", r.Type, pdf)
	}
	path := filepath.Join(t.TempDir(), r.Type+".pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", r.Type, err)
	}
	text := string(out)
	want := []string{
		report.Title(r.Type), "Reports Co", "2026-03-01 to 2026-03-31", "Europe/Berlin", "Reports Co Owner", "Olga Owner", r.ID, "Page 1 of",
	}
	switch r.Type {
	case "user":
		want = append(want, "Actions per user", "Most active users", "Login frequency", "Feature usage", "system.data_exported", "78.6")
	case "asset":
		want = append(want, "Most modified assets", "Assignment frequency", "Status changes", "Maintenance history", "Monitor Two", "in_maintenance", "Panel replaced")
	case "license":
		want = append(want, "License changes", "Assignment patterns", "Key access log", "Renewal activity", "192.0.2.20", "2027-04-01")
	case "security":
		want = append(want, "Login attempts", "Failed authentications", "Permission changes", "Suspicious activity", "198.51.100.7", "role viewer → member", "Mon", "acknowledged")
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the %s report's PDF does not say %q:\n%s", r.Type, w, text)
		}
	}
}

// checkReportCSV reads a report's CSV back and checks one table of each
// type to the unit.
func checkReportCSV(t *testing.T, body []byte, r report.Report) {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s: the CSV does not parse: %v", r.Type, err)
	}
	// A table runs from the row of its title to the next title, the only
	// rows of one cell; the empty rows between them are not read back.
	table := func(title string) [][]string {
		for i, row := range rows {
			if len(row) == 1 && row[0] == title {
				end := i + 1
				for end < len(rows) && len(rows[end]) > 1 {
					end++
				}
				return rows[i+1 : end]
			}
		}
		t.Fatalf("the %s report's CSV has no table %q:\n%s", r.Type, title, body)
		return nil
	}
	var got, want [][]string
	switch r.Type {
	case "user":
		got = table("Feature usage: Actions by category")
		want = [][]string{{"Category", "Actions", "Users"}, {"asset", "8", "2"}, {"auth", "8", "2"}, {"license", "8", "2"}, {"user", "3", "1"}, {"system", "1", "1"}}
	case "asset":
		got = table("Status changes: Status changes by status")
		want = [][]string{{"From", "To", "Changes"}, {"assigned", "in_maintenance", "1"}, {"available", "assigned", "1"}, {"in_maintenance", "available", "1"}}
	case "license":
		got = table("Renewal activity: Renewals")
		want = [][]string{{"When", "License", "Expired on", "Now expires on", "By"}, {"2026-03-11 09:00", "Figma", "2026-04-01", "2027-04-01", "Olga Owner"}}
	case "security":
		got = table("Login attempts: Login attempts by day")
		want = [][]string{{"Day", "Successful", "Failed"}, {"2026-03-02", "2", "1"}, {"2026-03-03", "1", "2"}, {"2026-03-16", "1", "0"}}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the %s report's CSV table:\n got %q\nwant %q", r.Type, got, want)
	}
	if !slices.ContainsFunc(rows, func(row []string) bool { return len(row) == 2 && row[0] == "Id" && row[1] == r.ID }) {
		t.Errorf("the %s report's CSV does not name the report", r.Type)
	}
}
