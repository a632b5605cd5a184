package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/internal/topic"
	"github.com/fluxera/activity/searchapi"
)

// storyEvent is one action of the analytics story, at a Berlin wall-clock
// time in March 2026.
type storyEvent struct {
	at       string // RFC 3339 with the Berlin offset of that day
	actor    string // "owner", "member" or "stranger"
	action   string
	resource activity.Resource
	session  string
	failed   bool
	token    bool
}

// mustProduceEvents writes events straight to cfg's activity topic.
func mustProduceEvents(t *testing.T, cfg app.Config, events []activity.Event) {
	t.Helper()
	w := topic.NewWriter(cfg.Publisher.Brokers, cfg.Publisher.Topic)
	defer w.Close()
	msgs := make([]kafka.Message, 0, len(events))
	for _, e := range events {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %s: %v", e.String(), err)
		}
		b, _ := json.Marshal(e)
		msgs = append(msgs, kafka.Message{Key: []byte(e.WorkspaceID), Value: b})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func cu(category string, count, users int64) searchapi.CategoryUsage {
	return searchapi.CategoryUsage{Category: category, Count: count, Users: users}
}

func au(action string, count, users int64) searchapi.ActionUsage {
	return searchapi.ActionUsage{Action: action, Category: activity.CategoryOf(action), Count: count, Users: users}
}

// getJSON asks for path and decodes the 200 answer into out, emptied first.
func getJSON(t *testing.T, c *client, path string, out any) {
	t.Helper()
	reflect.ValueOf(out).Elem().SetZero()
	a := c.call("GET", path, nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, a.status, a.body)
	}
	a.decode(t, out)
}

// TestAnalytics writes a known March of one Berlin workspace — two people,
// four sessions, logins and failed logins, asset changes, a clock change —
// plus events just outside the period and in other workspaces, and checks
// every analysis to the unit, as the owner, who sees the workspace, and as
// a member, who sees their own actions.
func TestAnalytics(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Analytics")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	stranger := mustOwner(t, m, cfg, "Elsewhere")
	workspace := func(c *client) string {
		var me struct {
			WorkspaceID string `json:"workspace_id"`
		}
		getJSON(t, c, "/api/v1/me", &me)
		if me.WorkspaceID == "" {
			t.Fatal("GET /api/v1/me has no workspace_id")
		}
		return me.WorkspaceID
	}
	ws, strangerWS := workspace(owner.client), workspace(stranger.client)
	people := map[string]struct {
		ws, id, email, name string
	}{
		"owner":    {ws, owner.id, owner.email, "Olga Owner"},
		"member":   {ws, member.id, member.email, "Max Member"},
		"stranger": {strangerWS, stranger.id, stranger.email, "Stella Stranger"},
	}
	a1 := activity.Resource{Type: "asset", ID: "a1a1a1a1-0000-4000-8000-000000000001", Name: "Laptop One"}
	a1renamed := activity.Resource{Type: "asset", ID: a1.ID, Name: "Laptop 1"}
	a2 := activity.Resource{Type: "asset", ID: "a2a2a2a2-0000-4000-8000-000000000002", Name: "Monitor Two"}
	l1 := activity.Resource{Type: "license", ID: "11111111-0000-4000-8000-000000000001", Name: "Figma"}
	x1 := activity.Resource{Type: "asset", ID: "99999999-0000-4000-8000-000000000009", Name: "Someone else's"}
	user := func(who string) activity.Resource {
		return activity.Resource{Type: "user", ID: people[who].id, Name: people[who].name}
	}
	story := []storyEvent{
		// Monday 2 March: the owner's session S1 (45 minutes) and the
		// member's S3 (30 minutes) after a failed attempt.
		{at: "2026-03-02T09:00:00+01:00", actor: "owner", action: "auth.login", resource: user("owner"), session: "s1"},
		{at: "2026-03-02T09:10:00+01:00", actor: "owner", action: "asset.created", resource: a1, session: "s1"},
		{at: "2026-03-02T09:20:00+01:00", actor: "owner", action: "asset.updated", resource: a1, session: "s1"},
		{at: "2026-03-02T09:45:00+01:00", actor: "owner", action: "auth.logout", resource: user("owner"), session: "s1"},
		{at: "2026-03-02T09:29:00+01:00", actor: "member", action: "auth.login_failed", resource: user("member"), failed: true},
		{at: "2026-03-02T09:30:00+01:00", actor: "member", action: "auth.login", resource: user("member"), session: "s3"},
		{at: "2026-03-02T09:40:00+01:00", actor: "member", action: "asset.updated", resource: a2, session: "s3"},
		{at: "2026-03-02T09:50:00+01:00", actor: "member", action: "license.key_viewed", resource: l1, session: "s3"},
		{at: "2026-03-02T10:00:00+01:00", actor: "member", action: "auth.logout", resource: user("member"), session: "s3"},
		// Tuesday 3 March: a failed login, then S2 (30 minutes) without a
		// logout, with one failed change that changed nothing.
		{at: "2026-03-03T13:58:00+01:00", actor: "owner", action: "auth.login_failed", resource: user("owner"), failed: true},
		{at: "2026-03-03T14:00:00+01:00", actor: "owner", action: "auth.login", resource: user("owner"), session: "s2"},
		{at: "2026-03-03T14:05:00+01:00", actor: "owner", action: "asset.updated", resource: a1, session: "s2"},
		{at: "2026-03-03T14:10:00+01:00", actor: "owner", action: "asset.updated", resource: a2, session: "s2", failed: true},
		{at: "2026-03-03T14:30:00+01:00", actor: "owner", action: "asset.assigned", resource: a2, session: "s2"},
		// Sunday 29 March, summer time since 2:00: an export with an API
		// token late in the evening, and half an hour after midnight — still
		// the 29th in UTC — a session S4 of one action.
		{at: "2026-03-29T23:30:00+02:00", actor: "owner", action: "system.data_exported", resource: activity.Resource{Type: "export", Name: "assets.csv"}, token: true},
		{at: "2026-03-30T00:30:00+02:00", actor: "owner", action: "asset.status_changed", resource: a1renamed, session: "s4"},
	}
	noise := []storyEvent{
		// Just outside the period: before its first and at its end.
		{at: "2026-02-28T23:30:00+01:00", actor: "owner", action: "asset.updated", resource: a1, session: "s0"},
		{at: "2026-04-01T00:00:00+02:00", actor: "member", action: "asset.updated", resource: a2, session: "s5"},
		// Another workspace, at the same times as the story.
		{at: "2026-03-02T09:00:00+01:00", actor: "stranger", action: "auth.login", resource: user("stranger"), session: "sx"},
		{at: "2026-03-02T09:10:00+01:00", actor: "stranger", action: "asset.updated", resource: x1, session: "sx"},
		{at: "2026-03-02T11:10:00+01:00", actor: "stranger", action: "asset.updated", resource: x1, session: "sx"},
	}
	var events []activity.Event
	for _, s := range append(append([]storyEvent{}, story...), noise...) {
		at, err := time.Parse(time.RFC3339, s.at)
		if err != nil {
			t.Fatal(err)
		}
		who := people[s.actor]
		e := activity.NewEvent(who.ws, s.action, at)
		e.Actor = activity.Actor{ID: who.id, Email: who.email, Name: who.name, Role: "owner", Type: activity.ActorUser}
		if s.actor == "member" {
			e.Actor.Role = activity.RoleMember
		}
		if s.token {
			e.Actor.Type = activity.ActorAPIToken
		}
		e.Resource = s.resource
		if s.failed {
			e.Outcome = activity.OutcomeFailure
		}
		e.Context = activity.Context{IP: "192.0.2.10", Method: activity.MethodWeb, TimeZone: "Europe/Berlin", RequestID: stacktest.RandomID()}
		if s.session != "" {
			e.Context.SessionID = s.session + "-" + who.id
		}
		events = append(events, e)
	}
	// An unknown email's failed login, in the platform's own stream.
	anon := activity.NewEvent(activity.PlatformWorkspace, "auth.login_failed", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	anon.Actor, anon.Resource, anon.Outcome = activity.Actor{Type: activity.ActorAnonymous, Email: "nobody@example.com"}, activity.Resource{Type: "user", Name: "nobody@example.com"}, activity.OutcomeFailure
	events = append(events, anon)
	mustProduceEvents(t, cfg, events)
	stacktest.Eventually(t, "every produced event is indexed", func() bool { return indexedCount(t, cfg) == len(events) })

	const march = "from=2026-03-01&to=2026-03-31"
	period := func(t *testing.T, p searchapi.Period) {
		t.Helper()
		if p.From.Format(time.RFC3339) != "2026-03-01T00:00:00+01:00" || p.To.Format(time.RFC3339) != "2026-04-01T00:00:00+02:00" || p.TimeZone != "Europe/Berlin" {
			t.Errorf("period = %+v, want March in Berlin", p)
		}
	}
	ownerName, memberName := people["owner"].name, people["member"].name

	t.Run("heatmap", func(t *testing.T) {
		var want [7][24]int64
		want[0][9], want[0][10], want[0][0] = 8, 1, 1 // Mondays
		want[1][13], want[1][14] = 1, 4               // Tuesday
		want[6][23] = 1                               // Sunday
		var h searchapi.Heatmap
		getJSON(t, owner.client, "/api/v1/analytics/heatmap?"+march, &h)
		period(t, h.Period)
		if h.Total != 16 || h.Counts != want {
			t.Errorf("owner's heatmap: total %d, counts %v", h.Total, h.Counts)
		}
		want = [7][24]int64{}
		want[0][9], want[0][10] = 4, 1
		getJSON(t, member.client, "/api/v1/analytics/heatmap?"+march, &h)
		if h.Total != 5 || h.Counts != want {
			t.Errorf("member's heatmap: total %d, counts %v", h.Total, h.Counts)
		}
	})

	t.Run("timeline", func(t *testing.T) {
		var tl searchapi.Timeline
		getJSON(t, owner.client, "/api/v1/analytics/timeline?split=category&"+march, &tl)
		period(t, tl.Period)
		if tl.Interval != searchapi.IntervalDay || tl.Total != 16 || len(tl.Buckets) != 31 {
			t.Fatalf("timeline: interval %s, total %d, %d buckets", tl.Interval, tl.Total, len(tl.Buckets))
		}
		cats := func(asset, license, user, auth, system int64) map[string]int64 {
			return map[string]int64{"asset": asset, "license": license, "user": user, "auth": auth, "system": system}
		}
		want := map[int]searchapi.TimelineBucket{
			2:  {Count: 9, Categories: cats(3, 1, 0, 5, 0)},
			3:  {Count: 5, Categories: cats(3, 0, 0, 2, 0)},
			29: {Count: 1, Categories: cats(0, 0, 0, 0, 1)},
			30: {Count: 1, Categories: cats(1, 0, 0, 0, 0)},
		}
		berlin, _ := time.LoadLocation("Europe/Berlin")
		for i, b := range tl.Buckets {
			day := i + 1
			if start := time.Date(2026, 3, day, 0, 0, 0, 0, berlin); !b.Start.Equal(start) {
				t.Errorf("bucket %d starts %s, want %s", i, b.Start, start)
			}
			w, ok := want[day]
			if !ok {
				w = searchapi.TimelineBucket{Categories: cats(0, 0, 0, 0, 0)}
			}
			if b.Count != w.Count || !reflect.DeepEqual(b.Categories, w.Categories) {
				t.Errorf("March %d: %d %v, want %d %v", day, b.Count, b.Categories, w.Count, w.Categories)
			}
		}
		if got := tl.Buckets[29].Start.Format(time.RFC3339); got != "2026-03-30T00:00:00+02:00" {
			t.Errorf("March 30 starts %s", got)
		}
		// Unsplit, as the member: their own day.
		getJSON(t, member.client, "/api/v1/analytics/timeline?"+march, &tl)
		if tl.Total != 5 || len(tl.Buckets) != 31 || tl.Buckets[1].Count != 5 || tl.Buckets[1].Categories != nil {
			t.Errorf("member's timeline: total %d, March 2 %+v", tl.Total, tl.Buckets[1])
		}
		// A week is counted by the hour, across the clock change.
		getJSON(t, owner.client, "/api/v1/analytics/timeline?from=2026-03-23&to=2026-03-29", &tl)
		if tl.Interval != searchapi.IntervalHour || len(tl.Buckets) != 167 || tl.Total != 1 || tl.Buckets[166].Count != 1 {
			t.Errorf("week of the clock change: interval %s, %d buckets, total %d", tl.Interval, len(tl.Buckets), tl.Total)
		}
	})

	t.Run("top users", func(t *testing.T) {
		var top searchapi.TopUsers
		getJSON(t, owner.client, "/api/v1/analytics/top-users?"+march, &top)
		period(t, top.Period)
		want := []searchapi.UserCount{{ID: owner.id, Name: ownerName, Email: owner.email, Count: 11}, {ID: member.id, Name: memberName, Email: member.email, Count: 5}}
		if top.Total != 16 || !reflect.DeepEqual(top.Users, want) {
			t.Errorf("owner's top users: %d %+v", top.Total, top.Users)
		}
		getJSON(t, owner.client, "/api/v1/analytics/top-users?limit=1&"+march, &top)
		if !reflect.DeepEqual(top.Users, want[:1]) {
			t.Errorf("top user: %+v", top.Users)
		}
		getJSON(t, member.client, "/api/v1/analytics/top-users?"+march, &top)
		if top.Total != 5 || !reflect.DeepEqual(top.Users, want[1:]) {
			t.Errorf("member's top users: %d %+v", top.Total, top.Users)
		}
	})

	t.Run("top assets", func(t *testing.T) {
		var top searchapi.TopAssets
		getJSON(t, owner.client, "/api/v1/analytics/top-assets?"+march, &top)
		period(t, top.Period)
		want := []searchapi.AssetCount{
			{ID: a1.ID, Name: "Laptop 1", Count: 4, Actions: map[string]int64{"asset.created": 1, "asset.updated": 2, "asset.status_changed": 1}},
			{ID: a2.ID, Name: a2.Name, Count: 2, Actions: map[string]int64{"asset.assigned": 1, "asset.updated": 1}},
		}
		if top.Total != 6 || !reflect.DeepEqual(top.Assets, want) {
			t.Errorf("owner's top assets: %d %+v", top.Total, top.Assets)
		}
		getJSON(t, member.client, "/api/v1/analytics/top-assets?"+march, &top)
		want = []searchapi.AssetCount{{ID: a2.ID, Name: a2.Name, Count: 1, Actions: map[string]int64{"asset.updated": 1}}}
		if top.Total != 1 || !reflect.DeepEqual(top.Assets, want) {
			t.Errorf("member's top assets: %d %+v", top.Total, top.Assets)
		}
	})

	t.Run("usage", func(t *testing.T) {
		var u searchapi.Usage
		getJSON(t, owner.client, "/api/v1/analytics/usage?"+march, &u)
		period(t, u.Period)
		wantCats := []searchapi.CategoryUsage{cu("asset", 7, 2), cu("auth", 7, 2), cu("license", 1, 1), cu("system", 1, 1)}
		wantActions := []searchapi.ActionUsage{
			au("asset.updated", 4, 2), au("auth.login", 3, 2), au("auth.login_failed", 2, 2),
			au("auth.logout", 2, 2), au("asset.assigned", 1, 1), au("asset.created", 1, 1),
			au("asset.status_changed", 1, 1), au("license.key_viewed", 1, 1), au("system.data_exported", 1, 1),
		}
		if u.Total != 16 || !u.UsersApproximate || u.UsersPrecisionThreshold != searchapi.UsagePrecision || !reflect.DeepEqual(u.Categories, wantCats) || !reflect.DeepEqual(u.Actions, wantActions) {
			t.Errorf("owner's usage: %d\n%+v\n%+v", u.Total, u.Categories, u.Actions)
		}
		getJSON(t, member.client, "/api/v1/analytics/usage?"+march, &u)
		wantCats = []searchapi.CategoryUsage{cu("auth", 3, 1), cu("asset", 1, 1), cu("license", 1, 1)}
		wantActions = []searchapi.ActionUsage{
			au("asset.updated", 1, 1), au("auth.login", 1, 1), au("auth.login_failed", 1, 1),
			au("auth.logout", 1, 1), au("license.key_viewed", 1, 1),
		}
		if u.Total != 5 || !reflect.DeepEqual(u.Categories, wantCats) || !reflect.DeepEqual(u.Actions, wantActions) {
			t.Errorf("member's usage: %d\n%+v\n%+v", u.Total, u.Categories, u.Actions)
		}
	})

	t.Run("logins", func(t *testing.T) {
		check := func(c *client, who string, logins, failed int64, days map[int][2]int64) {
			t.Helper()
			var l searchapi.Logins
			getJSON(t, c, "/api/v1/analytics/logins?"+march, &l)
			period(t, l.Period)
			if l.Interval != searchapi.IntervalDay || l.Logins != logins || l.Failed != failed || len(l.Buckets) != 31 {
				t.Fatalf("%s's logins: interval %s, %d and %d failed, %d buckets", who, l.Interval, l.Logins, l.Failed, len(l.Buckets))
			}
			for i, b := range l.Buckets {
				if w := days[i+1]; b.Logins != w[0] || b.Failed != w[1] {
					t.Errorf("%s's logins on March %d: %d and %d failed, want %v", who, i+1, b.Logins, b.Failed, w)
				}
			}
		}
		check(owner.client, "owner", 3, 2, map[int][2]int64{2: {2, 1}, 3: {1, 1}})
		check(member.client, "member", 1, 1, map[int][2]int64{2: {1, 1}})
	})

	t.Run("peak times", func(t *testing.T) {
		var pt searchapi.PeakTimes
		getJSON(t, owner.client, "/api/v1/analytics/peak-times?"+march, &pt)
		period(t, pt.Period)
		hours := []searchapi.HourCount{{Hour: 9, Count: 8}, {Hour: 14, Count: 4}, {Hour: 0, Count: 1}, {Hour: 10, Count: 1}, {Hour: 13, Count: 1}, {Hour: 23, Count: 1}}
		for _, h := range []int{1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22} {
			hours = append(hours, searchapi.HourCount{Hour: h})
		}
		days := []searchapi.DayCount{{Day: 1, Count: 10}, {Day: 2, Count: 5}, {Day: 7, Count: 1}, {Day: 3}, {Day: 4}, {Day: 5}, {Day: 6}}
		if pt.Total != 16 || !reflect.DeepEqual(pt.Hours, hours) || !reflect.DeepEqual(pt.Days, days) {
			t.Errorf("owner's peak times: %d\n%v\n%v", pt.Total, pt.Hours, pt.Days)
		}
		getJSON(t, member.client, "/api/v1/analytics/peak-times?"+march, &pt)
		if pt.Total != 5 || pt.Hours[0] != (searchapi.HourCount{Hour: 9, Count: 4}) || pt.Hours[1] != (searchapi.HourCount{Hour: 10, Count: 1}) ||
			pt.Hours[2].Count != 0 || pt.Days[0] != (searchapi.DayCount{Day: 1, Count: 5}) || pt.Days[1].Count != 0 {
			t.Errorf("member's peak times: %d\n%v\n%v", pt.Total, pt.Hours, pt.Days)
		}
	})

	t.Run("time spent", func(t *testing.T) {
		// Each action keeps its session active for 30 minutes, a logout
		// ends it: S1 9:00–9:45 (its logout cuts 9:20's half hour), S2
		// 14:00–15:00 (no logout: 14:30 and half an hour), S4 00:30–01:00,
		// S3 9:30–10:00.
		type spent struct {
			id, name, email string
			sessions        int64
			total, average  float64
			days            map[string]float64
		}
		want := []spent{
			{owner.id, ownerName, owner.email, 3, 135, 45, map[string]float64{"2026-03-02": 45, "2026-03-03": 60, "2026-03-30": 30}},
			{member.id, memberName, member.email, 1, 30, 30, map[string]float64{"2026-03-02": 30}},
		}
		check := func(who string, ts searchapi.TimeSpent, want []spent) {
			t.Helper()
			var sessions int64
			for _, w := range want {
				sessions += w.sessions
			}
			if ts.Sessions != sessions || !ts.Complete || ts.IdleMinutes != 30 || len(ts.Users) != len(want) {
				t.Fatalf("%s's time spent: %d sessions, complete %v, idle %v, %+v", who, ts.Sessions, ts.Complete, ts.IdleMinutes, ts.Users)
			}
			for i, u := range ts.Users {
				w := want[i]
				days := map[string]float64{}
				for _, d := range u.Days {
					days[d.Date] = d.Minutes
				}
				if u.ID != w.id || u.Name != w.name || u.Email != w.email || u.Sessions != w.sessions || u.TotalMinutes != w.total || u.AverageMinutes != w.average || !reflect.DeepEqual(days, w.days) {
					t.Errorf("%s's time spent of %s: %+v, want %+v", who, w.name, u, w)
				}
			}
		}
		var ts searchapi.TimeSpent
		getJSON(t, owner.client, "/api/v1/analytics/time-spent?"+march, &ts)
		period(t, ts.Period)
		check("owner", ts, want)
		if ts.TotalMinutes != 165 {
			t.Errorf("owner's workspace: %v minutes, want 165", ts.TotalMinutes)
		}
		getJSON(t, member.client, "/api/v1/analytics/time-spent?"+march, &ts)
		check("member", ts, want[1:])
		// With five minutes of idle time, S1 is 9:00–9:05, 9:10–9:15,
		// 9:20–9:25, and S2 14:00–14:15 (14:10 failed but was there),
		// 14:30–14:35.
		getJSON(t, owner.client, "/api/v1/analytics/time-spent?idle=5&"+march, &ts)
		if len(ts.Users) != 2 || ts.Users[0].TotalMinutes != 40 || ts.IdleMinutes != 5 {
			t.Errorf("owner's time spent with five minutes idle: %+v", ts.Users)
		}
	})

	t.Run("engagement", func(t *testing.T) {
		var en searchapi.Engagement
		getJSON(t, owner.client, "/api/v1/analytics/engagement?"+march, &en)
		period(t, en.Period)
		// Active: the owner on the 2nd, 3rd and 30th, the member on the
		// 2nd; the API token's export and the failed logins do not count.
		if !en.Exact || !en.Complete || en.ActiveUsers != 2 || en.Logins != 3 || en.Actions != 13 || len(en.Days) != 31 {
			t.Fatalf("owner's engagement: %+v", en)
		}
		if en.Days[1].ActiveUsers != 2 || en.Days[2].ActiveUsers != 1 || en.Days[29].ActiveUsers != 1 || en.DAU != searchapi.Ratio(4, 31) || en.MAU != 2 || en.Stickiness != searchapi.Ratio(4.0/31, 2) {
			t.Errorf("owner's daily active users: %+v, DAU %v, MAU %v, stickiness %v", en.Days[:4], en.DAU, en.MAU, en.Stickiness)
		}
		users := map[string]searchapi.UserEngagement{}
		for _, u := range en.Users {
			users[u.ID] = u
		}
		if o := users[owner.id]; o.ActiveDays != 3 || o.ActiveWeeks != 2 || o.Logins != 2 || o.Actions != 9 || !reflect.DeepEqual(o.Features, []string{searchapi.FeatureAsset}) {
			t.Errorf("owner's own engagement: %+v", o)
		}
		if m := users[member.id]; m.ActiveDays != 1 || m.Logins != 1 || m.LoginsPerActiveWeek != 1 || !reflect.DeepEqual(m.Features, []string{searchapi.FeatureAsset, searchapi.FeatureLicense}) {
			t.Errorf("member's own engagement: %+v", m)
		}
		if f := en.Features[1]; f.Feature != searchapi.FeatureLicense || f.Users != 1 || f.Share != 0.5 {
			t.Errorf("license adoption: %+v", f)
		}
		getJSON(t, member.client, "/api/v1/analytics/engagement?"+march, &en)
		if en.ActiveUsers != 1 || len(en.Users) != 1 || en.Users[0].ID != member.id {
			t.Errorf("member's engagement: %+v", en.Users)
		}
	})

	t.Run("the other workspace sees its own", func(t *testing.T) {
		var u searchapi.Usage
		getJSON(t, stranger.client, "/api/v1/analytics/usage?"+march, &u)
		want := []searchapi.ActionUsage{au("asset.updated", 2, 1), au("auth.login", 1, 1)}
		if u.Total != 3 || !reflect.DeepEqual(u.Actions, want) {
			t.Errorf("stranger's usage: %d %+v", u.Total, u.Actions)
		}
		var ts searchapi.TimeSpent
		getJSON(t, stranger.client, "/api/v1/analytics/time-spent?"+march, &ts)
		// SX: 9:00–9:40 and 11:10–11:40.
		if len(ts.Users) != 1 || ts.Users[0].ID != stranger.id || ts.Users[0].TotalMinutes != 70 {
			t.Errorf("stranger's time spent: %+v", ts.Users)
		}
	})

	t.Run("named ranges", func(t *testing.T) {
		for _, query := range []string{"?range=today", "?range=7d", "?range=30d", "?range=90d", ""} {
			var tl searchapi.Timeline
			getJSON(t, owner.client, "/api/v1/analytics/timeline"+query, &tl)
			n := searchapi.Buckets(tl.Period.From, tl.Period.To, tl.Interval, searchapi.Zone(tl.Period.TimeZone))
			if tl.Total != 0 || len(tl.Buckets) != n || n == 0 || tl.Period.TimeZone != "Europe/Berlin" {
				t.Errorf("timeline%s: %s, %d buckets (want %d), total %d", query, tl.Interval, len(tl.Buckets), n, tl.Total)
			}
		}
	})

	t.Run("periods at the edges of the calendar", func(t *testing.T) {
		for _, q := range []string{
			"from=0001-01-01&to=0001-03-01", "from=1900-01-01&to=1900-12-31", "from=1969-12-31T23:59:59Z&to=1970-01-01T00:00:01Z",
			"from=9998-06-01&to=9999-12-30", "from=2026-03-29T01:59:59%2B01:00&to=2026-03-29T03:00:01%2B02:00",
		} {
			for _, route := range []string{"heatmap?", "timeline?split=category&", "top-users?", "top-assets?", "usage?", "logins?", "peak-times?", "time-spent?", "engagement?"} {
				if a := owner.call("GET", "/api/v1/analytics/"+route+q, nil, nil); a.status != http.StatusOK {
					t.Errorf("%s%s: %d %.300s", route, q, a.status, a.body)
				}
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for path, field := range map[string]string{
			"/api/v1/analytics/heatmap?from=yesterday&to=2026-03-01": "from",
			"/api/v1/analytics/usage?from=2024-01-01&to=2026-03-01":  "to",
			"/api/v1/analytics/usage?from=9998-06-01&to=9999-12-31":  "to",
			"/api/v1/analytics/top-users?limit=1000":                 "limit",
			"/api/v1/analytics/logins?range=1y":                      "range",
			"/api/v1/analytics/peak-times?user=me":                   "user",
		} {
			a := owner.call("GET", path, nil, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Code != activity.EINVALID || e.Error.Field != field {
				t.Errorf("GET %s: %d %s, want 400 naming %s", path, a.status, a.body, field)
			}
		}
		a := newClient(t, m).call("GET", "/api/v1/analytics/heatmap", nil, nil)
		if a.status != http.StatusUnauthorized {
			t.Errorf("without a session: %d", a.status)
		}
	})
}
