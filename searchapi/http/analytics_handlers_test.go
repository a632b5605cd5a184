package http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/searchapi"
)

// recordingAnalyst answers every analysis with an empty result and keeps
// the filter it was given.
type recordingAnalyst struct {
	filter searchapi.AnalyticsFilter
	calls  int
}

func record[R any](a *recordingAnalyst, f searchapi.AnalyticsFilter) (R, error) {
	a.filter, a.calls = f, a.calls+1
	var r R
	return r, nil
}

func (a *recordingAnalyst) Heatmap(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.Heatmap, error) {
	return record[searchapi.Heatmap](a, f)
}
func (a *recordingAnalyst) Timeline(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.Timeline, error) {
	return record[searchapi.Timeline](a, f)
}
func (a *recordingAnalyst) TopUsers(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.TopUsers, error) {
	return record[searchapi.TopUsers](a, f)
}
func (a *recordingAnalyst) TopAssets(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.TopAssets, error) {
	return record[searchapi.TopAssets](a, f)
}
func (a *recordingAnalyst) Usage(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.Usage, error) {
	return record[searchapi.Usage](a, f)
}
func (a *recordingAnalyst) Logins(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.Logins, error) {
	return record[searchapi.Logins](a, f)
}
func (a *recordingAnalyst) PeakTimes(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.PeakTimes, error) {
	return record[searchapi.PeakTimes](a, f)
}
func (a *recordingAnalyst) Engagement(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.Engagement, error) {
	return record[searchapi.Engagement](a, f)
}
func (a *recordingAnalyst) Workflows(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.Workflows, error) {
	return record[searchapi.Workflows](a, f)
}
func (a *recordingAnalyst) TaskTimes(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.TaskTimes, error) {
	return record[searchapi.TaskTimes](a, f)
}
func (a *recordingAnalyst) Assignments(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.Assignments, error) {
	return record[searchapi.Assignments](a, f)
}
func (a *recordingAnalyst) TimeSpent(_ context.Context, _ activity.Principal, f searchapi.AnalyticsFilter) (searchapi.TimeSpent, error) {
	return record[searchapi.TimeSpent](a, f)
}

// analyticsApp serves the analytics routes to a Berlin workspace's member
// at a fixed moment, answering errors as code and field.
func analyticsApp(now time.Time) (*fiber.App, *recordingAnalyst) {
	a := &recordingAnalyst{}
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		status := fiber.StatusInternalServerError
		if activity.ErrorCode(err) == activity.EINVALID {
			status = fiber.StatusBadRequest
		}
		return c.Status(status).JSON(fiber.Map{"code": activity.ErrorCode(err), "field": activity.ErrorField(err), "message": activity.ErrorMessage(err)})
	}})
	app.Use(func(c *fiber.Ctx) error {
		c.SetUserContext(activity.WithPrincipal(c.UserContext(), activity.Principal{
			WorkspaceID: "w1", UserID: "u1", Role: activity.RoleMember, TimeZone: "Europe/Berlin",
		}))
		return c.Next()
	})
	(&analyticsHandlers{analyst: a, now: func() time.Time { return now }}).register(app.Group("/api/v1"))
	return app, a
}

func TestAnalyticsParameters(t *testing.T) {
	now, _ := time.Parse(time.RFC3339, "2026-03-29T15:00:00+02:00")
	tests := []struct {
		name       string
		path       string
		from, to   string
		limit      int
		byCategory bool
	}{
		{"last thirty days by default", "/api/v1/analytics/heatmap", "2026-02-28T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 10, false},
		{"today", "/api/v1/analytics/logins?range=today", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 10, false},
		{"dates", "/api/v1/analytics/usage?from=2026-03-01&to=2026-03-31", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 10, false},
		{"times", "/api/v1/analytics/peak-times?from=2026-03-01T08:00:00Z&to=2026-03-01T18:00:00%2B01:00", "2026-03-01T09:00:00+01:00", "2026-03-01T18:00:00+01:00", 10, false},
		{"split by category", "/api/v1/analytics/timeline?split=category&range=7d", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 10, true},
		{"limit", "/api/v1/analytics/top-users?limit=3", "2026-02-28T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 3, false},
		{"largest limit", "/api/v1/analytics/top-assets?limit=100&range=90d", "2025-12-30T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 100, false},
		{"time spent", "/api/v1/analytics/time-spent?range=today", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 10, false},
		{"time spent with an idle time", "/api/v1/analytics/time-spent?range=today&idle=240", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 10, false},
		{"engagement", "/api/v1/analytics/engagement?range=90d", "2025-12-30T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 10, false},
		{"workflows", "/api/v1/analytics/workflows?range=7d&limit=25", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 25, false},
		{"task times", "/api/v1/analytics/task-times?range=today", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 10, false},
		{"assignments", "/api/v1/analytics/assignments?range=30d&limit=5", "2026-02-28T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, a := analyticsApp(now)
			res, err := app.Test(httptest.NewRequest("GET", tt.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || a.calls != 1 {
				t.Fatalf("status %d after %d calls: %s", res.StatusCode, a.calls, body)
			}
			f := a.filter
			if got := f.Period.From.Format(time.RFC3339); got != tt.from {
				t.Errorf("from = %s, want %s", got, tt.from)
			}
			if got := f.Period.To.Format(time.RFC3339); got != tt.to {
				t.Errorf("to = %s, want %s", got, tt.to)
			}
			idle := searchapi.DefaultIdle
			if strings.Contains(tt.path, "idle=240") {
				idle = 4 * time.Hour
			}
			if f.Period.TimeZone != "Europe/Berlin" || f.Limit != tt.limit || f.ByCategory != tt.byCategory || f.Idle != idle {
				t.Errorf("filter = %+v", f)
			}
		})
	}
}

func TestAnalyticsRefusesBadParameters(t *testing.T) {
	now, _ := time.Parse(time.RFC3339, "2026-03-29T15:00:00+02:00")
	tests := []struct {
		name, path, field string
	}{
		{"unknown parameter", "/api/v1/analytics/heatmap?colour=red", "colour"},
		{"limit where there is none", "/api/v1/analytics/heatmap?limit=5", "limit"},
		{"split where there is none", "/api/v1/analytics/usage?split=category", "split"},
		{"unknown range", "/api/v1/analytics/timeline?range=1y", "range"},
		{"range twice", "/api/v1/analytics/timeline?range=7d&range=30d", "range"},
		{"empty from", "/api/v1/analytics/logins?from=&to=2026-03-01", "from"},
		{"bad date", "/api/v1/analytics/logins?from=2026-13-01&to=2026-12-01", "from"},
		{"to before from", "/api/v1/analytics/logins?from=2026-03-02&to=2026-03-01", "to"},
		{"over two years", "/api/v1/analytics/usage?from=2020-01-01&to=2026-01-01", "to"},
		{"range and from", "/api/v1/analytics/usage?from=2026-01-01&to=2026-01-02&range=7d", "range"},
		{"limit zero", "/api/v1/analytics/top-users?limit=0", "limit"},
		{"workflows limit over the most", "/api/v1/analytics/workflows?limit=101", "limit"},
		{"workflows limit not a number", "/api/v1/analytics/workflows?limit=ten", "limit"},
		{"task times take no limit", "/api/v1/analytics/task-times?limit=5", "limit"},
		{"task times unknown parameter", "/api/v1/analytics/task-times?task=maintenance", "task"},
		{"workflows bad range", "/api/v1/analytics/workflows?range=2d", "range"},
		{"assignments limit zero", "/api/v1/analytics/assignments?limit=0", "limit"},
		{"assignments unknown parameter", "/api/v1/analytics/assignments?user=u2", "user"},
		{"limit too large", "/api/v1/analytics/top-users?limit=101", "limit"},
		{"limit not a number", "/api/v1/analytics/top-assets?limit=ten", "limit"},
		{"huge limit", "/api/v1/analytics/top-assets?limit=99999999999999999999", "limit"},
		{"split by something else", "/api/v1/analytics/timeline?split=action", "split"},
		{"idle where there is none", "/api/v1/analytics/engagement?idle=30", "idle"},
		{"idle zero", "/api/v1/analytics/time-spent?idle=0", "idle"},
		{"idle too long", "/api/v1/analytics/time-spent?idle=241", "idle"},
		{"idle not minutes", "/api/v1/analytics/time-spent?idle=30m", "idle"},
		{"limit on the engagement", "/api/v1/analytics/engagement?limit=5", "limit"},
		{"NUL in a date", "/api/v1/analytics/heatmap?from=2026-03-01%00&to=2026-03-02", "from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, a := analyticsApp(now)
			res, err := app.Test(httptest.NewRequest("GET", tt.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Code, Field, Message string }
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			if res.StatusCode != 400 || body.Code != activity.EINVALID || body.Field != tt.field || body.Message == "" {
				t.Errorf("answer %d %+v, want 400 invalid %s", res.StatusCode, body, tt.field)
			}
			if a.calls != 0 {
				t.Errorf("the analyst was asked %d times", a.calls)
			}
		})
	}
}

// recordingTimer answers every alert response time with nothing and
// keeps the period it was asked for.
type recordingTimer struct {
	from, to time.Time
	calls    int
}

func (r *recordingTimer) AlertResponseTimes(_ context.Context, _ activity.Principal, from, to time.Time) (alert.ResponseTimes, error) {
	r.from, r.to, r.calls = from, to, r.calls+1
	return alert.ResponseTimes{From: from, To: to, Severities: []alert.Responses{}}, nil
}

// TestAlertResponseParameters asks for the alert response times as an
// owner and as a member: the period reaches the alerts' service, a member
// is refused before anything is read, and a bad parameter is named.
func TestAlertResponseParameters(t *testing.T) {
	now, _ := time.Parse(time.RFC3339, "2026-03-29T15:00:00+02:00")
	tests := []struct {
		name, role, path string
		status           int
		field, from, to  string
	}{
		{"last thirty days", activity.RoleOwner, "/api/v1/analytics/alert-response", 200, "", "2026-02-28T00:00:00+01:00", "2026-03-30T00:00:00+02:00"},
		{"dates", activity.RoleAdmin, "/api/v1/analytics/alert-response?from=2026-03-01&to=2026-03-31", 200, "", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"},
		{"member", activity.RoleMember, "/api/v1/analytics/alert-response", 403, "", "", ""},
		{"unknown parameter", activity.RoleOwner, "/api/v1/analytics/alert-response?severity=high", 400, "severity", "", ""},
		{"limit where there is none", activity.RoleOwner, "/api/v1/analytics/alert-response?limit=5", 400, "limit", "", ""},
		{"bad range", activity.RoleOwner, "/api/v1/analytics/alert-response?range=1y", 400, "range", "", ""},
		{"to before from", activity.RoleOwner, "/api/v1/analytics/alert-response?from=2026-03-02&to=2026-03-01", 400, "to", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timer := &recordingTimer{}
			app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
				status := fiber.StatusInternalServerError
				switch activity.ErrorCode(err) {
				case activity.EINVALID:
					status = fiber.StatusBadRequest
				case activity.EFORBIDDEN:
					status = fiber.StatusForbidden
				}
				return c.Status(status).JSON(fiber.Map{"code": activity.ErrorCode(err), "field": activity.ErrorField(err)})
			}})
			app.Use(func(c *fiber.Ctx) error {
				c.SetUserContext(activity.WithPrincipal(c.UserContext(), activity.Principal{
					WorkspaceID: "w1", UserID: "u1", Role: tt.role, TimeZone: "Europe/Berlin",
				}))
				return c.Next()
			})
			(&analyticsHandlers{analyst: &recordingAnalyst{}, alerts: timer, now: func() time.Time { return now }}).register(app.Group("/api/v1"))
			res, err := app.Test(httptest.NewRequest("GET", tt.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Code, Field string }
			json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != tt.status || body.Field != tt.field {
				t.Fatalf("answer %d %+v, want %d naming %q", res.StatusCode, body, tt.status, tt.field)
			}
			if tt.status != 200 {
				if timer.calls != 0 {
					t.Errorf("the alerts were read %d times", timer.calls)
				}
				return
			}
			if timer.calls != 1 || timer.from.Format(time.RFC3339) != tt.from || timer.to.Format(time.RFC3339) != tt.to {
				t.Errorf("asked %d times for %s – %s, want %s – %s", timer.calls, timer.from, timer.to, tt.from, tt.to)
			}
		})
	}
}
