package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestTheRetentionRoleArchivesEntriesPastActiveRetention runs the API and
// the retention role, stores 20 entries of a workspace from about 100 days
// ago and 5 of a minute ago straight in the test's indices, and sets the
// workspace's active_log_days to 30: the role archives the old month, so
// that the log lists only the recent 5, the owner lists the month's
// manifest and downloads it, holding the 20 entries, and the role's
// metrics count the month.
func TestTheRetentionRoleArchivesEntriesPastActiveRetention(t *testing.T) {
	cfg := MustStack(t)
	cfg.Retention.Interval = time.Second
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRetention)
	owner := mustOwner(t, m, cfg, "Retained")

	mustPastActiveRetention(t, cfg, owner, time.Now())

	type file struct{ Name string }
	var manifests struct{ Files []file }
	stacktest.Eventually(t, "the old month archived and gone from the log", func() bool {
		var log struct{ Total int64 }
		owner.call("GET", "/api/v1/activity", nil, nil).decode(t, &log)
		owner.call("GET", "/api/v1/archive?kind=manifest", nil, nil).decode(t, &manifests)
		return log.Total == 5 && len(manifests.Files) == 1
	})
	var manifest struct {
		Entries     int64  `json:"entries"`
		ArchiveName string `json:"archive_name"`
	}
	owner.call("GET", "/api/v1/archive/"+manifests.Files[0].Name, nil, nil).decode(t, &manifest)
	if manifest.Entries != 20 || !strings.HasPrefix(manifest.ArchiveName, "retained/") {
		t.Errorf("manifest = %+v; want the 20 old entries in a retained file", manifest)
	}
	if a := owner.call("GET", "/api/v1/archive/"+manifest.ArchiveName, nil, nil); a.status != 200 || len(a.body) == 0 {
		t.Errorf("download the archived month: %d", a.status)
	}
	// The run counts its work once it ends, after the month is listed.
	stacktest.Eventually(t, "the ops address counting the archived month", func() bool {
		res, err := http.Get("http://" + m.OpsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return strings.Contains(string(body), "fluxera_retention_months_archived_total 1")
	})
}

// mustPastActiveRetention stores 20 entries of the owner's workspace from
// 100 days before now and 5 of a minute before straight in the test's
// indices, as the indexer stores them, and sets the workspace's
// active_log_days to 30, so that the old entries are past its active
// retention. It returns when the old entries occurred.
func mustPastActiveRetention(t *testing.T, cfg app.Config, owner member, now time.Time) time.Time {
	t.Helper()
	ctx := context.Background()
	osc, err := ingestos.NewClient(cfg.OpenSearch)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingestos.EnsureTemplate(ctx, osc, cfg.OpenSearch); err != nil {
		t.Fatal(err)
	}
	old := now.AddDate(0, 0, -100)
	docs := append(exportDocs(cfg.OpenSearch.IndexPrefix, owner.workspace, owner.id, old, 0, 20),
		exportDocs(cfg.OpenSearch.IndexPrefix, owner.workspace, owner.id, now.Add(-time.Minute), 0, 5)...)
	res, err := ingestos.NewSink(osc).Bulk(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	for i, item := range res.Items {
		if item != ingest.Indexed {
			t.Fatalf("document %d not indexed: %s", i, res.Reasons[i])
		}
	}
	if err := ingestos.Refresh(ctx, osc, cfg.OpenSearch.IndexPrefix); err != nil {
		t.Fatal(err)
	}
	if a := owner.call("PATCH", "/api/v1/settings", map[string]any{"active_log_days": 30}, nil); a.status != 200 {
		t.Fatalf("set active_log_days: %d %s", a.status, a.body)
	}
	return old
}
