package opensearch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/searchapi"
)

// scriptedWorkspace is a random history of one workspace and the period
// its analyses cover.
type scriptedWorkspace struct {
	id     string
	zone   string
	period searchapi.Period
	events []activity.Event
}

// scriptedActions are the actions of the scripted sessions, of every
// feature and of none.
var scriptedActions = []string{
	"asset.updated", "asset.assigned", "license.key_viewed", "license.assigned", "user.role_changed",
	"user.invited", "system.data_exported", "system.report_generated", "report_definition.created",
	"user.password_changed", "alert.acknowledged",
}

// scriptHistory writes a random history of a workspace in zone around the
// autumn clock changes of 2026: people with overlapping sessions, sessions
// never logged out, logged out twice or acted in after their logout,
// sessions across midnight and across the period's edges, actions within
// the same minute as a logout, API token actions and failed logins.
func scriptHistory(rnd *rand.Rand, zone string) scriptedWorkspace {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		panic(err)
	}
	from := time.Date(2026, 10, 20, 0, 0, 0, 0, loc)
	to := time.Date(2026, 11, 5, 0, 0, 0, 0, loc)
	ws := scriptedWorkspace{id: activity.NewEventID(), zone: zone, period: searchapi.Period{From: from, To: to, TimeZone: zone, Location: loc}}
	add := func(actor activity.Actor, action, session string, at time.Time) *activity.Event {
		e := activity.NewEvent(ws.id, action, at.Truncate(time.Second))
		e.Actor = actor
		e.Resource = activity.Resource{Type: "asset", ID: "a-1", Name: "Laptop"}
		e.Context = activity.Context{IP: "192.0.2.1", Method: activity.MethodWeb, TimeZone: zone, SessionID: session}
		ws.events = append(ws.events, e)
		return &ws.events[len(ws.events)-1]
	}
	people := 2 + rnd.IntN(4)
	span := to.Sub(from) + 4*time.Hour
	for i := range people {
		actor := activity.Actor{ID: activity.NewEventID(), Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i), Role: activity.RoleMember, Type: activity.ActorUser}
		for range 1 + rnd.IntN(12) {
			session := activity.NewEventID()
			at := from.Add(-2*time.Hour + time.Duration(rnd.Int64N(int64(span))))
			if rnd.IntN(4) == 0 { // just before midnight
				y, m, d := at.In(loc).Date()
				at = time.Date(y, m, d, 23, 30+rnd.IntN(30), rnd.IntN(60), 0, loc)
			}
			if rnd.IntN(5) == 0 {
				f := add(actor, "auth.login_failed", "", at.Add(-time.Minute))
				f.Outcome = activity.OutcomeFailure
			}
			add(actor, "auth.login", session, at)
			for range rnd.IntN(25) {
				switch k := rnd.IntN(10); {
				case k < 6:
					at = at.Add(time.Duration(1+rnd.IntN(59)) * time.Second)
				case k < 9:
					at = at.Add(time.Duration(1+rnd.IntN(25)) * time.Minute)
				default:
					at = at.Add(time.Duration(30+rnd.IntN(120)) * time.Minute)
				}
				add(actor, scriptedActions[rnd.IntN(len(scriptedActions))], session, at)
			}
			if rnd.IntN(10) < 6 {
				at = at.Add(time.Duration(rnd.IntN(40)) * time.Minute)
				add(actor, "auth.logout", session, at)
				switch rnd.IntN(6) {
				case 0: // acted on within the minute
					add(actor, "asset.updated", session, at.Add(time.Duration(1+rnd.IntN(20))*time.Second))
				case 1: // logged out twice
					add(actor, "auth.logout", session, at.Add(time.Duration(1+rnd.IntN(300))*time.Second))
				}
			}
		}
		if rnd.IntN(2) == 0 { // a token of theirs at work
			token := actor
			token.Type = activity.ActorAPIToken
			add(token, "system.data_exported", "", from.Add(time.Duration(rnd.Int64N(int64(to.Sub(from))))))
		}
	}
	return ws
}

// latestActors returns, for every user, the actor of their latest action
// in ws's period among those keep accepts.
func latestActors(ws scriptedWorkspace, keep func(activity.Event) bool) map[string]activity.Actor {
	out := map[string]activity.Actor{}
	at := map[string]time.Time{}
	for _, e := range ws.events {
		if !keep(e) || e.OccurredAt.Before(ws.period.From) || !e.OccurredAt.Before(ws.period.To) {
			continue
		}
		if t, ok := at[e.Actor.ID]; !ok || e.OccurredAt.After(t) {
			at[e.Actor.ID], out[e.Actor.ID] = e.OccurredAt, e.Actor
		}
	}
	return out
}

// addCrossings adds to ws a person whose sessions cross what a
// partitioned analysis may split them at: a session across a six-hour
// stretch of the time spent's sizing (06:00 UTC), logged out after it;
// one logged out just before that stretch ends and acted in after it;
// one whose actions are exactly the idle time apart across it; and one
// across midnight in the workspace's time zone, logged out after it; and
// three sessions logged out within the same stretch.
func addCrossings(ws *scriptedWorkspace) {
	actor := activity.Actor{ID: activity.NewEventID(), Name: "Night Owl", Email: "owl@example.com", Role: activity.RoleMember, Type: activity.ActorUser}
	add := func(action, session string, at time.Time) {
		e := activity.NewEvent(ws.id, action, at)
		e.Actor = actor
		e.Resource = activity.Resource{Type: "asset", ID: "a-1", Name: "Laptop"}
		e.Context = activity.Context{IP: "192.0.2.1", Method: activity.MethodWeb, TimeZone: ws.zone, SessionID: session}
		ws.events = append(ws.events, e)
	}
	y, m, d := ws.period.From.AddDate(0, 0, 3).UTC().Date()
	six := time.Date(y, m, d, 6, 0, 0, 0, time.UTC)
	across := activity.NewEventID()
	for _, at := range []time.Duration{-20 * time.Minute, -5 * time.Minute, 10 * time.Minute} {
		add("asset.updated", across, six.Add(at))
	}
	add("auth.logout", across, six.Add(12*time.Minute))
	before := activity.NewEventID()
	add("auth.login", before, six.Add(-24*time.Hour-40*time.Minute))
	add("auth.logout", before, six.Add(-24*time.Hour-2*time.Minute))
	add("asset.updated", before, six.Add(-24*time.Hour+time.Minute))
	apart := activity.NewEventID()
	for _, at := range []time.Duration{-60 * time.Minute, -30 * time.Minute, 0} {
		add("license.key_viewed", apart, six.Add(48*time.Hour+at))
	}
	for i := range 3 { // three sessions logged out within one stretch
		quick := activity.NewEventID()
		add("asset.updated", quick, six.Add(28*time.Hour+time.Duration(i)*time.Minute))
		add("auth.logout", quick, six.Add(28*time.Hour+time.Duration(i+5)*time.Minute))
	}
	midnight := time.Date(y, m, d+5, 0, 0, 0, 0, ws.period.Location)
	night := activity.NewEventID()
	actor.Name, actor.Email = "Owl Renamed", "renamed.owl@example.com" // named anew for their latest session
	add("auth.login", night, midnight.Add(-25*time.Minute))
	add("asset.updated", night, midnight.Add(-5*time.Minute))
	add("asset.assigned", night, midnight.Add(15*time.Minute))
	add("auth.logout", night, midnight.Add(20*time.Minute))
}

// bruteTimeSpent returns each user's active seconds per day of the period
// (the period's days, in order), marking every second of the period that
// some action of theirs kept active, with idle seconds of idle time.
func bruteTimeSpent(ws scriptedWorkspace, idle int64) (map[string][]int64, []int64) {
	from, to := ws.period.From.Unix(), ws.period.To.Unix()
	var bounds []int64 // the start of each day, then the period's end
	for _, d := range searchapi.PeriodDays(ws.period) {
		t, _ := time.ParseInLocation(time.DateOnly, d, ws.period.Location)
		bounds = append(bounds, t.Unix())
	}
	bounds = append(bounds, to)
	sessions := map[string][]activity.Event{}
	for _, e := range ws.events {
		if e.Context.SessionID != "" && e.Actor.ID != "" && !e.OccurredAt.Before(ws.period.From) && e.OccurredAt.Before(ws.period.To) {
			sessions[e.Actor.ID+"/"+e.Context.SessionID] = append(sessions[e.Actor.ID+"/"+e.Context.SessionID], e)
		}
	}
	marks := map[string][]bool{}
	for _, events := range sessions {
		sort.SliceStable(events, func(i, j int) bool { return events[i].OccurredAt.Before(events[j].OccurredAt) })
		end := int64(1 << 62)
		for _, e := range events {
			if e.Action == "auth.logout" {
				end = min(end, e.OccurredAt.Unix())
			}
		}
		m := marks[events[0].Actor.ID]
		if m == nil {
			m = make([]bool, to-from)
			marks[events[0].Actor.ID] = m
		}
		for _, e := range events {
			t := e.OccurredAt.Unix()
			if e.Action == "auth.logout" || t > end {
				continue
			}
			for s := t; s < min(t+idle, end, to); s++ {
				m[s-from] = true
			}
		}
	}
	out := map[string][]int64{}
	ends := make([]int64, len(bounds)-1)
	for d := range ends {
		ends[d] = bounds[d+1] - bounds[d]
	}
	for user, m := range marks {
		days := make([]int64, len(bounds)-1)
		for d := range days {
			for s := bounds[d]; s < bounds[d+1]; s++ {
				if m[s-from] {
					days[d]++
				}
			}
		}
		out[user] = days
	}
	return out, ends
}

// TestAnalyticsEqualBruteForce writes random scripted histories of
// workspaces in four time zones to the real OpenSearch and checks the time
// spent, the engagement, the peak times, the top users, the usage and the
// logins of each against what the test computes from the events it wrote.
func TestAnalyticsEqualBruteForce(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("histories of seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 42))
	var all []activity.Event
	var workspaces []scriptedWorkspace
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"} {
		ws := scriptHistory(rnd, zone)
		addCrossings(&ws)
		workspaces = append(workspaces, ws)
		all = append(all, ws.events...)
	}
	ix := mustActivityIndex(t, all)
	finder := NewFinder(ix.client, ix.prefix)
	// Partitions of a few actions each, read in pages of as many buckets:
	// sessions cross partitions, logouts fall in the next partition. This
	// finder and the next send through the HTTP client the API uses, the
	// first through the OpenSearch client.
	direct, err := ingestos.NewHTTP(ingestos.Config{URLs: []string{ix.url}})
	if err != nil {
		t.Fatal(err)
	}
	small := NewFinder(ix.client, ix.prefix, WithHTTP(direct))
	small.partition = 2
	// A third of the same entries stored as the indexer stored them before
	// the session key: partitions holding any of them are read by user and
	// session, the others by session key, with the same answers.
	before := mustActivityIndexAs(t, all, func(i int, doc ingest.SearchDocument) any {
		if i%3 != 0 {
			return doc
		}
		return withoutKeys(t, doc)
	})
	mixed := NewFinder(before.client, before.prefix, WithHTTP(direct))
	mixed.partition = 2
	for _, ws := range workspaces {
		t.Run(ws.zone, func(t *testing.T) {
			p := owner(ws.id)
			for _, finder := range []*Finder{finder, small, mixed} {
				filter := searchapi.AnalyticsFilter{Period: ws.period}
				checkTimeSpent(t, finder, p, ws, filter)
				filter.Idle = 7 * time.Minute
				checkTimeSpent(t, finder, p, ws, filter)
				checkEngagement(t, finder, p, ws)
			}
			checkCounts(t, finder, p, ws)
		})
	}
}

func checkTimeSpent(t *testing.T, finder *Finder, p activity.Principal, ws scriptedWorkspace, filter searchapi.AnalyticsFilter) {
	t.Helper()
	ts, err := finder.TimeSpent(t.Context(), p, filter)
	if err != nil {
		t.Fatal(err)
	}
	idle := int64(searchapi.DefaultIdle / time.Second)
	if filter.Idle != 0 {
		idle = int64(filter.Idle / time.Second)
	}
	want, dayLengths := bruteTimeSpent(ws, idle)
	names := latestActors(ws, func(e activity.Event) bool { return e.Context.SessionID != "" && e.Actor.ID != "" })
	sessions := map[string]map[string]bool{}
	for _, e := range ws.events {
		if e.Context.SessionID != "" && e.Actor.ID != "" && !e.OccurredAt.Before(ws.period.From) && e.OccurredAt.Before(ws.period.To) {
			if sessions[e.Actor.ID] == nil {
				sessions[e.Actor.ID] = map[string]bool{}
			}
			sessions[e.Actor.ID][e.Context.SessionID] = true
		}
	}
	days := searchapi.PeriodDays(ws.period)
	if !ts.Complete {
		t.Error("time spent incomplete")
	}
	var sum int64
	dayTotals := map[string]int64{}
	seen := map[string]bool{}
	for _, u := range ts.Users {
		seen[u.ID] = true
		if a := names[u.ID]; u.Name != a.Name || u.Email != a.Email {
			t.Errorf("idle %d s: %s is named %q <%s>, their latest action %q <%s>", idle, u.ID, u.Name, u.Email, a.Name, a.Email)
		}
		if u.Sessions != int64(len(sessions[u.ID])) {
			t.Errorf("idle %d s: %s has %d sessions, brute force %d", idle, u.Name, u.Sessions, len(sessions[u.ID]))
		}
		got := map[string]int64{}
		var userSum int64
		for _, d := range u.Days {
			got[d.Date] = d.ActiveMS
			userSum += d.ActiveMS
			dayTotals[d.Date] += d.ActiveMS
		}
		if userSum != u.ActiveMS {
			t.Errorf("idle %d s: %s's days add up to %d ms, their total is %d", idle, u.ID, userSum, u.ActiveMS)
		}
		sum += u.ActiveMS
		for i, d := range days {
			if got[d] != want[u.ID][i]*1000 {
				t.Errorf("idle %d s: %s on %s: %d ms, brute force %d s", idle, u.Name, d, got[d], want[u.ID][i])
			}
			if got[d] > dayLengths[i]*1000 || (dayLengths[i] <= 86400 && got[d] > 24*3600*1000) {
				t.Errorf("idle %d s: %s on %s: %d ms, longer than the day", idle, u.Name, d, got[d])
			}
		}
	}
	for user, w := range want {
		var n int64
		for _, s := range w {
			n += s
		}
		if n > 0 && !seen[user] {
			t.Errorf("idle %d s: %s active %d s, missing from the answer", idle, user, n)
		}
	}
	if sum != ts.ActiveMS {
		t.Errorf("users add up to %d ms, the workspace's total is %d", sum, ts.ActiveMS)
	}
	for _, d := range ts.Days {
		if dayTotals[d.Date] != d.ActiveMS {
			t.Errorf("%s: users add up to %d ms, the day's total is %d", d.Date, dayTotals[d.Date], d.ActiveMS)
		}
	}
}

// activeIn reports whether e makes its user active in ws's period, and
// on which day.
func activeIn(ws scriptedWorkspace, e activity.Event) (string, bool) {
	if e.Actor.Type != activity.ActorUser || e.Actor.ID == "" || e.Action == "auth.login_failed" || e.OccurredAt.Before(ws.period.From) || !e.OccurredAt.Before(ws.period.To) {
		return "", false
	}
	return e.OccurredAt.In(ws.period.Location).Format(time.DateOnly), true
}

func checkEngagement(t *testing.T, finder *Finder, p activity.Principal, ws scriptedWorkspace) {
	t.Helper()
	en, err := finder.Engagement(t.Context(), p, searchapi.AnalyticsFilter{Period: ws.period})
	if err != nil {
		t.Fatal(err)
	}
	days := searchapi.PeriodDays(ws.period)
	dayUsers := map[string]map[string]bool{}
	weekUsers := map[string]map[string]bool{}
	monthUsers := map[string]map[string]bool{}
	users := map[string]bool{}
	featureUsers := map[string]map[string]bool{}
	actions, logins := map[string]int64{}, map[string]int64{}
	userDays, userWeeks := map[string]map[string]bool{}, map[string]map[string]bool{}
	set := func(m map[string]map[string]bool, k, v string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][v] = true
	}
	for _, e := range ws.events {
		day, ok := activeIn(ws, e)
		if !ok {
			continue
		}
		u := e.Actor.ID
		users[u] = true
		set(dayUsers, day, u)
		set(weekUsers, searchapi.WeekOf(day), u)
		set(monthUsers, day[:7], u)
		set(userDays, u, day)
		set(userWeeks, u, searchapi.WeekOf(day))
		actions[u]++
		if e.Action == "auth.login" {
			logins[u]++
		}
		if f := searchapi.FeatureOf(e.Action); f != "" {
			set(featureUsers, f, u)
		}
	}
	if !en.Exact || !en.Complete || en.ActiveUsers != int64(len(users)) || len(en.Days) != len(days) || len(en.Users) != len(users) {
		t.Fatalf("engagement: exact %v, complete %v, %d active users (want %d), %d days (want %d), %d users", en.Exact, en.Complete, en.ActiveUsers, len(users), len(en.Days), len(days), len(en.Users))
	}
	var userDaySum int64
	for i, d := range en.Days {
		if d.Date != days[i] || d.ActiveUsers != int64(len(dayUsers[d.Date])) {
			t.Errorf("engagement on %s (want %s): %d active users, want %d", d.Date, days[i], d.ActiveUsers, len(dayUsers[days[i]]))
		}
		userDaySum += d.ActiveUsers
	}
	if want := searchapi.Ratio(float64(userDaySum), float64(len(days))); en.DAU != want {
		t.Errorf("DAU %v, want %v", en.DAU, want)
	}
	var weekSum, monthSum int64
	for _, w := range en.Weeks {
		if w.ActiveUsers != int64(len(weekUsers[w.Start])) {
			t.Errorf("week of %s: %d active users, want %d", w.Start, w.ActiveUsers, len(weekUsers[w.Start]))
		}
		weekSum += w.ActiveUsers
	}
	for _, m := range en.Months {
		if m.ActiveUsers != int64(len(monthUsers[m.Start[:7]])) {
			t.Errorf("month of %s: %d active users, want %d", m.Start, m.ActiveUsers, len(monthUsers[m.Start[:7]]))
		}
		monthSum += m.ActiveUsers
	}
	if len(en.Months) != 2 || en.WAU != searchapi.Ratio(float64(weekSum), float64(len(en.Weeks))) || en.MAU != searchapi.Ratio(float64(monthSum), 2) {
		t.Errorf("%d months, WAU %v over %d weeks, MAU %v", len(en.Months), en.WAU, len(en.Weeks), en.MAU)
	}
	if want := searchapi.Ratio(float64(userDaySum)/float64(len(days)), float64(monthSum)/2); en.Stickiness != want {
		t.Errorf("stickiness %v, want %v", en.Stickiness, want)
	}
	var actionSum, loginSum int64
	names := latestActors(ws, func(e activity.Event) bool { _, ok := activeIn(ws, e); return ok })
	for _, u := range en.Users {
		if a := names[u.ID]; u.Name != a.Name || u.Email != a.Email {
			t.Errorf("engagement: %s is named %q <%s>, their latest action %q <%s>", u.ID, u.Name, u.Email, a.Name, a.Email)
		}
		want := searchapi.Ratio(float64(logins[u.ID]), float64(len(userWeeks[u.ID])))
		if u.Actions != actions[u.ID] || u.Logins != logins[u.ID] || u.ActiveDays != int64(len(userDays[u.ID])) || u.ActiveWeeks != int64(len(userWeeks[u.ID])) || u.LoginsPerActiveWeek != want {
			t.Errorf("user %s: %+v; want %d actions, %d logins, %d days, %d weeks", u.ID, u, actions[u.ID], logins[u.ID], len(userDays[u.ID]), len(userWeeks[u.ID]))
		}
		if u.Name == "" || u.Email == "" {
			t.Errorf("user %s without a name", u.ID)
		}
		for _, f := range u.Features {
			if !featureUsers[f][u.ID] {
				t.Errorf("user %s said to use %s", u.ID, f)
			}
		}
		actionSum += u.Actions
		loginSum += u.Logins
	}
	if actionSum != en.Actions || loginSum != en.Logins {
		t.Errorf("users add up to %d actions and %d logins, the workspace's totals are %d and %d", actionSum, loginSum, en.Actions, en.Logins)
	}
	for _, f := range en.Features {
		n := int64(len(featureUsers[f.Feature]))
		if f.Users != n || f.Share != searchapi.Ratio(float64(n), float64(len(users))) {
			t.Errorf("feature %s: %d users, share %v; want %d of %d", f.Feature, f.Users, f.Share, n, len(users))
		}
	}
}

// checkCounts checks the peak times, the top users, the usage and the
// logins against counts of the events.
func checkCounts(t *testing.T, finder *Finder, p activity.Principal, ws scriptedWorkspace) {
	t.Helper()
	filter := searchapi.AnalyticsFilter{Period: ws.period, Limit: searchapi.MaxTopLimit}
	var total, logins, failed int64
	hours, weekdays := map[int]int64{}, map[int]int64{}
	byUser := map[string]int64{}
	byAction := map[string]int64{}
	actionUsers := map[string]map[string]bool{}
	for _, e := range ws.events {
		if e.OccurredAt.Before(ws.period.From) || !e.OccurredAt.Before(ws.period.To) {
			continue
		}
		total++
		local := e.OccurredAt.In(ws.period.Location)
		hours[local.Hour()]++
		weekdays[(int(local.Weekday())+6)%7+1]++
		byUser[e.Actor.ID]++
		byAction[e.Action]++
		if actionUsers[e.Action] == nil {
			actionUsers[e.Action] = map[string]bool{}
		}
		actionUsers[e.Action][e.Actor.ID] = true
		switch e.Action {
		case "auth.login":
			logins++
		case "auth.login_failed":
			failed++
		}
	}
	pt, err := finder.PeakTimes(t.Context(), p, filter)
	if err != nil {
		t.Fatal(err)
	}
	if pt.Total != total {
		t.Errorf("peak times count %d actions, want %d", pt.Total, total)
	}
	for i, h := range pt.Hours {
		if h.Count != hours[h.Hour] || (i > 0 && h.Count > pt.Hours[i-1].Count) {
			t.Errorf("hour %d: %d, want %d, in busiest order", h.Hour, h.Count, hours[h.Hour])
		}
	}
	for _, d := range pt.Days {
		if d.Count != weekdays[d.Day] {
			t.Errorf("day %d: %d, want %d", d.Day, d.Count, weekdays[d.Day])
		}
	}
	top, err := finder.TopUsers(t.Context(), p, filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Users) != len(byUser) {
		t.Errorf("top users names %d users, want %d", len(top.Users), len(byUser))
	}
	for _, u := range top.Users {
		if u.Count != byUser[u.ID] {
			t.Errorf("top user %s: %d, want %d", u.ID, u.Count, byUser[u.ID])
		}
	}
	usage, err := finder.Usage(t.Context(), p, filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(usage.Actions) != len(byAction) {
		t.Errorf("usage lists %d actions, want %d", len(usage.Actions), len(byAction))
	}
	for _, a := range usage.Actions {
		if a.Count != byAction[a.Action] || a.Users != int64(len(actionUsers[a.Action])) {
			t.Errorf("usage of %s: %d by %d, want %d by %d", a.Action, a.Count, a.Users, byAction[a.Action], len(actionUsers[a.Action]))
		}
	}
	l, err := finder.Logins(t.Context(), p, filter)
	if err != nil {
		t.Fatal(err)
	}
	if l.Logins != logins || l.Failed != failed {
		t.Errorf("logins %d and %d failed, want %d and %d", l.Logins, l.Failed, logins, failed)
	}
}

// withoutKeys is doc as stored before it had a session key and its time
// in milliseconds.
func withoutKeys(t *testing.T, doc ingest.SearchDocument) map[string]any {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["occurred_ms"]; !ok {
		t.Fatal("a document without its time in milliseconds")
	}
	delete(m, "session_key")
	delete(m, "occurred_ms")
	return m
}
