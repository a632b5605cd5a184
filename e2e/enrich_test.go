package e2e

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestIndexedEventsAreLocatedAndTheirClientNamed creates an asset from a
// known address and browser and checks the indexed document: its location
// from the bundled table, its client from the user agent, and the index
// named with the mapping version.
func TestIndexedEventsAreLocatedAndTheirClientNamed(t *testing.T) {
	cfg := MustStack(t)
	cfg.HTTP.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Located")
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Travel laptop"}, map[string]string{
		"X-Forwarded-For": "203.0.113.77",
		"User-Agent":      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	}), "asset")

	var hit struct {
		Index  string                `json:"_index"`
		Source ingest.SearchDocument `json:"_source"`
	}
	url := cfg.OpenSearch.URLs[0] + "/" + activity.IndexAlias(cfg.OpenSearch.IndexPrefix) + "/_search?q=resource.id:" + asset
	stacktest.Eventually(t, "the asset.created event is indexed", func() bool {
		res, err := http.Get(url)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var out struct {
			Hits struct {
				Hits []json.RawMessage `json:"hits"`
			} `json:"hits"`
		}
		if json.NewDecoder(res.Body).Decode(&out) != nil || len(out.Hits.Hits) == 0 {
			return false
		}
		return json.Unmarshal(out.Hits.Hits[0], &hit) == nil
	})
	doc := hit.Source
	if loc := doc.Context.Location; loc == nil || loc.Country != "GB" || loc.City != "London" || loc.Network != "Example Telecom" {
		t.Errorf("location = %+v, want London, GB on Example Telecom", loc)
	}
	if want := (ingest.Client{Browser: "Safari", BrowserVersion: "17", OS: "macOS 14.4", Device: "desktop"}); doc.Client != want {
		t.Errorf("client = %+v, want %+v", doc.Client, want)
	}
	if hit.Index != activity.IndexName(cfg.OpenSearch.IndexPrefix, doc.OccurredAt) {
		t.Errorf("indexed into %s", hit.Index)
	}
}
