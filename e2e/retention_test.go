package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
)

// TestOwnersSetRetentionAndPlaceLegalHoldsThroughTheAPI sets a workspace's
// active retention, deletes a past month, and places, lists and releases
// legal holds through the API as an owner: bad values, and deletions not
// wholly past retention, are refused with 400 naming the field, a hold
// released twice answers 409, and every answer is the one the OpenAPI
// document describes.
func TestOwnersSetRetentionAndPlaceLegalHoldsThroughTheAPI(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Retention")
	c := owner.client
	type failure struct {
		Error struct{ Code, Field string }
	}
	refused := func(a answer, status int, field string) {
		t.Helper()
		var f failure
		if a.status != status {
			t.Fatalf("status %d (%s); want %d", a.status, a.body, status)
		}
		if a.decode(t, &f); f.Error.Field != field {
			t.Errorf("error %s names %q; want %q", a.body, f.Error.Field, field)
		}
	}

	old := "/api/v1/activity?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z"
	refused(c.call("DELETE", old, nil, nil), 400, "to") // kept searchable indefinitely
	refused(c.call("DELETE", "/api/v1/activity?to=2025-02-01T00:00:00Z", nil, nil), 400, "from")
	refused(c.call("DELETE", "/api/v1/activity?from=yesterday&to=2025-02-01T00:00:00Z", nil, nil), 400, "from")
	refused(c.call("PATCH", "/api/v1/settings", map[string]any{"active_log_days": 7}, nil), 400, "active_log_days")
	refused(c.call("PATCH", "/api/v1/settings", map[string]any{"active_log_days": 9000}, nil), 400, "active_log_days")
	var st struct {
		Active int `json:"active_log_days"`
		Kept   int `json:"log_retention_days"`
	}
	c.call("GET", "/api/v1/settings", nil, nil).decode(t, &st)
	if st.Active != 0 || st.Kept != 2555 {
		t.Fatalf("new workspace: active_log_days %d, log_retention_days %d; want 0 (indefinite) and 2555", st.Active, st.Kept)
	}
	if a := c.call("PATCH", "/api/v1/settings", map[string]any{"active_log_days": 365}, nil); a.status != 200 {
		t.Fatalf("set active_log_days: %d %s", a.status, a.body)
	} else if a.decode(t, &st); st.Active != 365 {
		t.Fatalf("active_log_days = %d; want 365", st.Active)
	}

	refused(c.call("DELETE", "/api/v1/activity?from=2025-01-01T00:00:00Z&to="+time.Now().UTC().Format(time.RFC3339), nil, nil), 400, "to")
	var deleted struct {
		Deleted int64
		Kept    []any
	}
	if a := c.call("DELETE", old, nil, nil); a.status != 200 {
		t.Fatalf("delete a past month: %d %s", a.status, a.body)
	} else if a.decode(t, &deleted); deleted.Deleted != 0 || deleted.Kept == nil {
		t.Errorf("delete a month with nothing in it = %s", a.body)
	}

	refused(c.call("POST", "/api/v1/audit/holds", map[string]any{"reason": "audit"}, nil), 400, "from")
	refused(c.call("POST", "/api/v1/audit/holds", map[string]any{"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "reason": "audit"}, nil), 400, "to")
	refused(c.call("POST", "/api/v1/audit/holds", map[string]any{"user_id": owner.id}, nil), 400, "reason")
	refused(c.call("POST", "/api/v1/audit/holds", map[string]any{"from": "last week", "reason": "audit"}, nil), 400, "from")

	var hold struct {
		ID         string
		UserID     string `json:"user_id"`
		ReleasedAt string `json:"released_at"`
	}
	a := c.call("POST", "/api/v1/audit/holds", map[string]any{"user_id": owner.id, "from": "2026-01-01T00:00:00Z", "reason": "the owner's changes are disputed"}, nil)
	if a.status != 201 {
		t.Fatalf("place a hold: %d %s", a.status, a.body)
	}
	a.decode(t, &hold)
	if hold.UserID != owner.id || hold.ReleasedAt != "" {
		t.Fatalf("hold = %s", a.body)
	}
	var list struct {
		Holds []struct{ ID string }
	}
	if c.call("GET", "/api/v1/audit/holds", nil, nil).decode(t, &list); len(list.Holds) != 1 || list.Holds[0].ID != hold.ID {
		t.Fatalf("holds = %+v; want the one placed", list)
	}
	if a := c.call("POST", "/api/v1/audit/holds/"+hold.ID+"/release", nil, nil); a.status != 200 {
		t.Fatalf("release: %d %s", a.status, a.body)
	} else if a.decode(t, &hold); hold.ReleasedAt == "" {
		t.Errorf("released hold = %s; want released_at", a.body)
	}
	refused(c.call("POST", "/api/v1/audit/holds/"+hold.ID+"/release", nil, nil), 409, "")
}

// TestRetentionDefaultsAndLimitsAreThePlatforms runs the API with an
// operator's retention defaults and limits: a new workspace gets the
// defaults, the console's settings page states the limits, and a change
// outside them answers 400 naming the field and the bound, with nothing
// changed.
func TestRetentionDefaultsAndLimitsAreThePlatforms(t *testing.T) {
	cfg := MustStack(t)
	cfg.Postgres.Retention = domain.RetentionLimits{
		ActiveLog:      domain.RetentionBounds{Default: 365, Min: 90, Max: 730},
		Log:            domain.RetentionBounds{Default: 2557, Min: 365, Max: 3653},
		DeletedUserLog: domain.RetentionBounds{Default: 30, Min: 7, Max: 180},
	}
	m := MustStart(t, cfg, app.RoleAPI)
	c := mustOwner(t, m, cfg, "Retention limits").client
	type settings struct {
		Active  int `json:"active_log_days"`
		Kept    int `json:"log_retention_days"`
		Deleted int `json:"deleted_user_log_days"`
	}
	var st settings
	c.call("GET", "/api/v1/settings", nil, nil).decode(t, &st)
	if st != (settings{Active: 365, Kept: 2557, Deleted: 30}) {
		t.Fatalf("new workspace: %+v; want the platform's defaults 365, 2557 and 30", st)
	}
	for _, tt := range []struct {
		field string
		days  int
		says  string
	}{
		{"active_log_days", 60, "at least 90 days"},
		{"active_log_days", 800, "at most 730 days"},
		{"log_retention_days", 4000, "at most 3653 days"},
		{"log_retention_days", 300, "at least 365 days"},
		{"deleted_user_log_days", 181, "at most 180 days"},
		{"deleted_user_log_days", 1, "at least 7 days"},
	} {
		t.Run(tt.field+" "+strconv.Itoa(tt.days), func(t *testing.T) {
			a := c.call("PATCH", "/api/v1/settings", map[string]any{tt.field: tt.days}, nil)
			var f struct {
				Error struct{ Code, Field, Message string }
			}
			if a.status != 400 {
				t.Fatalf("status %d (%s); want 400", a.status, a.body)
			}
			if a.decode(t, &f); f.Error.Field != tt.field || !strings.Contains(f.Error.Message, tt.says) {
				t.Errorf("error %s; want one on %s saying %q", a.body, tt.field, tt.says)
			}
		})
	}
	// The console's settings page states the limits.
	page := c.call("GET", "/settings/workspace", nil, nil)
	for _, says := range []string{"otherwise 90 to 730 days", "365 to 3653 days", "7 to 180 days"} {
		if page.status != 200 || !strings.Contains(string(page.body), says) {
			t.Errorf("the settings page (%d) does not say %q", page.status, says)
		}
	}
	if a := c.call("PATCH", "/api/v1/settings", map[string]any{"active_log_days": 0, "log_retention_days": 3653, "deleted_user_log_days": 180}, nil); a.status != 200 {
		t.Fatalf("settings within the limits: %d %s", a.status, a.body)
	}
	c.call("GET", "/api/v1/settings", nil, nil).decode(t, &st)
	if st != (settings{Active: 0, Kept: 3653, Deleted: 180}) {
		t.Errorf("settings = %+v; want 0, 3653 and 180", st)
	}
}
