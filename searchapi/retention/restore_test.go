package retention_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/opensearch"
	"github.com/fluxera/activity/searchapi/retention"
)

// restoredIDs returns the ids of the entries of ws the index holds marked
// as restored by the restore id.
func restoredIDs(t *testing.T, f *opensearch.Finder, ws, id string) []string {
	t.Helper()
	var out []string
	p := activity.Principal{WorkspaceID: ws, Role: activity.RoleOwner, TimeZone: "UTC"}
	if _, err := f.ScanEvents(t.Context(), p, searchapi.EventFilter{From: "2000-01-01T00:00:00Z"}, func(e searchapi.Entry) error {
		if e.Restored != nil && e.Restored.ID == id {
			out = append(out, e.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// mustRestoreIndexer returns the indexer's write path for restored entries
// under the test's index prefix.
func mustRestoreIndexer(t *testing.T, prefix string) *ingestos.Restorer {
	t.Helper()
	client, err := ingestos.NewClient(ingestos.Config{URLs: []string{stacktest.OpenSearchURL()}, IndexPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return &ingestos.Restorer{Client: client, Prefix: prefix}
}

// TestAnArchivedPeriodIsRestoredForAWhileThenExpires runs the retention
// job on the real OpenSearch and PostgreSQL with a clock the test moves:
// January and February go to the archive; an owner restores January 1 to
// February 3, 02:00 for 7 days; the next run verifies both months against
// their manifests and indexes the period's 10 entries back, marked with
// the restore, and records it; the runs after it archive nothing again,
// and the archive and the index verify as one chain with no entry twice;
// once the clock passes the restore's expiry the run removes exactly its
// entries from the index, the archive keeps both months, and the expiry
// is recorded and counted. Bad periods, days out of bounds, a period with
// no archived month, non-owners and another workspace's restore are
// refused, and a restore ended while pending indexes nothing.
func TestAnArchivedPeriodIsRestoredForAWhileThenExpires(t *testing.T) {
	db := postgrestest.MustDB(t)
	hasher := argon2.Hasher{Params: postgrestest.Argon2}
	emailA, _ := postgrestest.MustWorkspace(t, db, hasher, "Restored")
	emailB, _ := postgrestest.MustWorkspace(t, db, hasher, "Elsewhere")
	owner, other := postgrestest.MustPrincipal(t, db, emailA), postgrestest.MustPrincipal(t, db, emailB)
	ws := owner.WorkspaceID
	ctx := t.Context()
	now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db.Now = clock
	active := 90
	if _, err := postgres.NewSettingsService(db).UpdateSettings(ctx, owner, domain.SettingsUpdate{ActiveLogDays: &active}); err != nil {
		t.Fatal(err)
	}
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
	jun := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	aJan, aFeb, aJun := events(ws, owner.UserID, jan, 8), events(ws, owner.UserID, feb, 5), events(ws, owner.UserID, jun, 3)
	key := []byte(strings.Repeat("r", audit.DigestKeySize))
	link(key, aJan, aFeb, aJun)
	finder, prefix := mustIndex(t, clock, slices.Concat(aJan, aFeb, aJun))
	archive := disk.Archive{Dir: t.TempDir()}
	restores := postgres.NewRestoreStore(db)
	reg := prometheus.NewRegistry()
	job := &retention.Job{
		Store: postgres.NewRetentionStore(db), Scanner: finder, Index: finder, Archive: archive, Now: clock,
		Restores: restores, Reindex: mustRestoreIndexer(t, prefix),
		Log: logrus.NewEntry(logrus.New()).WithField("component", "retention"), Metrics: retention.NewMetrics(reg),
	}
	if res, err := job.Run(ctx); err != nil || res.MonthsArchived != 2 || res.Archived != 13 {
		t.Fatalf("archive run = %+v, %v; want January and February archived", res, err)
	}
	if got := ids(t, finder, ws); !slices.Equal(got, idsOf(aJun)) {
		t.Fatalf("after archiving the index holds %d entries; want June's 3", len(got))
	}

	restorer := &retention.Restorer{Restores: restores, Archive: archive}
	admin := owner
	admin.Role = activity.RoleAdmin
	for name, c := range map[string]struct {
		p     activity.Principal
		req   retention.RestoreRequest
		code  string
		field string
	}{
		"an admin":                {admin, retention.RestoreRequest{From: jan, To: feb}, activity.EFORBIDDEN, ""},
		"a period ending first":   {owner, retention.RestoreRequest{From: feb, To: jan}, activity.EINVALID, "to"},
		"no period":               {owner, retention.RestoreRequest{To: feb}, activity.EINVALID, "from"},
		"a day too many":          {owner, retention.RestoreRequest{From: jan, To: feb, Days: domain.DefaultMaxRestoreDays + 1}, activity.EINVALID, "days"},
		"a period never archived": {owner, retention.RestoreRequest{From: jan.AddDate(-1, 0, 0), To: jan.AddDate(-1, 1, 0)}, activity.EINVALID, "from"},
		"June, still searchable":  {owner, retention.RestoreRequest{From: jun, To: jun.AddDate(0, 1, 0)}, activity.EINVALID, "from"},
		"another workspace's":     {other, retention.RestoreRequest{From: jan, To: feb}, activity.EINVALID, "from"},
	} {
		_, err := restorer.Create(ctx, c.p, c.req)
		if activity.ErrorCode(err) != c.code || activity.ErrorField(err) != c.field {
			t.Errorf("%s: %v (code %s, field %q); want %s naming %q", name, err, activity.ErrorCode(err), activity.ErrorField(err), c.code, c.field)
		}
	}

	to := feb.Add(2 * time.Hour)
	r, err := restorer.Create(ctx, owner, retention.RestoreRequest{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: to})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != domain.RestorePending || r.Days != domain.DefaultRestoreDays || !slices.Equal(r.Months, []string{"2026-01", "2026-02"}) || !r.ExpiresAt.Equal(now.AddDate(0, 0, 7)) {
		t.Fatalf("restore = %+v; want pending, 7 days, January and February, expiring a week from now", r)
	}
	if _, err := restorer.Create(ctx, owner, retention.RestoreRequest{From: jan, To: jan.AddDate(0, 0, 1)}); activity.ErrorCode(err) != activity.ECONFLICT {
		t.Errorf("restore a period already pending: %v; want a conflict", err)
	}
	if _, err := restorer.End(ctx, other, r.ID); activity.ErrorCode(err) != activity.ENOTFOUND {
		t.Errorf("another workspace's owner ends the restore: %v; want not found", err)
	}
	ended, err := restorer.Create(ctx, owner, retention.RestoreRequest{From: to, To: feb.AddDate(0, 0, 1), Days: 2})
	if err != nil {
		t.Fatal(err)
	}
	if ended, err = restorer.End(ctx, owner, ended.ID); err != nil || ended.Status != domain.RestoreExpired {
		t.Fatalf("end a pending restore = %+v, %v; want it expired at once", ended, err)
	}
	if _, err := restorer.End(ctx, owner, ended.ID); activity.ErrorCode(err) != activity.ECONFLICT {
		t.Errorf("end it twice: %v; want a conflict", err)
	}

	// The role handles restores between its runs: RunRestores indexes the
	// pending one alone, under the job's lease.
	now = now.Add(time.Hour)
	res, err := job.RunRestores(ctx)
	if err != nil || res.Restores != 1 || res.Restored != 10 || res.MonthsArchived != 0 {
		t.Fatalf("restore run = %+v, %v; want one restore of 10 entries and nothing archived", res, err)
	}
	want := idsOf(aJan, aFeb[:2])
	if got := restoredIDs(t, finder, ws, r.ID); !slices.Equal(got, want) {
		t.Errorf("restored entries = %d; want January's 8 and February's first 2", len(got))
	}
	if got := ids(t, finder, ws); !slices.Equal(got, idsOf(aJan, aFeb[:2], aJun)) {
		t.Errorf("the index holds %d entries; want the 10 restored and June's 3", len(got))
	}
	if got := restoredIDs(t, finder, ws, ended.ID); len(got) != 0 {
		t.Errorf("the restore ended while pending indexed %d entries", len(got))
	}
	list, err := restorer.List(ctx, owner)
	if err != nil || len(list) != 2 || list[1].ID != r.ID || list[1].Status != domain.RestoreRestored || list[1].Entries != 10 {
		t.Fatalf("restores = %+v, %v; want the restore restored with 10 entries", list, err)
	}
	if _, err := restorer.List(ctx, admin); activity.ErrorCode(err) != activity.EFORBIDDEN {
		t.Errorf("an admin lists restores: %v; want forbidden", err)
	}

	// Restored entries are archived already: later runs leave them.
	if res, err := job.Run(ctx); err != nil || res.MonthsArchived != 0 || res.Deleted != 0 || res.Restores != 0 {
		t.Errorf("run over the restored period = %+v, %v; want nothing to do", res, err)
	}
	if ms, _ := retention.Manifests(ctx, archive, ws); len(ms) != 2 {
		t.Errorf("%d archived months; want still 2", len(ms))
	}
	chain := searchapi.ChainIndex{Reader: finder}
	verifier := audit.Verifier{DigestKey: key, Whole: true}
	if got, err := verifier.Verify(ctx, ws, retention.WithArchive{Archive: archive, Index: chain}.Entries(ws, 0, 0)); err != nil || !got.OK || got.Entries != 16 {
		t.Errorf("verify with the period restored = %+v, %v; want the 16 entries whole, each once", got, err)
	}

	now = r.ExpiresAt.Add(time.Minute)
	res, err = job.Run(ctx)
	if err != nil || res.RestoresExpired != 1 || res.RestoredRemoved != 10 {
		t.Fatalf("expiry run = %+v, %v; want the restore's 10 entries removed", res, err)
	}
	if got := ids(t, finder, ws); !slices.Equal(got, idsOf(aJun)) {
		t.Errorf("after expiry the index holds %d entries; want June's 3", len(got))
	}
	if ms, _ := retention.Manifests(ctx, archive, ws); len(ms) != 2 {
		t.Errorf("after expiry %d archived months; want still 2", len(ms))
	}
	if got, err := verifier.Verify(ctx, ws, retention.WithArchive{Archive: archive, Index: chain}.Entries(ws, 0, 0)); err != nil || !got.OK || got.Entries != 16 {
		t.Errorf("verify after expiry = %+v, %v; want the 16 entries whole", got, err)
	}
	if list, _ := restorer.List(ctx, owner); list[1].Status != domain.RestoreExpired || list[1].Removed != 10 {
		t.Errorf("restore after expiry = %+v; want expired with 10 removed", list[1])
	}
	names, details := actions(t, db, ws)
	wantNames := []string{domain.ActionArchiveRestoreRequested, domain.ActionArchiveRestoreRequested, domain.ActionArchiveRestoreEnded,
		domain.ActionArchiveRestored, domain.ActionArchiveRestoreExpired}
	if i := slices.Index(names, domain.ActionArchiveRestoreRequested); i < 0 || !slices.Equal(names[i:], wantNames) {
		t.Fatalf("recorded %v; want them to end with %v", names, wantNames)
	}
	n := len(names)
	if d := details[n-2]; d["entries_restored"] != 10.0 || d["restore_id"] != r.ID {
		t.Errorf("system.archive_restored details = %v", d)
	}
	if d := details[n-1]; d["entries_removed"] != 10.0 || d["restore_id"] != r.ID {
		t.Errorf("system.archive_restore_expired details = %v", d)
	}
	for outcome, want := range map[string]float64{"restored": 10, "restore_removed": 10} {
		if got := testutil.ToFloat64(job.Metrics.Entries.WithLabelValues(outcome)); got != want {
			t.Errorf("fluxera_retention_entries_total{outcome=%q} = %v; want %v", outcome, got, want)
		}
	}
	if got := testutil.ToFloat64(job.Metrics.Restores.WithLabelValues("expired")); got != 1 {
		t.Errorf("fluxera_retention_restores_total{outcome=\"expired\"} = %v; want 1", got)
	}
}

// TestARestoreOfAnAlteredMonthFailsAndRestoresNothing archives two months,
// alters the file of one of them on disk, and restores both: the job
// verifies every month against its manifest before it indexes anything,
// so the restore fails with the reason, nothing of it is searchable, and
// the failure is recorded.
func TestARestoreOfAnAlteredMonthFailsAndRestoresNothing(t *testing.T) {
	db := postgrestest.MustDB(t)
	email, _ := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, "Altered archive")
	owner := postgrestest.MustPrincipal(t, db, email)
	ws := owner.WorkspaceID
	ctx := t.Context()
	now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db.Now = clock
	active := 90
	if _, err := postgres.NewSettingsService(db).UpdateSettings(ctx, owner, domain.SettingsUpdate{ActiveLogDays: &active}); err != nil {
		t.Fatal(err)
	}
	jan, feb := events(ws, owner.UserID, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), 4), events(ws, owner.UserID, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), 4)
	link([]byte(strings.Repeat("x", audit.DigestKeySize)), jan, feb)
	finder, prefix := mustIndex(t, clock, slices.Concat(jan, feb))
	dir := t.TempDir()
	archive := disk.Archive{Dir: dir}
	restores := postgres.NewRestoreStore(db)
	job := &retention.Job{
		Store: postgres.NewRetentionStore(db), Scanner: finder, Index: finder, Archive: archive, Now: clock,
		Restores: restores, Reindex: mustRestoreIndexer(t, prefix),
		Log: logrus.NewEntry(logrus.New()).WithField("component", "retention"),
	}
	if res, err := job.Run(ctx); err != nil || res.MonthsArchived != 2 {
		t.Fatalf("archive run = %+v, %v; want both months archived", res, err)
	}
	manifests, err := retention.Manifests(ctx, archive, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifests {
		if m.Month == "2026-02" {
			path := filepath.Join(dir, ws, filepath.FromSlash(m.ArchiveName))
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw[len(raw)/2] ^= 0xff
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := (&retention.Restorer{Restores: restores, Archive: archive}).Create(ctx, owner, retention.RestoreRequest{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if res, err := job.Run(ctx); err != nil || res.Restores != 0 || res.Restored != 0 {
		t.Errorf("restore run = %+v, %v; want nothing restored", res, err)
	}
	if got := ids(t, finder, ws); len(got) != 0 {
		t.Errorf("%d entries searchable; want none of a failed restore", len(got))
	}
	list, err := restores.ListRestores(ctx, owner)
	if err != nil || len(list) != 1 || list[0].ID != r.ID || list[0].Status != domain.RestoreFailed || !strings.Contains(list[0].Error, "2026-02 does not match its manifest") {
		t.Fatalf("restores = %+v, %v; want the restore failed on February's manifest", list, err)
	}
	names, details := actions(t, db, ws)
	if n := len(names); names[n-1] != domain.ActionArchiveRestored || details[n-1]["error"] == nil {
		t.Errorf("recorded %v, last with %v; want system.archive_restored with the error", names, details[n-1])
	}
	if res, err := job.Run(ctx); err != nil || res.Restores != 0 {
		t.Errorf("a run after the failure = %+v, %v; want the failed restore left alone", res, err)
	}
}
