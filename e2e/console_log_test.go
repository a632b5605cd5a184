package e2e

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/export"
)

var (
	entryIDs    = regexp.MustCompile(`<a class="summary" href="/activity/([0-9a-f-]{36})"`)
	entryAction = regexp.MustCompile(`<code class="action">([^<]*)</code>`)
	entryTimes  = regexp.MustCompile(`<time datetime="([^"]+)" title="[^"]+ \(UTC\)">[^<]+ CET</time>`)
	moreLink    = regexp.MustCompile(`<li class="more"><a href="([^"]+)"`)
)

// ids are the entries a listing page shows, in its order.
func (p page) ids() []string {
	var out []string
	for _, m := range entryIDs.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// more is the link to the listing's next page, or "".
func (p page) more() string {
	m := moreLink.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	u, _ := url.PathUnescape(strings.ReplaceAll(m[1], "&amp;", "&"))
	return u
}

// consoleWorkspace is a workspace whose activity is indexed: an asset with
// a hostile name, created and moved to Paris through the API, and
// pagingEvents more updates of another asset written straight into the
// activity topic, two of them yesterday.
type consoleWorkspace struct {
	owner         member
	asset, update string
	total         int64
}

const (
	hostileName  = `<img src=x onerror=alert(1)>`
	formulaName  = `=HYPERLINK("http://x.example","Click")`
	pagingEvents = 60
)

func mustConsoleWorkspace(t *testing.T, cfg app.Config, m *app.Main) consoleWorkspace {
	t.Helper()
	owner := mustOwner(t, m, cfg, "Console Log")
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": hostileName, "category": "=HYPERLINK(\"http://x\")"}, nil), "asset")
	if a := owner.call("PATCH", "/api/v1/assets/"+asset, map[string]string{"location": "Paris"}, nil); a.status != http.StatusOK {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": formulaName}, nil), "asset")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Now()
	y := now.In(berlin).AddDate(0, 0, -1)
	yesterdayNoon := time.Date(y.Year(), y.Month(), y.Day(), 12, 0, 0, 0, berlin)
	var events []activity.Event
	other := "0190f000-0000-7000-8000-000000000001"
	for i := range pagingEvents {
		// Today's are a few seconds old, so that they are today in Berlin
		// whenever the test runs but in the first seconds of a day.
		at := now.Add(-time.Duration(i+1) * 50 * time.Millisecond)
		if i >= pagingEvents-2 {
			at = yesterdayNoon.Add(time.Duration(i) * time.Minute)
		}
		e := activity.NewEvent(owner.workspace, "asset.updated", at)
		e.Actor = activity.Actor{ID: owner.id, Email: owner.email, Name: "Console Log Owner", Role: activity.RoleOwner, Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: other, Name: "Desk phone"}
		e.Changes = []activity.Change{{Field: "location", Before: "Room 1", After: "Room 2"}}
		e.Context.Method = activity.MethodWeb
		events = append(events, e)
	}
	mustWriteEvents(t, cfg, events)
	var page searchapi.EventPage
	var update string
	stacktest.Eventually(t, "the workspace's activity is indexed", func() bool {
		owner.call("GET", "/api/v1/activity?limit=200", nil, nil).decode(t, &page)
		update = ""
		for _, e := range page.Entries {
			if e.Action == "asset.updated" && e.Resource.ID == asset {
				update = e.ID
			}
		}
		return update != "" && page.Total >= pagingEvents+4
	})
	return consoleWorkspace{owner: owner, asset: asset, update: update, total: page.Total}
}

// TestConsoleActivityLog walks Settings › Activity Log as the owner: the
// feed in the workspace's time zone with hostile names shown as text, its
// facets, every filter, a search the syntax cannot read shown at its
// position, paging without end through htmx, an entry opened in place, and
// an export of the filtered log that holds the entries on screen.
func TestConsoleActivityLog(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	ws := mustConsoleWorkspace(t, cfg, m)
	b := newBrowser(t, m)
	b.mustSignIn(ws.owner.email, ws.owner.password)

	p := b.get("/settings/activity-log")
	if p.status != http.StatusOK {
		t.Fatalf("log: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, "<img src=x") || !strings.Contains(p.body, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the hostile asset name is not shown as text")
	}
	// The facet counts follow the page (htmx loads them); without script,
	// the link they load from opens the page with them.
	if !strings.Contains(p.body, `aria-label="Facets" hx-get="/settings/activity-log?facets=1"`) {
		t.Error("the log does not load its facets")
	}
	if f := b.get("/settings/activity-log?facets=1"); f.status != http.StatusOK || !strings.Contains(f.body, `aria-label="Facets"`) || !strings.Contains(f.body, `asset.updated</a> <span class="count">`) {
		t.Errorf("the log's facets show no counts: %d", f.status)
	}
	if len(entryTimes.FindAllString(p.body, -1)) != len(p.ids()) {
		t.Error("times are not shown in the workspace's time zone with their UTC instant")
	}
	if !strings.Contains(p.body, "Europe/Berlin") {
		t.Error("the page does not name the workspace's time zone")
	}

	t.Run("paging", func(t *testing.T) {
		seen := map[string]bool{}
		first := p.ids()
		if len(first) != searchapi.DefaultLimit || p.more() == "" {
			t.Fatalf("first page: %d entries, more %q", len(first), p.more())
		}
		for _, id := range first {
			seen[id] = true
		}
		next := p.more()
		for next != "" {
			rows := b.get(next, "HX-Request", "true")
			if rows.status != http.StatusOK || strings.Contains(rows.body, "<html") {
				t.Fatalf("next page through htmx: %d, whole page %v", rows.status, strings.Contains(rows.body, "<html"))
			}
			for _, id := range rows.ids() {
				if seen[id] {
					t.Fatalf("entry %s shown twice", id)
				}
				seen[id] = true
			}
			next = rows.more()
		}
		if int64(len(seen)) != ws.total {
			t.Errorf("paged through %d entries of %d", len(seen), ws.total)
		}
		// Without htmx, the link is a page of its own.
		if whole := b.get(p.more()); whole.status != http.StatusOK || !strings.Contains(whole.body, "<html") {
			t.Errorf("next page as a page: %d", whole.status)
		}
	})

	for name, tc := range map[string]struct {
		query string
		check func(t *testing.T, p page)
	}{
		"action type": {"category=auth", func(t *testing.T, p page) {
			for _, a := range entryAction.FindAllStringSubmatch(p.body, -1) {
				if !strings.HasPrefix(a[1], "auth.") {
					t.Errorf("%s listed under login events", a[1])
				}
			}
			if len(p.ids()) == 0 {
				t.Error("no login events")
			}
		}},
		"yesterday": {"date=yesterday", func(t *testing.T, p page) {
			if n := len(p.ids()); n != 2 {
				t.Errorf("%d entries yesterday, want 2", n)
			}
		}},
		"today": {"date=today&category=asset", func(t *testing.T, p page) {
			if n := len(p.ids()); n < 2 {
				t.Errorf("%d asset entries today", n)
			}
		}},
		"resource": {"resource=asset:" + ws.asset, func(t *testing.T, p page) {
			if n := len(p.ids()); n != 2 {
				t.Errorf("%d entries of the asset, want 2", n)
			}
		}},
		"user": {"user=" + ws.owner.id + "&q=Paris", func(t *testing.T, p page) {
			if n := len(p.ids()); n != 1 {
				t.Errorf("%d entries by the owner about Paris, want 1", n)
			}
		}},
		"custom dates": {"from=2001-01-01&to=2001-01-02", func(t *testing.T, p page) {
			if n := len(p.ids()); n != 0 || !strings.Contains(p.body, "No activity matches.") {
				t.Errorf("%d entries in 2001", n)
			}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.get("/settings/activity-log?" + tc.query)
			if p.status != http.StatusOK {
				t.Fatalf("%d\n%s", p.status, p.body)
			}
			tc.check(t, p)
		})
	}

	for name, tc := range map[string]struct {
		query string
		says  []string
	}{
		"unreadable search": {"q=" + url.QueryEscape(`laptop -`), []string{`aria-invalid="true"`, "The search cannot be read", "At character 8", `<code class="query">laptop <mark>-</mark></code>`}},
		"unknown qualifier": {"q=" + url.QueryEscape(`colour:red`), []string{"The search cannot be read", "colour"}},
		"user not an id":    {"user=bob", []string{"<strong>User:</strong>", "is not a user id"}},
		"date preset":       {"date=fortnight", []string{"<strong>Date:</strong>"}},
		"to before from":    {"from=2026-02-02&to=2026-01-01", []string{"<strong>To:</strong>"}},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.get("/settings/activity-log?" + tc.query)
			if p.status != http.StatusBadRequest {
				t.Fatalf("%d, want 400\n%s", p.status, p.body)
			}
			for _, s := range tc.says {
				if !strings.Contains(p.body, s) {
					t.Errorf("the page does not say %s", s)
				}
			}
		})
	}

	t.Run("entry", func(t *testing.T) {
		d := b.get("/activity/"+ws.update, "HX-Request", "true")
		if d.status != http.StatusOK || strings.Contains(d.body, "<html") {
			t.Fatalf("entry through htmx: %d\n%s", d.status, d.body)
		}
		for _, want := range []string{"Changed fields", `<th scope="row">Location</th><td class="before"></td><td class="after">Paris</td>`, "Console Log Owner", "&lt;img src=x onerror=alert(1)&gt;", "Session", `href="/assets/` + ws.asset + `/history"`} {
			if !strings.Contains(d.body, want) {
				t.Errorf("the entry does not show %s", want)
			}
		}
		if whole := b.get("/activity/" + ws.update); whole.status != http.StatusOK || !strings.Contains(whole.body, "<html") || !strings.Contains(whole.body, "Changed fields") {
			t.Errorf("entry as a page: %d", whole.status)
		}
		if missing := b.get("/activity/0190f000-0000-7000-8000-00000000ffff"); missing.status != http.StatusNotFound {
			t.Errorf("unknown entry: %d", missing.status)
		}
	})

	t.Run("export", func(t *testing.T) {
		list := b.get("/settings/activity-log?category=asset&date=today")
		onScreen := list.ids()
		for next := list.more(); next != ""; {
			rows := b.get(next, "HX-Request", "true")
			onScreen = append(onScreen, rows.ids()...)
			next = rows.more()
		}
		ex := b.get("/settings/activity-log/export?format=csv&category=asset&date=today")
		if ex.status != http.StatusSeeOther || ex.header.Get("Location") != "/api/v1/activity/export?category=asset&format=csv&range=today" {
			t.Fatalf("export: %d to %q", ex.status, ex.header.Get("Location"))
		}
		file := b.get(ex.header.Get("Location"))
		if file.status != http.StatusOK {
			t.Fatalf("download: %d %s", file.status, file.body)
		}
		records, err := csv.NewReader(strings.NewReader(file.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(export.Columns, "id")
		if col < 0 {
			t.Fatalf("the CSV has no id column: %v", export.Columns)
		}
		var ids []string
		for _, r := range records[1:] {
			ids = append(ids, r[col])
		}
		if strings.Join(ids, ",") != strings.Join(onScreen, ",") {
			t.Errorf("the file holds %d entries, the screen %d:\n%v\n%v", len(ids), len(onScreen), ids, onScreen)
		}
		if bad := b.get("/settings/activity-log/export?format=xls"); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "format") {
			t.Errorf("export as xls: %d", bad.status)
		}
	})
	t.Run("generate report", func(t *testing.T) {
		log := b.get("/settings/activity-log?category=auth&date=7d")
		form := url.Values{"type": {"security"}, "category": {"auth"}, "date": {"7d"}}
		if p := b.post("/settings/activity-log/report", form); p.status != http.StatusForbidden {
			t.Errorf("a report asked for without the form token: %d", p.status)
		}
		form.Set("csrf", log.csrf(t))
		p := b.post("/settings/activity-log/report", form)
		if p.status != http.StatusCreated {
			t.Fatalf("generate: %d\n%s", p.status, p.body)
		}
		link := regexp.MustCompile(`href="(/api/v1/reports/[0-9a-f-]+/export\?format=pdf)"`).FindStringSubmatch(p.body)
		if link == nil {
			t.Fatalf("no download link:\n%s", p.body)
		}
		if file := b.get(link[1]); file.status != http.StatusOK || !strings.HasPrefix(file.body, "%PDF") {
			t.Errorf("download: %d", file.status)
		}
		form.Set("type", "weather")
		if bad := b.post("/settings/activity-log/report", form); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "<code>type</code>") {
			t.Errorf("an unknown report type: %d\n%s", bad.status, bad.body)
		}
	})
}
