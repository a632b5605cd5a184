package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestPDFsTakeTextBeyondTheBasicPlane names an asset with characters
// beyond U+FFFF (U+10000 and an emoji) and downloads the activity log and
// an asset report as PDFs: both are written, never a server error.
func TestPDFsTakeTextBeyondTheBasicPlane(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Emoji \U00010000")
	name := "Laptop \U00010000 💻 " + stacktest.RandomID()
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": name, "note": "for 😀"}, nil), "asset")
	owner.call("PATCH", "/api/v1/assets/"+asset, map[string]string{"location": "Desk \U0001F4BC"}, nil)
	stacktest.Eventually(t, "the asset's entries are indexed", func() bool {
		var page struct{ Total int }
		owner.call("GET", "/api/v1/assets/"+asset+"/history", nil, nil).decode(t, &page)
		return page.Total == 2
	})
	for _, path := range []string{"/api/v1/activity/export?format=pdf", "/api/v1/assets/" + asset + "/history/export?format=pdf"} {
		a := owner.call("GET", path, nil, nil)
		if a.status != http.StatusOK || !strings.HasPrefix(string(a.body), "%PDF-") {
			t.Errorf("GET %s: %d %.200s", path, a.status, a.body)
		}
	}
	report := mustID(t, owner.call("POST", "/api/v1/reports", map[string]string{"type": "asset", "range": "7d"}, nil), "report")
	a := owner.call("GET", "/api/v1/reports/"+report+"/export?format=pdf", nil, nil)
	if a.status != http.StatusOK || !strings.HasPrefix(string(a.body), "%PDF-") {
		t.Errorf("the asset report as PDF: %d %.200s", a.status, a.body)
	}
}
