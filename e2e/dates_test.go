package e2e

import (
	"net/http"
	"testing"

	"github.com/fluxera/activity/internal/app"
)

// TestYearZeroIsRefused sends every date field the day 0000-03-06, which
// Go reads but the calendar and PostgreSQL do not have: each is refused
// with 400, never a server error.
func TestYearZeroIsRefused(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Year Zero")
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Old laptop"}, nil), "asset")
	license := mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Old license", "seats": 1, "expires_on": "2027-01-01"}, nil), "license")
	const zero = "0000-03-06"
	for _, tc := range []struct {
		method, path, field string
		body                map[string]any
	}{
		{"POST", "/api/v1/assets", "purchase_date", map[string]any{"name": "Dated laptop", "purchase_date": zero}},
		{"PATCH", "/api/v1/assets/" + asset, "purchase_date", map[string]any{"purchase_date": zero}},
		{"POST", "/api/v1/assets/" + asset + "/maintenance", "scheduled_for", map[string]any{"scheduled_for": zero, "description": "clean"}},
		{"POST", "/api/v1/licenses", "expires_on", map[string]any{"name": "Dated license", "seats": 1, "expires_on": zero}},
		{"PATCH", "/api/v1/licenses/" + license, "expires_on", map[string]any{"expires_on": zero}},
		{"PUT", "/api/v1/licenses/" + license + "/expiration", "expires_on", map[string]any{"expires_on": zero}},
		{"POST", "/api/v1/licenses/" + license + "/renew", "expires_on", map[string]any{"expires_on": zero}},
	} {
		t.Run(tc.method+" "+tc.field, func(t *testing.T) {
			a := owner.call(tc.method, tc.path, tc.body, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Code != "invalid" {
				t.Errorf("%s %s with %s %s: %d %s, want 400 invalid", tc.method, tc.path, tc.field, zero, a.status, a.body)
			}
		})
	}
}
