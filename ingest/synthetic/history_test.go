package synthetic_test

import (
	"fmt"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
)

// team returns a workspace of n members, the first its owner, one in ten
// an admin.
func team(n int) synthetic.Workspace {
	ws := synthetic.Workspace{ID: activity.NewEventID(), TimeZone: "Europe/Berlin",
		Assets:   []activity.Resource{{Type: "asset", ID: "a1", Name: "Laptop"}, {Type: "asset", ID: "a2", Name: "Monitor"}},
		Licenses: []activity.Resource{{Type: "license", ID: "l1", Name: "Figma"}},
	}
	for i := range n {
		role := activity.RoleMember
		switch {
		case i == 0:
			role = activity.RoleOwner
		case i%10 == 1:
			role = activity.RoleAdmin
		}
		ws.Members = append(ws.Members, activity.Actor{ID: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i), Role: role, Type: activity.ActorUser})
	}
	return ws
}

func TestHistory(t *testing.T) {
	ws := team(2)
	until := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h, err := synthetic.NewHistory(1, ws, 30, until)
	if err != nil {
		t.Fatal(err)
	}
	events := h.Events(5000)
	if len(events) != 5000 {
		t.Fatalf("%d events, want 5000", len(events))
	}
	for i, e := range events {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d is invalid: %v", i, err)
		}
		if e.WorkspaceID != ws.ID || e.OccurredAt.Before(until.AddDate(0, 0, -31)) || e.OccurredAt.After(until.AddDate(0, 0, 1)) {
			t.Fatalf("event %d outside the workspace or the period: %+v", i, e)
		}
		if i > 0 && e.OccurredAt.Before(events[i-1].OccurredAt) {
			t.Fatal("events are not in time order")
		}
	}
	if _, err := synthetic.NewHistory(1, synthetic.Workspace{ID: "x"}, 30, until); err == nil {
		t.Error("a history without members was made")
	}
}

// TestMillionEventHistoryKeepsPeopleWithinBounds generates (without
// indexing) the 1,000,000 events of 90 days the seeder would write, for
// the team TeamSize gives, and checks every person's every day: 20 to 300
// actions and one to three sessions on a day they work, weekends and late
// nights rare, failed logins and exports rare, and the whole period
// covered.
func TestMillionEventHistoryKeepsPeopleWithinBounds(t *testing.T) {
	const events, days = 1_000_000, 90
	size := synthetic.TeamSize(events, days)
	if size < 150 || size > 300 {
		t.Fatalf("a team of %d for %d events over %d days", size, events, days)
	}
	ws := team(size)
	berlin, _ := time.LoadLocation(ws.TimeZone)
	until := time.Date(2026, 11, 25, 0, 0, 0, 0, berlin)
	h, err := synthetic.NewHistory(7, ws, days, until)
	if err != nil {
		t.Fatal(err)
	}
	h.Plan(events)
	type personDay struct{ actions, sessions int }
	perDay := map[string]*personDay{}
	var n, failed, exports, weekendDays, lateDays, sessions int
	late := map[string]bool{}
	activeDays := map[string]bool{}
	for n < events {
		s := h.Session()
		if len(s) == 0 {
			t.Fatal("an empty session")
		}
		sessions++
		local := s[len(s)-1].OccurredAt.In(berlin)
		key := s[0].Actor.ID + " " + s[0].OccurredAt.In(berlin).Format(time.DateOnly)
		d := perDay[key]
		if d == nil {
			d = &personDay{}
			perDay[key] = d
			if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
				weekendDays++
			}
		}
		d.sessions++
		d.actions += len(s)
		if local.Hour() >= 20 || s[0].OccurredAt.In(berlin).Hour() < 6 {
			if !late[key] {
				lateDays++
			}
			late[key] = true
		}
		for _, e := range s {
			if e.OccurredAt.Before(until.AddDate(0, 0, -days)) || !e.OccurredAt.Before(until.Add(24*time.Hour)) {
				t.Fatalf("an event at %s, outside the %d days before %s", e.OccurredAt, days, until)
			}
			switch e.Action {
			case "auth.login_failed":
				failed++
			case "system.data_exported":
				exports++
			}
			activeDays[e.OccurredAt.In(berlin).Format(time.DateOnly)] = true
		}
		n += len(s)
	}
	t.Logf("%d people, %d person-days, %d sessions, %d on weekends, %d with late nights, %d failed logins, %d exports", size, len(perDay), sessions, weekendDays, lateDays, failed, exports)
	if n != events {
		t.Errorf("%d events, want exactly %d", n, events)
	}
	for key, d := range perDay {
		if d.actions < synthetic.MinDayActions || d.actions > synthetic.MaxDayActions || d.sessions < 1 || d.sessions > synthetic.MaxDaySessions {
			t.Errorf("%s: %d actions in %d sessions", key, d.actions, d.sessions)
		}
	}
	sum := h.Summary()
	if sum.Members != size || sum.Days != days || sum.Events != events || sum.Sessions != sessions {
		t.Errorf("summary %+v; want %d members, %d days, %d events, %d sessions", sum, size, days, events, sessions)
	}
	if len(activeDays) < days*5/7 {
		t.Errorf("activity on %d days of %d", len(activeDays), days)
	}
	if weekendDays == 0 || weekendDays > len(perDay)/50 {
		t.Errorf("%d of %d working days on weekends; want a few", weekendDays, len(perDay))
	}
	if lateDays == 0 || lateDays > len(perDay)/100 {
		t.Errorf("%d of %d working days with late nights; want a few", lateDays, len(perDay))
	}
	if failed == 0 || failed > events/200 || exports == 0 || exports > events/200 {
		t.Errorf("%d failed logins and %d exports in %d events; want rare ones", failed, exports, events)
	}
}

// TestHistoryIsDeterministic checks that the same seed makes the same
// history, as the bench corpus needs.
func TestHistoryIsDeterministic(t *testing.T) {
	until := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ws := team(20)
	a, _ := synthetic.NewHistory(3, ws, 60, until)
	b, _ := synthetic.NewHistory(3, ws, 60, until)
	a.Plan(20000)
	b.Plan(20000)
	for i := 0; i < 200; i++ {
		sa, sb := a.Session(), b.Session()
		if len(sa) != len(sb) {
			t.Fatalf("session %d: %d and %d events", i, len(sa), len(sb))
		}
		for j := range sa {
			if sa[j].Action != sb[j].Action || !sa[j].OccurredAt.Equal(sb[j].OccurredAt) || sa[j].Actor.ID != sb[j].Actor.ID {
				t.Fatalf("session %d differs at event %d", i, j)
			}
		}
	}
}
