package opensearch

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// insightActions are the actions of the scripted sessions: sign-ins and
// sign-outs, which the workflows leave out, and work.
var insightActions = []string{
	"asset.updated", "asset.assigned", "license.assigned", "license.key_viewed",
	"system.data_exported", "user.role_changed", "auth.logout",
}

// scriptInsights writes a random history of one workspace for the
// insights: sessions of several people with actions in the same
// millisecond, API token actions without a session, actions outside the
// period, and resources whose tasks start, restart, complete, complete
// twice or never.
func scriptInsights(rnd *rand.Rand) scriptedWorkspace {
	loc, _ := time.LoadLocation("Europe/Berlin")
	from := time.Date(2026, 10, 20, 0, 0, 0, 0, loc)
	to := time.Date(2026, 11, 5, 0, 0, 0, 0, loc)
	ws := scriptedWorkspace{id: activity.NewEventID(), zone: loc.String(), period: searchapi.Period{From: from, To: to, TimeZone: loc.String(), Location: loc}}
	span := to.Sub(from) + 48*time.Hour
	add := func(actor activity.Actor, action, session, resource string, at time.Time) {
		e := activity.NewEvent(ws.id, action, at.Truncate(time.Millisecond))
		e.Actor = actor
		e.Resource = activity.Resource{Type: strings.Split(action, ".")[0], ID: resource, Name: "R " + resource}
		e.Context = activity.Context{IP: "192.0.2.1", Method: activity.MethodWeb, TimeZone: ws.zone, SessionID: session}
		if action == "asset.assigned" || action == "license.assigned" {
			for range 1 + rnd.IntN(2) {
				to := rnd.IntN(4)
				e.Related = append(e.Related, activity.Resource{Type: "user", ID: fmt.Sprintf("assignee-%d", to), Name: fmt.Sprintf("Assignee %d", to), Role: "assignee"})
			}
			if rnd.IntN(3) == 0 {
				e.Related = append(e.Related, activity.Resource{Type: "user", ID: "assignee-9", Name: "Before", Role: "previous_assignee"})
			}
		}
		ws.events = append(ws.events, e)
	}
	var people []activity.Actor
	for i := range 3 + rnd.IntN(3) {
		people = append(people, activity.Actor{ID: activity.NewEventID(), Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i), Role: activity.RoleAdmin, Type: activity.ActorUser})
	}
	for _, actor := range people {
		for range 1 + rnd.IntN(10) {
			session := activity.NewEventID()
			at := from.Add(-24*time.Hour + time.Duration(rnd.Int64N(int64(span))))
			add(actor, "auth.login", session, "", at)
			for range rnd.IntN(15) {
				if rnd.IntN(5) > 0 {
					at = at.Add(time.Duration(rnd.IntN(600_000)) * time.Millisecond)
				}
				add(actor, insightActions[rnd.IntN(len(insightActions))], session, "r-"+fmt.Sprint(rnd.IntN(5)), at)
			}
		}
		token := actor
		token.Type = activity.ActorAPIToken
		add(token, "asset.updated", "", "r-1", from.Add(time.Hour))
	}
	for i := range 30 + rnd.IntN(30) {
		resource := fmt.Sprintf("task-%d", i)
		task := searchapi.Tasks[rnd.IntN(len(searchapi.Tasks))]
		at := from.Add(-24*time.Hour + time.Duration(rnd.Int64N(int64(span))))
		for range 1 + rnd.IntN(5) {
			action := task.Start
			if rnd.IntN(2) == 0 {
				action = task.End
			}
			actor := people[rnd.IntN(len(people))]
			add(actor, action, "", resource, at)
			at = at.Add(time.Duration(rnd.Int64N(int64(72 * time.Hour))))
		}
	}
	for range 5 + rnd.IntN(10) {
		at := from.Add(-24*time.Hour + time.Duration(rnd.Int64N(int64(span))))
		expiry := at.In(loc).AddDate(0, 0, rnd.IntN(60)-20).Format(time.DateOnly)
		before := expiry
		if rnd.IntN(6) == 0 {
			before = "" // a license that had no expiry date
		}
		add(people[rnd.IntN(len(people))], "license.renewed", "", activity.NewEventID(), at)
		ws.events[len(ws.events)-1].Changes = []activity.Change{{Field: "expires_on", Before: before, After: "2030-01-01"}}
	}
	return ws
}

// inOrder returns the events of ws within its period, grouped by key and
// in time order (then id) within each group, groups with an empty key left
// out.
func inOrder(ws scriptedWorkspace, key func(activity.Event) string) [][]activity.Event {
	groups := map[string][]activity.Event{}
	for _, e := range ws.events {
		if k := key(e); k != "" && !e.OccurredAt.Before(ws.period.From) && e.OccurredAt.Before(ws.period.To) {
			groups[k] = append(groups[k], e)
		}
	}
	var out [][]activity.Event
	for _, g := range groups {
		sort.Slice(g, func(i, j int) bool {
			if !g[i].OccurredAt.Equal(g[j].OccurredAt) {
				return g[i].OccurredAt.Before(g[j].OccurredAt)
			}
			return g[i].ID < g[j].ID
		})
		out = append(out, g)
	}
	return out
}

// bruteWorkflows counts every pair and triple of consecutive actions of
// users in sessions, auth actions aside.
func bruteWorkflows(ws scriptedWorkspace) (pairs, triples map[string]int64, sessions, actions int64) {
	pairs, triples = map[string]int64{}, map[string]int64{}
	for _, g := range inOrder(ws, func(e activity.Event) string {
		if e.Actor.Type != activity.ActorUser || strings.HasPrefix(e.Action, "auth.") {
			return ""
		}
		return e.Context.SessionID
	}) {
		sessions++
		actions += int64(len(g))
		for i := range g {
			if i >= 1 {
				pairs[g[i-1].Action+" "+g[i].Action]++
			}
			if i >= 2 {
				triples[g[i-2].Action+" "+g[i-1].Action+" "+g[i].Action]++
			}
		}
	}
	return pairs, triples, sessions, actions
}

// bruteTasks measures every task from the first start to the next end on
// its resource, and sorts each task's durations.
func bruteTasks(ws scriptedWorkspace) (done map[string][]int64, open map[string]int64) {
	done, open = map[string][]int64{}, map[string]int64{}
	for _, g := range inOrder(ws, func(e activity.Event) string { return e.Resource.ID }) {
		for _, task := range searchapi.Tasks {
			var started *time.Time
			for _, e := range g {
				switch {
				case e.Action == task.Start && started == nil:
					at := e.OccurredAt
					started = &at
				case e.Action == task.End && started != nil:
					done[task.Name] = append(done[task.Name], e.OccurredAt.Sub(*started).Milliseconds())
					started = nil
				}
			}
			if started != nil {
				open[task.Name]++
			}
		}
	}
	for _, d := range done {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	}
	return done, open
}

// TestInsightsEqualBruteForce writes random histories of three workspaces
// to the real OpenSearch and checks the workflows and the task times of
// each against what the test computes from the events it wrote.
func TestInsightsEqualBruteForce(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("histories of seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 7))
	var all []activity.Event
	var workspaces []scriptedWorkspace
	for range 3 {
		ws := scriptInsights(rnd)
		workspaces = append(workspaces, ws)
		all = append(all, ws.events...)
	}
	ix := mustActivityIndex(t, all)
	finder := NewFinder(ix.client, ix.prefix)
	for i, ws := range workspaces {
		t.Run(fmt.Sprint("workspace ", i), func(t *testing.T) {
			p := owner(ws.id)
			filter := searchapi.AnalyticsFilter{Period: ws.period, Limit: searchapi.MaxTopLimit}
			w, err := finder.Workflows(t.Context(), p, filter)
			if err != nil {
				t.Fatal(err)
			}
			pairs, triples, sessions, actions := bruteWorkflows(ws)
			if w.Sessions != sessions || w.Actions != actions || !w.Complete {
				t.Errorf("sessions %d, actions %d, complete %v; want %d, %d", w.Sessions, w.Actions, w.Complete, sessions, actions)
			}
			checkSequences(t, "pairs", w.Pairs, w.TotalPairs, pairs)
			checkSequences(t, "triples", w.Triples, w.TotalTriples, triples)

			tt, err := finder.TaskTimes(t.Context(), p, filter)
			if err != nil {
				t.Fatal(err)
			}
			done, open := bruteTasks(ws)
			if len(tt.Tasks) != len(searchapi.Tasks) || !tt.Complete {
				t.Fatalf("tasks %+v", tt)
			}
			for _, got := range tt.Tasks {
				d := done[got.Task]
				want := searchapi.TaskTime{Task: got.Task, Start: got.Start, End: got.End, Completed: int64(len(d)), Open: open[got.Task]}
				if len(d) > 0 {
					want.MedianMS = d[(len(d)+1)/2-1]
					want.P90MS = d[(9*len(d)+9)/10-1]
					want.MaxMS = d[len(d)-1]
					want.MedianMinutes, want.P90Minutes = got.MedianMinutes, got.P90Minutes
				}
				if got != want {
					t.Errorf("task %s = %+v, want %+v", got.Task, got, want)
				}
			}
			checkAssignments(t, finder, p, ws)
			if want := bruteRenewals(ws); tt.Renewals != want {
				t.Errorf("renewals %+v, want %+v", tt.Renewals, want)
			}
			for i := 1; i < len(tt.Bottlenecks); i++ {
				a, b := taskNamed(tt, tt.Bottlenecks[i-1]), taskNamed(tt, tt.Bottlenecks[i])
				if a.MedianMS < b.MedianMS {
					t.Errorf("bottlenecks %v not longest median first", tt.Bottlenecks)
				}
			}
		})
	}
}

func taskNamed(tt searchapi.TaskTimes, name string) searchapi.TaskTime {
	for _, t := range tt.Tasks {
		if t.Task == name {
			return t
		}
	}
	return searchapi.TaskTime{}
}

// checkSequences compares the top sequences with every sequence the brute
// force counted: the total, and each listed sequence's count, most first,
// with nothing left out that is more frequent than the last listed.
func checkSequences(t *testing.T, what string, got []searchapi.Sequence, total int64, want map[string]int64) {
	t.Helper()
	var sum int64
	for _, n := range want {
		sum += n
	}
	if total != sum {
		t.Errorf("%s: total %d, want %d", what, total, sum)
	}
	if len(got) != min(len(want), searchapi.MaxTopLimit) {
		t.Errorf("%s: %d listed of %d", what, len(got), len(want))
	}
	listed := map[string]int64{}
	for i, s := range got {
		k := strings.Join(s.Actions, " ")
		listed[k] = s.Count
		if s.Count != want[k] {
			t.Errorf("%s: %s counted %d, want %d", what, k, s.Count, want[k])
		}
		if i > 0 && got[i-1].Count < s.Count {
			t.Errorf("%s: not most frequent first at %d", what, i)
		}
	}
	if len(got) == len(want) && !reflect.DeepEqual(listed, want) {
		t.Errorf("%s = %v, want %v", what, listed, want)
	}
	if len(got) > 0 {
		last := got[len(got)-1].Count
		for k, n := range want {
			if _, ok := listed[k]; !ok && n > last {
				t.Errorf("%s: %s (%d) left out", what, k, n)
			}
		}
	}
}

// checkAssignments compares the assignment patterns with a count over the
// events the test wrote.
func checkAssignments(t *testing.T, finder *Finder, p activity.Principal, ws scriptedWorkspace) {
	t.Helper()
	got, err := finder.Assignments(t.Context(), p, searchapi.AnalyticsFilter{Period: ws.period, Limit: searchapi.MaxTopLimit})
	if err != nil {
		t.Fatal(err)
	}
	want := searchapi.Assignments{Resources: map[string]int64{}}
	assigners, assignees := map[string]int64{}, map[string]int64{}
	for _, e := range ws.events {
		if (e.Action != "asset.assigned" && e.Action != "license.assigned") || e.OccurredAt.Before(ws.period.From) || !e.OccurredAt.Before(ws.period.To) {
			continue
		}
		want.Total++
		want.Resources[e.Resource.Type]++
		at := e.OccurredAt.In(ws.period.Location)
		want.Days[(int(at.Weekday())+6)%7]++
		want.Hours[at.Hour()]++
		assigners[e.Actor.ID]++
		for _, r := range e.Related {
			if r.Role == "assignee" {
				assignees[r.ID]++
			}
			if r.Role == "previous_assignee" && e.Resource.Type == "asset" {
				want.Reassignments++
			}
		}
	}
	if got.Total != want.Total || got.Reassignments != want.Reassignments || got.Days != want.Days || got.Hours != want.Hours || !got.Complete ||
		fmt.Sprint(got.Resources) != fmt.Sprint(want.Resources) {
		t.Errorf("assignments %+v, want %+v", got, want)
	}
	for _, side := range []struct {
		name string
		got  []searchapi.PersonCount
		want map[string]int64
	}{{"assigners", got.Assigners, assigners}, {"assignees", got.Assignees, assignees}} {
		counted := map[string]int64{}
		for _, pc := range side.got {
			counted[pc.ID] = pc.Count
		}
		if !reflect.DeepEqual(counted, side.want) {
			t.Errorf("%s %v, want %v", side.name, counted, side.want)
		}
	}
}

// bruteRenewals measures every renewal of the period with a previous
// expiry date from the end of that day.
func bruteRenewals(ws scriptedWorkspace) searchapi.Renewals {
	var leads []int64
	var r searchapi.Renewals
	for _, e := range ws.events {
		if e.Action != "license.renewed" || e.OccurredAt.Before(ws.period.From) || !e.OccurredAt.Before(ws.period.To) || e.Changes[0].Before == "" {
			continue
		}
		d, _ := time.ParseInLocation(time.DateOnly, e.Changes[0].Before, ws.period.Location)
		lead := d.AddDate(0, 0, 1).Sub(e.OccurredAt).Milliseconds()
		leads = append(leads, lead)
		if lead < 0 {
			r.Lapsed++
		}
	}
	if len(leads) == 0 {
		return r
	}
	sort.Slice(leads, func(i, j int) bool { return leads[i] < leads[j] })
	r.Count, r.MinLeadMS = int64(len(leads)), leads[0]
	r.MedianLeadMS = leads[(len(leads)+1)/2-1]
	r.MedianDays = float64(int64(float64(r.MedianLeadMS)/8_640_000+0.5*sign(r.MedianLeadMS))) / 10
	return r
}

func sign(n int64) float64 {
	if n < 0 {
		return -1
	}
	return 1
}
