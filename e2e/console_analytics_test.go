package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// analyticsEvents are a workspace's known events of the last two days: a
// few people's sessions that repeat the same workflow, assets created and
// assigned hours later, a maintenance scheduled and completed, and the
// people's logins.
func analyticsEvents(ws string, owner member) []activity.Event {
	now := time.Now().Add(-3 * time.Hour)
	var out []activity.Event
	add := func(actor activity.Actor, action, session, resource string, at time.Time) {
		e := activity.NewEvent(ws, action, at)
		e.Actor = actor
		e.Resource = activity.Resource{Type: strings.Split(action, ".")[0], ID: resource, Name: "Thing " + resource[len(resource)-4:]}
		e.Context = activity.Context{IP: "192.0.2.7", Method: activity.MethodWeb, SessionID: session, TimeZone: "Europe/Berlin"}
		out = append(out, e)
	}
	people := []activity.Actor{{ID: owner.id, Email: owner.email, Name: "Analytics Owner", Role: activity.RoleOwner, Type: activity.ActorUser}}
	for i := range 3 {
		people = append(people, activity.Actor{ID: activity.NewEventID(), Email: fmt.Sprintf("analyst-%d@example.com", i), Name: fmt.Sprintf("Analyst %d", i), Role: activity.RoleMember, Type: activity.ActorUser})
	}
	for i, p := range people {
		for s := range 1 + i {
			session := activity.NewEventID()
			at := now.Add(-time.Duration(i*7+s*3) * time.Hour)
			add(p, "auth.login", session, activity.NewEventID(), at)
			for k, action := range []string{"asset.updated", "asset.assigned", "license.key_viewed", "asset.updated", "asset.assigned"} {
				add(p, action, session, activity.NewEventID(), at.Add(time.Duration(k+1)*time.Minute))
			}
			add(p, "auth.logout", session, activity.NewEventID(), at.Add(20*time.Minute))
		}
	}
	for i := range 4 {
		asset := activity.NewEventID()
		at := now.Add(-time.Duration(30+i) * time.Hour)
		add(people[0], "asset.created", "", asset, at)
		add(people[1], "asset.assigned", "", asset, at.Add(time.Duration(i+1)*time.Hour))
	}
	asset := activity.NewEventID()
	add(people[2], "asset.maintenance_scheduled", "", asset, now.Add(-40*time.Hour))
	add(people[2], "asset.maintenance_completed", "", asset, now.Add(-16*time.Hour))
	add(people[0], "license.renewed", "", activity.NewEventID(), now.Add(-5*time.Hour))
	out[len(out)-1].Changes = []activity.Change{{Field: "expires_on", Before: now.AddDate(0, 0, 10).Format(time.DateOnly), After: now.AddDate(1, 0, 10).Format(time.DateOnly)}}
	return out
}

// chartTable reads the rows of the table id on the page, each as its cells'
// text.
func chartTable(b *tab, id string) [][]string {
	return eval[[][]string](b, `[...document.querySelectorAll('#`+id+` tbody tr')].map(r => [...r.cells].map(c => c.textContent.trim()))`)
}

// TestConsoleAnalyticsInTheBrowser opens Settings › Activity Analytics in
// chromium for a workspace with known events: each analysis type draws
// its charts (a canvas in each), the tables beside them hold the API's
// figures, the links keep the type and period in the URL, no page breaks
// its CSP, axe-core finds no serious or critical violation, and the
// screens are photographed into docs/screenshots.
func TestConsoleAnalyticsInTheBrowser(t *testing.T) {
	stacktest.MustChromium(t)
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Console Analytics")
	events := analyticsEvents(owner.workspace, owner)
	mustWriteEvents(t, cfg, events)
	var usage searchapi.Usage
	stacktest.Eventually(t, "the workspace's events are indexed", func() bool {
		owner.call("GET", "/api/v1/analytics/usage?range=7d", nil, nil).decode(t, &usage)
		return usage.Total >= int64(len(events))
	})
	if err := os.MkdirAll(filepath.Join("..", "docs", "screenshots"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := mustTab(t, m)
	b.signIn(owner.email, owner.password, "/settings/activity-log")
	// The sign-in is an action too: the figures are compared once it is
	// indexed.
	before := usage.Total
	stacktest.Eventually(t, "the sign-in is indexed", func() bool {
		owner.call("GET", "/api/v1/analytics/usage?range=7d", nil, nil).decode(t, &usage)
		return usage.Total > before
	})

	// drawn opens one analysis and waits until each of its charts with
	// figures is drawn on a canvas.
	drawn := func(t *testing.T, path string) {
		b.t = t
		b.open(path)
		b.waitFor("the charts are drawn", `document.getElementById('analytics').dataset.charts === 'drawn'`)
		charts := eval[int](b, `document.querySelectorAll('.chart:not([hidden])').length`)
		canvases := eval[int](b, `document.querySelectorAll('.chart:not([hidden]) canvas').length`)
		if charts == 0 || canvases < charts {
			t.Errorf("%s: %d charts, %d canvases", path, charts, canvases)
		}
		b.clean()
		b.axe()
	}

	t.Run("feature usage", func(t *testing.T) {
		drawn(t, "/settings/analytics?type=usage&range=7d")
		want := map[string]string{}
		for _, c := range usage.Categories {
			want[c.Category] = strconv.FormatInt(c.Count, 10)
		}
		got := map[string]string{}
		for _, r := range chartTable(b, "table-usage-categories") {
			got[r[0]] = r[1]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("the page's categories %v, the API's %v", got, want)
		}
		if n := len(chartTable(b, "table-usage-actions")); n != len(usage.Actions) {
			t.Errorf("the page lists %d actions, the API %d", n, len(usage.Actions))
		}
		b.screenshot("analytics-usage", 1440, true)
	})

	t.Run("heatmap", func(t *testing.T) {
		drawn(t, "/settings/analytics?type=activity&range=7d")
		var h searchapi.Heatmap
		owner.call("GET", "/api/v1/analytics/heatmap?range=7d", nil, nil).decode(t, &h)
		rows := chartTable(b, "table-heatmap")
		if len(rows) != 7 {
			t.Fatalf("the heatmap has %d rows", len(rows))
		}
		for d, row := range rows {
			for hr := range 24 {
				if row[1+hr] != strconv.FormatInt(h.Counts[d][hr], 10) {
					t.Errorf("day %d hour %d: the page shows %s, the API %d", d+1, hr, row[1+hr], h.Counts[d][hr])
				}
			}
		}
		// The period's links keep the type.
		if href := eval[string](b, `document.querySelector('.periods a[href*="range=30d"]').getAttribute('href')`); !strings.Contains(href, "type=activity") {
			t.Errorf("the 30 days' link %s loses the type", href)
		}
		b.screenshot("analytics-heatmap", 1440, true)
		b.screenshot("analytics-heatmap-390px", 390, false)
	})

	t.Run("insights", func(t *testing.T) {
		drawn(t, "/settings/analytics?type=insights&range=7d")
		var w searchapi.Workflows
		owner.call("GET", "/api/v1/analytics/workflows?range=7d", nil, nil).decode(t, &w)
		rows := chartTable(b, "table-workflows")
		if len(rows) != len(w.Pairs) || len(rows) == 0 {
			t.Fatalf("the page lists %d workflows, the API %d", len(rows), len(w.Pairs))
		}
		for i, s := range w.Pairs {
			if rows[i][0] != strings.Join(s.Actions, " → ") || rows[i][1] != strconv.FormatInt(s.Count, 10) {
				t.Errorf("workflow %d: the page shows %v, the API %v", i, rows[i], s)
			}
		}
		var tt searchapi.TaskTimes
		owner.call("GET", "/api/v1/analytics/task-times?range=7d", nil, nil).decode(t, &tt)
		rows = chartTable(b, "table-task-times")
		for i, task := range tt.Tasks {
			if rows[i][1] != strconv.FormatFloat(task.MedianMinutes, 'g', -1, 64) {
				t.Errorf("task %s: the page's median %s, the API's %v", task.Task, rows[i][1], task.MedianMinutes)
			}
		}
		if tt.Tasks[0].Completed != 4 || tt.Tasks[1].Completed != 1 {
			t.Errorf("tasks %+v", tt.Tasks)
		}
		var as searchapi.Assignments
		owner.call("GET", "/api/v1/analytics/assignments?range=7d", nil, nil).decode(t, &as)
		rows = chartTable(b, "table-assignment-days")
		for d, n := range as.Days {
			if rows[d][1] != strconv.FormatInt(n, 10) {
				t.Errorf("assignments on day %d: the page shows %s, the API %d", d+1, rows[d][1], n)
			}
		}
		if tt.Renewals.Count != 1 || tt.Renewals.Lapsed != 0 || !eval[bool](b, `document.body.innerText.includes('renewed a median of `+strconv.FormatFloat(tt.Renewals.MedianDays, 'f', 1, 64)+` days')`) {
			t.Errorf("renewals %+v not shown", tt.Renewals)
		}
		if as.Total != 24 {
			t.Errorf("%d assignments, want 24", as.Total)
		}
		b.screenshot("analytics-insights", 1440, true)
	})

	for _, typ := range []string{"engagement", "trends"} {
		t.Run(typ, func(t *testing.T) {
			drawn(t, "/settings/analytics?type="+typ+"&range=7d")
			b.screenshot("analytics-"+typ, 1440, true)
		})
	}

	t.Run("a member sees their own", func(t *testing.T) {
		b.t = t
		mate := mustRoleMember(t, m, owner.client, activity.RoleMember)
		a := mate.call("GET", "/settings/analytics?type=insights&range=7d", nil, nil)
		if a.status != http.StatusOK || !strings.Contains(string(a.body), "Your own activity") || strings.Contains(string(a.body), "Alert response times") {
			t.Errorf("a member's insights: %d %s", a.status, a.body)
		}
		var data struct {
			Charts []struct {
				ID     string
				Labels []string
			}
		}
		mate.call("GET", "/settings/analytics/data?type=insights&range=7d", nil, nil).decode(t, &data)
		for _, c := range data.Charts {
			if c.ID == "workflows" && len(c.Labels) != 0 {
				t.Errorf("a member without sessions is shown workflows %v", c.Labels)
			}
		}
	})

	t.Run("a bad period is named", func(t *testing.T) {
		b.t = t
		res := newClient(t, m)
		res.mustLogin(owner.email, owner.password)
		for _, q := range []string{"range=1y", "type=pie", "from=2026-13-01&to=2026-12-01", "colour=red"} {
			a := res.call("GET", "/settings/analytics?"+q, nil, nil)
			if a.status != http.StatusBadRequest {
				t.Errorf("%s answers %d", q, a.status)
			}
		}
	})
}
