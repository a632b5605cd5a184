package opensearch

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// TestCustomReportMetrics indexes a known fortnight of one Berlin
// workspace, with an action just after it and one of another workspace,
// and checks every metric of the catalogue to the unit, then each filter
// of a definition alone and together, and a member's own scope.
func TestCustomReportMetrics(t *testing.T) {
	const ws, other = "c0c0c0c0-0000-4000-8000-000000000001", "c0c0c0c0-0000-4000-8000-000000000002"
	owner := activity.Actor{ID: "0a0a0a0a-0000-4000-8000-000000000001", Name: "Olga Owner", Email: "olga@example.com", Role: activity.RoleOwner, Type: activity.ActorUser}
	member := activity.Actor{ID: "0b0b0b0b-0000-4000-8000-000000000002", Name: "Max Member", Email: "max@example.com", Role: activity.RoleMember, Type: activity.ActorUser}
	laptop := activity.Resource{Type: "asset", ID: "a1a1a1a1-0000-4000-8000-000000000001", Name: "Laptop One"}
	figma := activity.Resource{Type: "license", ID: "11111111-0000-4000-8000-000000000001", Name: "Figma"}
	event := func(workspace, at string, who activity.Actor, action string, res activity.Resource, failed bool, ip string) activity.Event {
		tm, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		e := activity.NewEvent(workspace, action, tm)
		e.Actor, e.Resource = who, res
		if failed {
			e.Outcome = activity.OutcomeFailure
		}
		e.Context = activity.Context{IP: ip, Method: activity.MethodWeb, TimeZone: "Europe/Berlin"}
		return e
	}
	ownerUser := activity.Resource{Type: "user", ID: owner.ID, Name: owner.Name}
	ix := mustActivityIndex(t, []activity.Event{
		event(ws, "2026-03-02T09:00:00+01:00", owner, "auth.login", ownerUser, false, "192.0.2.10"),
		event(ws, "2026-03-02T09:10:00+01:00", owner, "asset.created", laptop, false, "192.0.2.10"),
		event(ws, "2026-03-03T14:20:00+01:00", member, "asset.updated", laptop, true, "192.0.2.20"),
		event(ws, "2026-03-03T15:00:00+01:00", member, "license.key_viewed", figma, false, "192.0.2.20"),
		event(ws, "2026-03-09T08:00:00+01:00", owner, "auth.login_failed", ownerUser, true, "198.51.100.7"),
		event(ws, "2026-03-15T00:00:00+01:00", owner, "asset.updated", laptop, false, "192.0.2.10"),
		event(other, "2026-03-02T09:00:00+01:00", owner, "auth.login", ownerUser, false, "192.0.2.10"),
	})
	finder := NewFinder(ix.client, ix.prefix)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: "2026-03-01", To: "2026-03-14"}, time.Now(), berlin)
	if err != nil {
		t.Fatal(err)
	}
	asOwner := activity.Principal{WorkspaceID: ws, UserID: owner.ID, Role: activity.RoleOwner}

	res, err := finder.Custom(t.Context(), asOwner, searchapi.CustomRequest{Period: period, Metrics: searchapi.Metrics})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Custom
	if res.Type != searchapi.ReportCustom || res.Total != 5 || c == nil {
		t.Fatalf("type %q, total %d, custom %v: want 5 actions of the workspace in the period", res.Type, res.Total, c)
	}
	if c.DistinctUsers == nil || *c.DistinctUsers != 2 {
		t.Errorf("distinct users = %v, want 2", c.DistinctUsers)
	}
	if c.ByOutcome == nil || *c.ByOutcome != (searchapi.OutcomeCounts{Success: 3, Failure: 2}) {
		t.Errorf("by outcome = %+v, want 3 and 2", c.ByOutcome)
	}
	actions := map[string]int64{}
	for _, a := range c.ByAction.Entries {
		actions[a.Action] = a.Count
	}
	if len(actions) != 5 || actions["asset.updated"] != 1 || actions["auth.login_failed"] != 1 || c.ByAction.Other != 0 {
		t.Errorf("by action = %+v", c.ByAction)
	}
	if u := c.ByUser.Entries; len(u) != 2 || u[0].ID != owner.ID || u[0].Count != 3 || u[0].Name != owner.Name || u[1].ID != member.ID || u[1].Count != 2 || u[1].Email != member.Email {
		t.Errorf("by user = %+v", c.ByUser)
	}
	resources := map[string]searchapi.ResourceCount{}
	for _, r := range c.ByResource.Entries {
		resources[r.ID] = r
	}
	if r := resources[laptop.ID]; r.Count != 2 || r.Type != "asset" || r.Name != laptop.Name || resources[figma.ID].Count != 1 || resources[owner.ID].Count != 2 {
		t.Errorf("by resource = %+v", c.ByResource)
	}
	day := func(s *searchapi.Series, start string) int64 {
		for _, b := range s.Buckets {
			if b.Start.Format(time.RFC3339) == start {
				return b.Count
			}
		}
		return -1
	}
	if len(c.ByDay.Buckets) != 14 || day(c.ByDay, "2026-03-02T00:00:00+01:00") != 2 || day(c.ByDay, "2026-03-03T00:00:00+01:00") != 2 ||
		day(c.ByDay, "2026-03-09T00:00:00+01:00") != 1 || day(c.ByDay, "2026-03-01T00:00:00+01:00") != 0 {
		t.Errorf("by day: %d buckets %+v", len(c.ByDay.Buckets), c.ByDay.Buckets)
	}
	if w := c.ByWeek.Buckets; len(w) != 3 || day(c.ByWeek, "2026-02-23T00:00:00+01:00") != 0 || day(c.ByWeek, "2026-03-02T00:00:00+01:00") != 4 || day(c.ByWeek, "2026-03-09T00:00:00+01:00") != 1 {
		t.Errorf("by week (from Monday) = %+v", w)
	}
	if len(c.ByHour.Buckets) != 14*24 || day(c.ByHour, "2026-03-02T09:00:00+01:00") != 2 || day(c.ByHour, "2026-03-03T15:00:00+01:00") != 1 {
		t.Errorf("by hour: %d buckets", len(c.ByHour.Buckets))
	}
	var timeline int64
	for _, b := range c.Timeline.Buckets {
		timeline += b.Count
		if b.Categories["asset"]+b.Categories["auth"]+b.Categories["license"]+b.Categories["user"]+b.Categories["system"] != b.Count {
			t.Errorf("timeline bucket %s: categories %v do not add up to %d", b.Start, b.Categories, b.Count)
		}
	}
	if timeline != 5 || c.Timeline.Interval != period.Interval() {
		t.Errorf("timeline: %d actions in %s buckets", timeline, c.Timeline.Interval)
	}
	if h := c.Heatmap; h == nil || h[0][9] != 2 || h[1][14] != 1 || h[1][15] != 1 || h[0][8] != 1 {
		t.Errorf("heatmap = %v", h)
	}

	t.Run("filters", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			p      activity.Principal
			filter searchapi.CustomFilter
			want   int64
		}{
			{"a user", asOwner, searchapi.CustomFilter{Users: []string{member.ID}}, 2},
			{"a category", asOwner, searchapi.CustomFilter{ActivityTypes: []string{"auth"}}, 2},
			{"a resource's actions", asOwner, searchapi.CustomFilter{ActivityTypes: []string{"asset.*"}}, 2},
			{"an action and a category", asOwner, searchapi.CustomFilter{ActivityTypes: []string{"license.key_viewed", "auth"}}, 3},
			{"failures", asOwner, searchapi.CustomFilter{Outcome: "failure"}, 2},
			{"a search", asOwner, searchapi.CustomFilter{Query: "ip:192.0.2.20"}, 2},
			{"a search with OR and a negation", asOwner, searchapi.CustomFilter{Query: "action:auth.login OR action:asset.created -outcome:failure"}, 2},
			{"all together", asOwner, searchapi.CustomFilter{Users: []string{owner.ID}, ActivityTypes: []string{"auth"}, Outcome: "success", Query: "ip:192.0.2.10"}, 1},
			{"a member sees their own", activity.Principal{WorkspaceID: ws, UserID: member.ID, Role: activity.RoleMember}, searchapi.CustomFilter{}, 2},
			{"a member naming someone else", activity.Principal{WorkspaceID: ws, UserID: member.ID, Role: activity.RoleMember}, searchapi.CustomFilter{Users: []string{owner.ID}}, 0},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res, err := finder.Custom(t.Context(), tt.p, searchapi.CustomRequest{Period: period, Metrics: []string{searchapi.MetricDistinctUsers}, Filter: tt.filter})
				if err != nil {
					t.Fatal(err)
				}
				if res.Total != tt.want {
					t.Errorf("total = %d, want %d", res.Total, tt.want)
				}
			})
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			r     searchapi.CustomRequest
			field string
		}{
			{"no metric", searchapi.CustomRequest{Period: period}, "metrics"},
			{"an unknown metric", searchapi.CustomRequest{Period: period, Metrics: []string{"actions_by_moon"}}, "metrics"},
			{"no period", searchapi.CustomRequest{Metrics: searchapi.Metrics}, "range"},
			{"a user that is no id", searchapi.CustomRequest{Period: period, Metrics: searchapi.Metrics, Filter: searchapi.CustomFilter{Users: []string{"olga"}}}, "users"},
			{"an unknown action", searchapi.CustomRequest{Period: period, Metrics: searchapi.Metrics, Filter: searchapi.CustomFilter{ActivityTypes: []string{"asset.exploded"}}}, "activity_types"},
			{"an unknown outcome", searchapi.CustomRequest{Period: period, Metrics: searchapi.Metrics, Filter: searchapi.CustomFilter{Outcome: "maybe"}}, "outcome"},
			{"an unreadable search", searchapi.CustomRequest{Period: period, Metrics: searchapi.Metrics, Filter: searchapi.CustomFilter{Query: `"unclosed`}}, "q"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := finder.Custom(t.Context(), asOwner, tt.r)
				if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tt.field {
					t.Errorf("Custom = %v (field %q), want invalid %s", err, activity.ErrorField(err), tt.field)
				}
			})
		}
	})
}
