package e2e

import (
	"net/http"
	"testing"

	"github.com/fluxera/activity/internal/app"
)

// TestAssetExportReadsItsFormat checks that the assets' export takes its
// one parameter as every other route takes its own: format=csv or nothing,
// and a format that is empty, given twice or anything else than csv is
// refused with 400 naming it.
func TestAssetExportReadsItsFormat(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Asset Export")
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"", http.StatusOK},
		{"?format=csv", http.StatusOK},
		{"?format=", http.StatusBadRequest},
		{"?format=csv&format=csv", http.StatusBadRequest},
		{"?format=pdf", http.StatusBadRequest},
		{"?filter=x", http.StatusBadRequest},
	} {
		a := owner.call("GET", "/api/v1/assets/export"+tc.query, nil, nil)
		if a.status != tc.status {
			t.Errorf("GET /api/v1/assets/export%s: %d %s, want %d", tc.query, a.status, a.body, tc.status)
			continue
		}
		if tc.status == http.StatusBadRequest {
			var e errorAnswer
			a.decode(t, &e)
			if e.Error.Code != "invalid" || (e.Error.Field != "format" && e.Error.Field != "filter") {
				t.Errorf("GET /api/v1/assets/export%s: %s, want invalid naming the parameter", tc.query, a.body)
			}
		}
	}
}
