package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/internal/topic"
	"github.com/fluxera/activity/searchapi"
)

// logWorkspace is a workspace of TestActivityLog with the events written
// for it.
type logWorkspace struct {
	owner  member
	id     string
	events []activity.Event
}

// Values the events of TestActivityLog are drawn from.
var (
	logActions = []string{"asset.created", "asset.updated", "asset.deleted", "asset.assigned", "license.created",
		"license.assigned", "license.renewed", "user.invited", "user.role_changed", "auth.login", "auth.login_failed", "system.settings_changed"}
	logIPs = []string{"10.1.2.3", "10.9.0.1", "192.0.2.10", "198.51.100.7", "2001:db8::7", "2001:db8:1::9"}
)

// mustWriteEvents writes events straight into the test's activity topic.
func mustWriteEvents(tb testing.TB, cfg app.Config, events []activity.Event) {
	tb.Helper()
	w := topic.NewWriter(cfg.Publisher.Brokers, cfg.Publisher.Topic)
	w.BatchSize, w.BatchTimeout = 1000, 5*time.Millisecond
	defer w.Close()
	msgs := make([]kafka.Message, 0, len(events))
	for _, e := range events {
		b, _ := json.Marshal(e)
		msgs = append(msgs, kafka.Message{Key: []byte(e.WorkspaceID), Value: b})
	}
	for len(msgs) > 0 {
		n := min(len(msgs), 1000)
		if err := w.WriteMessages(context.Background(), msgs[:n]...); err != nil {
			tb.Fatalf("produce: %v", err)
		}
		msgs = msgs[n:]
	}
}

// randomEvent returns an event of workspace ws by one of actors on one of
// assets or licenses, at a time within the last 100 days of now.
func randomEvent(r *rand.Rand, ws string, actors, assets, licenses []string, now time.Time) activity.Event {
	action := logActions[r.IntN(len(logActions))]
	e := activity.NewEvent(ws, action, now.Add(-time.Duration(r.Int64N(int64(100*24*time.Hour)))))
	e.Actor = activity.Actor{ID: actors[r.IntN(len(actors))], Type: activity.ActorUser}
	e.Actor.Name = "Person " + e.Actor.ID[:4]
	e.Context.IP = logIPs[r.IntN(len(logIPs))]
	if r.IntN(4) == 0 {
		e.Outcome = activity.OutcomeFailure
	}
	switch e.Category {
	case activity.CategoryAsset:
		e.Resource = activity.Resource{Type: "asset", ID: assets[r.IntN(len(assets))], Name: "Laptop"}
		if r.IntN(2) == 0 {
			e.Related = []activity.Resource{{Type: "license", ID: licenses[r.IntN(len(licenses))], Role: "license"}}
		}
	case activity.CategoryLicense:
		e.Resource = activity.Resource{Type: "license", ID: licenses[r.IntN(len(licenses))], Name: "Figma"}
		if r.IntN(2) == 0 {
			e.Related = []activity.Resource{{Type: "asset", ID: assets[r.IntN(len(assets))], Role: "device"}}
		}
	case activity.CategoryUser, activity.CategoryAuth:
		e.Resource = activity.Resource{Type: "user", ID: actors[r.IntN(len(actors))]}
	default:
		e.Resource = activity.Resource{Type: "workspace", ID: ws}
	}
	return e
}

// listing is every page of one listing, read with its cursors.
type listing struct {
	ids    []string
	total  int64
	status int
	err    errorAnswer
	pages  int
}

// listAll reads path page by page with limit until there is no next cursor.
func listAll(t *testing.T, c *client, path string, limit int) listing {
	t.Helper()
	var out listing
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for {
		u := path + sep + "limit=" + fmt.Sprint(limit)
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		a := c.call("GET", u, nil, nil)
		if a.status != http.StatusOK {
			out.status = a.status
			a.decode(t, &out.err)
			return out
		}
		var page searchapi.EventPage
		a.decode(t, &page)
		if out.pages > 0 && page.Total != out.total {
			t.Errorf("%s: total %d on page %d, %d before", path, page.Total, out.pages+1, out.total)
		}
		out.total = page.Total
		out.pages++
		for _, e := range page.Entries {
			out.ids = append(out.ids, e.ID)
		}
		if page.NextCursor == "" {
			out.status = http.StatusOK
			return out
		}
		cursor = page.NextCursor
	}
}

// TestActivityLog writes events of several workspaces straight into the
// activity topic and checks the activity log and the histories against
// what they should find: every filter and range, cursors over more than
// 10,000 entries, the scope of each role, and refused input.
func TestActivityLog(t *testing.T) {
	cfg := MustStack(t)
	// Without the relay, the index holds only the events written here.
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	t.Logf("seed %d", r.Uint64())
	now := time.Now()

	var workspaces []*logWorkspace
	for i := range 3 + r.IntN(2) {
		owner := mustOwner(t, m, cfg, fmt.Sprintf("Log %d", i))
		var me domainUser
		owner.call("GET", "/api/v1/me", nil, nil).decode(t, &me)
		workspaces = append(workspaces, &logWorkspace{owner: owner, id: me.WorkspaceID})
	}
	first := workspaces[0]
	mem := mustRoleMember(t, m, first.owner.client, activity.RoleMember)
	assets := []string{activity.NewEventID(), activity.NewEventID(), activity.NewEventID()}
	licenses := []string{activity.NewEventID(), activity.NewEventID()}
	var all []activity.Event
	for _, w := range workspaces {
		actors := []string{w.owner.id, activity.NewEventID(), activity.NewEventID()}
		if w == first {
			actors = append(actors, mem.id, mem.id)
		}
		for range 150 + r.IntN(100) {
			w.events = append(w.events, randomEvent(r, w.id, actors, assets, licenses, now))
		}
		all = append(all, w.events...)
	}
	// A workspace of more than 10,000 entries, many sharing their time.
	bulk := &logWorkspace{owner: mustOwner(t, m, cfg, "Bulk")}
	var me domainUser
	bulk.owner.call("GET", "/api/v1/me", nil, nil).decode(t, &me)
	bulk.id = me.WorkspaceID
	base := now.Add(-time.Hour).Truncate(time.Millisecond)
	for i := range 12_000 {
		e := activity.NewEvent(bulk.id, "asset.updated", base.Add(time.Duration(i/4)*time.Millisecond))
		e.Actor = activity.Actor{ID: bulk.owner.id, Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: assets[0]}
		bulk.events = append(bulk.events, e)
	}
	mustWriteEvents(t, cfg, append(all, bulk.events...))
	for _, w := range append(workspaces, bulk) {
		stacktest.Eventually(t, "every event is indexed", func() bool {
			var page searchapi.EventPage
			w.owner.call("GET", "/api/v1/activity?limit=1", nil, nil).decode(t, &page)
			return page.Total == int64(len(w.events))
		})
	}

	t.Run("pages through more than 10,000 entries without gaps or repeats", func(t *testing.T) {
		got := listAll(t, bulk.owner.client, "/api/v1/activity", 200)
		if got.status != http.StatusOK {
			t.Fatalf("status %d: %+v", got.status, got.err)
		}
		want := make([]activity.Event, len(bulk.events))
		copy(want, bulk.events)
		slices.SortFunc(want, newestFirst)
		if len(got.ids) != len(want) || got.total != int64(len(want)) || got.pages != 60 {
			t.Fatalf("%d entries in %d pages, total %d; want %d in 60", len(got.ids), got.pages, got.total, len(want))
		}
		for i, e := range want {
			if got.ids[i] != e.ID {
				t.Fatalf("entry %d is %s, want %s", i, got.ids[i], e.ID)
			}
		}
	})

	t.Run("cursors", func(t *testing.T) {
		var page searchapi.EventPage
		bulk.owner.call("GET", "/api/v1/activity?limit=5&category=asset", nil, nil).decode(t, &page)
		if page.NextCursor == "" {
			t.Fatal("no next cursor")
		}
		cur := url.QueryEscape(page.NextCursor)
		body, sig, _ := strings.Cut(page.NextCursor, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(body)
		forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), bulk.id, first.id, 1))) + "." + sig
		for _, tt := range []struct {
			name string
			c    *client
			path string
			msg  string
		}{
			{"same filters", bulk.owner.client, "/api/v1/activity?limit=5&category=ASSET&cursor=" + cur, ""},
			{"other filters", bulk.owner.client, "/api/v1/activity?limit=5&cursor=" + cur, "the cursor was issued for other filters"},
			{"another route", bulk.owner.client, "/api/v1/me/activity?limit=5&category=asset&cursor=" + cur, "the cursor was issued for other filters"},
			{"another caller", first.owner.client, "/api/v1/activity?limit=5&category=asset&cursor=" + cur, "the cursor was issued to another user"},
			{"forged", first.owner.client, "/api/v1/activity?limit=5&category=asset&cursor=" + url.QueryEscape(forged), "the cursor is not one this server issued"},
			{"garbage", bulk.owner.client, "/api/v1/activity?cursor=abc", "the cursor is not one this server issued"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				a := tt.c.call("GET", tt.path, nil, nil)
				if tt.msg == "" {
					if a.status != http.StatusOK {
						t.Fatalf("%d %s", a.status, a.body)
					}
					return
				}
				wantRefused(t, a, "cursor", tt.msg)
			})
		}
		// The second page opens the point in time the later pages read;
		// once it lapsed, their cursor is stale.
		var second searchapi.EventPage
		bulk.owner.call("GET", "/api/v1/activity?limit=5&category=asset&cursor="+cur, nil, nil).decode(t, &second)
		body2, _, _ := strings.Cut(second.NextCursor, ".")
		raw2, _ := base64.RawURLEncoding.DecodeString(body2)
		var c struct {
			PIT string `json:"p"`
		}
		json.Unmarshal(raw2, &c)
		if c.PIT == "" {
			t.Fatalf("the second page's cursor holds no point in time: %s", raw2)
		}
		cur = url.QueryEscape(second.NextCursor)
		req, _ := http.NewRequest("DELETE", cfg.OpenSearch.URLs[0]+"/_search/point_in_time", strings.NewReader(fmt.Sprintf(`{"pit_id":[%q]}`, c.PIT)))
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		} else {
			res.Body.Close()
		}
		wantRefused(t, bulk.owner.call("GET", "/api/v1/activity?limit=5&category=asset&cursor="+cur, nil, nil), "cursor", "the cursor has expired")
	})

	t.Run("random filters find exactly the expected entries of the caller's workspace", func(t *testing.T) {
		for i := range 60 {
			w := workspaces[r.IntN(len(workspaces))]
			caller, sees := w.owner, func(activity.Event) bool { return true }
			if w == first && r.IntN(3) == 0 {
				caller, sees = mem, func(e activity.Event) bool { return e.Actor.ID == mem.id }
			}
			path, match := randomListing(r, w, mem, assets, licenses, now)
			if caller.id == mem.id && strings.HasPrefix(path, "/api/v1/users/") && !strings.HasPrefix(path, "/api/v1/users/"+mem.id+"/") {
				// Another user's activity is refused to a member (see
				// TestAnotherUsersActivityIsRefusedToMembers).
				if a := caller.call("GET", path, nil, nil); a.status != http.StatusForbidden {
					t.Fatalf("%d: %s as a member: %d, want 403", i, path, a.status)
				}
				continue
			}
			var want []string
			byID := map[string]activity.Event{}
			for _, e := range w.events {
				byID[e.ID] = e
				if sees(e) && match(e) {
					want = append(want, e.ID)
				}
			}
			got := listAll(t, caller.client, path, 1+r.IntN(60))
			if got.status != http.StatusOK {
				t.Fatalf("%d: %s as %s: %d %+v", i, path, caller.role, got.status, got.err)
			}
			for _, id := range got.ids {
				if _, ok := byID[id]; !ok {
					t.Fatalf("%s as %s found %s, which is not of the caller's workspace", path, caller.role, id)
				}
			}
			sorted := slices.Clone(got.ids)
			slices.Sort(sorted)
			slices.Sort(want)
			if len(slices.Compact(slices.Clone(sorted))) != len(sorted) {
				t.Errorf("%s as %s: an entry appears twice", path, caller.role)
			}
			if !slices.Equal(sorted, want) || got.total != int64(len(want)) {
				t.Errorf("%s as %s: %d entries (total %d), want %d", path, caller.role, len(sorted), got.total, len(want))
			}
			if !slices.IsSortedFunc(got.ids, func(a, b string) int { return newestFirst(byID[a], byID[b]) }) {
				t.Errorf("%s: not newest first", path)
			}
		}
	})

	t.Run("facets", func(t *testing.T) {
		var page searchapi.EventPage
		first.owner.call("GET", "/api/v1/activity?facets=true&category=asset&limit=1", nil, nil).decode(t, &page)
		if page.Facets == nil {
			t.Fatal("no facets")
		}
		users, actions := map[string]int64{}, map[string]int64{}
		for _, e := range first.events {
			if e.Category == activity.CategoryAsset {
				users[e.Actor.ID]++
				actions[e.Action]++
			}
		}
		for _, u := range page.Facets.Users {
			if users[u.ID] != u.Count || u.Name != "Person "+u.ID[:4] {
				t.Errorf("user facet %+v, want count %d", u, users[u.ID])
			}
		}
		for _, a := range page.Facets.Actions {
			if actions[a.Value] != a.Count {
				t.Errorf("action facet %+v, want %d", a, actions[a.Value])
			}
		}
		if len(page.Facets.Users) != len(users) || len(page.Facets.Actions) != len(actions) ||
			len(page.Facets.ResourceTypes) != 1 || page.Facets.ResourceTypes[0].Value != "asset" || page.Facets.ResourceTypes[0].Count != page.Total {
			t.Errorf("facets %+v", page.Facets)
		}
	})

	t.Run("refused input", func(t *testing.T) {
		for _, tt := range []struct{ path, field, msg string }{
			{"/api/v1/activity?colour=red", "colour", `unknown filter "colour"`},
			{"/api/v1/activity?from=2026-13-01", "from", "from must be a date"},
			{"/api/v1/activity?from=2026-03-02&to=2026-03-01", "to", "to must be after from"},
			{"/api/v1/activity?range=1y", "range", "range must be one of"},
			{"/api/v1/activity?range=7d&from=2026-01-01", "range", "give either range or from and to"},
			{"/api/v1/activity?limit=201", "limit", "limit must be between 1 and 200"},
			{"/api/v1/activity?limit=0", "limit", "limit must be between 1 and 200"},
			{"/api/v1/activity?limit=ten", "limit", "limit must be a whole number"},
			{"/api/v1/activity?q=" + url.QueryEscape(`"open`), "q", "unterminated quote"},
			{"/api/v1/activity?user=jane", "user", `user: "jane" is not a user id`},
			{"/api/v1/activity?category=assets", "category", "category must be"},
			{"/api/v1/activity?action=license", "action", "action:"},
			{"/api/v1/activity?ip=10.0.0.0/33", "ip", "ip:"},
			{"/api/v1/activity?outcome=maybe", "outcome", "outcome must be"},
			{"/api/v1/activity?outcome=success&outcome=failure", "outcome", "outcome is given more than once"},
			{"/api/v1/activity?facets=maybe", "facets", "facets must be true or false"},
			{"/api/v1/assets/42/history", "id", `"42" is not an id`},
		} {
			wantRefused(t, first.owner.call("GET", tt.path, nil, nil), tt.field, tt.msg)
		}
	})
}

// domainUser is the part of GET /api/v1/me the tests read.
type domainUser struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
}

func wantRefused(t *testing.T, a answer, field, message string) {
	t.Helper()
	var e errorAnswer
	a.decode(t, &e)
	if a.status != http.StatusBadRequest || e.Error.Code != activity.EINVALID || e.Error.Field != field || !strings.HasPrefix(e.Error.Message, message) {
		t.Errorf("%d %s, want 400 on %s beginning %q", a.status, a.body, field, message)
	}
}

func newestFirst(a, b activity.Event) int {
	if c := b.OccurredAt.Compare(a.OccurredAt); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// randomListing returns a listing of w with random filters, and what an
// event must be to be listed.
func randomListing(r *rand.Rand, w *logWorkspace, mem member, assets, licenses []string, now time.Time) (string, func(activity.Event) bool) {
	params := url.Values{}
	var checks []func(activity.Event) bool
	add := func(p float64, f func()) {
		if r.Float64() < p {
			f()
		}
	}
	path := "/api/v1/activity"
	switch r.IntN(6) {
	case 0:
		id := assets[r.IntN(len(assets))]
		path = "/api/v1/assets/" + strings.ToUpper(id) + "/history"
		checks = append(checks, func(e activity.Event) bool { return touches(e, "asset", id) })
	case 1:
		id := licenses[r.IntN(len(licenses))]
		path = "/api/v1/licenses/" + id + "/history"
		checks = append(checks, func(e activity.Event) bool { return touches(e, "license", id) })
	case 2:
		id := w.events[r.IntN(len(w.events))].Actor.ID
		path = "/api/v1/users/" + id + "/activity"
		checks = append(checks, func(e activity.Event) bool { return e.Actor.ID == id })
	}
	add(0.3, func() {
		ids := []string{w.events[r.IntN(len(w.events))].Actor.ID, mem.id}[:1+r.IntN(2)]
		params["user"] = []string{strings.Join(ids, ",")}
		checks = append(checks, func(e activity.Event) bool { return slices.Contains(ids, e.Actor.ID) })
	})
	add(0.3, func() {
		cats := []string{"asset", "license", "user", "auth", "system"}
		r.Shuffle(len(cats), func(i, j int) { cats[i], cats[j] = cats[j], cats[i] })
		cats = cats[:1+r.IntN(2)]
		for _, c := range cats {
			params.Add("category", c)
		}
		checks = append(checks, func(e activity.Event) bool { return slices.Contains(cats, e.Category) })
	})
	add(0.3, func() {
		patterns := map[string]func(string) bool{
			"asset.created":     func(a string) bool { return a == "asset.created" },
			"license.*":         func(a string) bool { return strings.HasPrefix(a, "license.") },
			"*.assigned":        func(a string) bool { return strings.HasSuffix(a, ".assigned") },
			"auth.login*":       func(a string) bool { return strings.HasPrefix(a, "auth.login") },
			"user.role_changed": func(a string) bool { return a == "user.role_changed" },
		}
		var names []string
		for k := range patterns {
			names = append(names, k)
		}
		slices.Sort(names)
		a, b := names[r.IntN(len(names))], names[r.IntN(len(names))]
		params["action"] = []string{a, b}
		checks = append(checks, func(e activity.Event) bool { return patterns[a](e.Action) || patterns[b](e.Action) })
	})
	add(0.25, func() {
		typ := []string{"asset", "license", "user"}[r.IntN(3)]
		id := ""
		switch {
		case typ == "asset" && r.IntN(2) == 0:
			id = assets[r.IntN(len(assets))]
		case typ == "license" && r.IntN(2) == 0:
			id = licenses[r.IntN(len(licenses))]
		}
		v := typ
		if id != "" {
			v += ":" + id
		}
		params.Set("resource", v)
		checks = append(checks, func(e activity.Event) bool { return touches(e, typ, id) })
	})
	add(0.25, func() {
		nets := map[string]netip.Prefix{
			"10.0.0.0/8": netip.MustParsePrefix("10.0.0.0/8"), "192.0.2.10": netip.MustParsePrefix("192.0.2.10/32"),
			"2001:db8::/32": netip.MustParsePrefix("2001:db8::/32"), "2001:db8:1::/48": netip.MustParsePrefix("2001:db8:1::/48"),
		}
		var names []string
		for k := range nets {
			names = append(names, k)
		}
		slices.Sort(names)
		n := names[r.IntN(len(names))]
		params.Set("ip", n)
		checks = append(checks, func(e activity.Event) bool { return nets[n].Contains(netip.MustParseAddr(e.Context.IP)) })
	})
	add(0.25, func() {
		o := []string{"success", "failure"}[r.IntN(2)]
		params.Set("outcome", o)
		checks = append(checks, func(e activity.Event) bool { return e.Outcome == o })
	})
	berlin, _ := time.LoadLocation("Europe/Berlin")
	today := now.In(berlin)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, berlin)
	add(0.4, func() {
		var since, until time.Time
		switch r.IntN(6) {
		case 0, 1, 2, 3:
			name := []string{"today", "7d", "30d", "90d"}[r.IntN(4)]
			params.Set("range", name)
			days := map[string]int{"today": 1, "7d": 7, "30d": 30, "90d": 90}[name]
			since, until = today.AddDate(0, 0, 1-days), today.AddDate(0, 0, 1)
		case 4:
			from, to := today.AddDate(0, 0, -r.IntN(60)-20), today.AddDate(0, 0, -r.IntN(20))
			params.Set("from", from.Format(time.DateOnly))
			params.Set("to", to.Format(time.DateOnly))
			since, until = from, to.AddDate(0, 0, 1)
		default:
			from := now.Add(-time.Duration(r.IntN(50*24)) * time.Hour).UTC().Truncate(time.Second)
			params.Set("from", from.Format(time.RFC3339))
			since = from
		}
		checks = append(checks, func(e activity.Event) bool {
			return !e.OccurredAt.Before(since) && (until.IsZero() || e.OccurredAt.Before(until))
		})
	})
	add(0.3, func() {
		queries := map[string]func(activity.Event) bool{
			"-outcome:success":                  func(e activity.Event) bool { return e.Outcome != "success" },
			"category:auth OR category:license": func(e activity.Event) bool { return e.Category == "auth" || e.Category == "license" },
			"ip:10.0.0.0/8":                     func(e activity.Event) bool { return strings.HasPrefix(e.Context.IP, "10.") },
			"-action:*.created":                 func(e activity.Event) bool { return !strings.HasSuffix(e.Action, ".created") },
		}
		var names []string
		for k := range queries {
			names = append(names, k)
		}
		slices.Sort(names)
		q := names[r.IntN(len(names))]
		params.Set("q", q)
		checks = append(checks, queries[q])
	})
	if len(params) > 0 {
		path += "?" + params.Encode()
	}
	return path, func(e activity.Event) bool {
		for _, c := range checks {
			if !c(e) {
				return false
			}
		}
		return true
	}
}

// touches reports whether e's resource or a related one is of type typ
// and, if id is given, has that id.
func touches(e activity.Event, typ, id string) bool {
	for _, r := range append([]activity.Resource{e.Resource}, e.Related...) {
		if r.Type == typ && (id == "" || r.ID == id) {
			return true
		}
	}
	return false
}
