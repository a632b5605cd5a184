package e2e

import (
	"net/http"
	"testing"

	"github.com/fluxera/activity/internal/app"
)

// TestYearZeroIsRefused sends every date field the day 0000-03-06, which
// Go reads but the calendar and PostgreSQL do not have: each is refused
// with 400 naming the field, never a server error.
func TestYearZeroIsRefused(t *testing.T) {
	checkBadDates(t, "0000-03-06")
}

// TestBadDatesAreRefusedNamingTheField sends every date field a day that
// does not exist, a date in another form and a word, and an API token's
// expiry a time that is not RFC 3339: each is refused with 400 whose error
// names the field, and nothing is written.
func TestBadDatesAreRefusedNamingTheField(t *testing.T) {
	owner := checkBadDates(t, "2026-02-30", "01/12/2026", "tomorrow")
	for _, bad := range []string{"2026-12-01", "2026-13-01T00:00:00Z", "soon"} {
		a := owner.call("POST", "/api/v1/tokens", map[string]any{"name": "dated", "scopes": []string{"activity:read"}, "expires_at": bad}, nil)
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusBadRequest || e.Error.Code != "invalid" || e.Error.Field != "expires_at" {
			t.Errorf("POST /api/v1/tokens with expires_at %q: %d %s, want 400 invalid on expires_at", bad, a.status, a.body)
		}
	}
	var list struct {
		Tokens []any `json:"tokens"`
	}
	owner.call("GET", "/api/v1/tokens", nil, nil).decode(t, &list)
	if len(list.Tokens) != 0 {
		t.Errorf("refused tokens were made: %d", len(list.Tokens))
	}
}

// checkBadDates sends each of values in every date field of the API and
// checks that each is refused with 400 naming the field. It returns the
// owner of the workspace it used.
func checkBadDates(t *testing.T, values ...string) member {
	t.Helper()
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Dates")
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Old laptop"}, nil), "asset")
	license := mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Old license", "seats": 1, "expires_on": "2027-01-01"}, nil), "license")
	for _, bad := range values {
		for _, tc := range []struct {
			method, path, field string
			body                map[string]any
		}{
			{"POST", "/api/v1/assets", "purchase_date", map[string]any{"name": "Dated laptop", "purchase_date": bad}},
			{"PATCH", "/api/v1/assets/" + asset, "purchase_date", map[string]any{"purchase_date": bad}},
			{"POST", "/api/v1/assets/" + asset + "/maintenance", "scheduled_for", map[string]any{"scheduled_for": bad, "description": "clean"}},
			{"POST", "/api/v1/licenses", "expires_on", map[string]any{"name": "Dated license", "seats": 1, "expires_on": bad}},
			{"PATCH", "/api/v1/licenses/" + license, "expires_on", map[string]any{"expires_on": bad}},
			{"PUT", "/api/v1/licenses/" + license + "/expiration", "expires_on", map[string]any{"expires_on": bad}},
			{"POST", "/api/v1/licenses/" + license + "/renew", "expires_on", map[string]any{"expires_on": bad}},
		} {
			t.Run(tc.method+" "+tc.field+" "+bad, func(t *testing.T) {
				a := owner.call(tc.method, tc.path, tc.body, nil)
				var e errorAnswer
				a.decode(t, &e)
				if a.status != http.StatusBadRequest || e.Error.Code != "invalid" || e.Error.Field != tc.field {
					t.Errorf("%s %s with %s %s: %d %s, want 400 invalid on %s", tc.method, tc.path, tc.field, bad, a.status, a.body, tc.field)
				}
			})
		}
	}
	// Nothing was written: the workspace holds its one asset and license.
	for _, list := range []string{"/api/v1/assets", "/api/v1/licenses"} {
		var page map[string]any
		owner.call("GET", list, nil, nil).decode(t, &page)
		for key, v := range page {
			if items, ok := v.([]any); ok && len(items) != 1 {
				t.Errorf("GET %s: %s holds %d, want the one made before", list, key, len(items))
			}
		}
	}
	return owner
}
