package retention_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/domain/s3"
	"github.com/fluxera/activity/ingest/opensearch/ostest"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/opensearch"
	"github.com/fluxera/activity/searchapi/retention"
	"github.com/sirupsen/logrus"
)

// actions returns the actions recorded in the outbox of workspace ws,
// oldest first, with their details.
func actions(t *testing.T, db *postgres.DB, ws string) ([]string, []map[string]any) {
	t.Helper()
	var payloads []string
	if err := db.NewSelect().TableExpr("outbox").ColumnExpr("payload::text").Where("workspace_id = ?", ws).OrderExpr("seq").Scan(t.Context(), &payloads); err != nil {
		t.Fatal(err)
	}
	var names []string
	var details []map[string]any
	for _, raw := range payloads {
		var e activity.Event
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Action)
		details = append(details, e.Details)
	}
	return names, details
}

// events returns n asset updates of workspace ws by actor from start, an
// hour apart.
func events(ws, actor string, start time.Time, n int) []activity.Event {
	out := make([]activity.Event, n)
	for i := range out {
		e := activity.NewEvent(ws, "asset.updated", start.Add(time.Duration(i)*time.Hour))
		e.Actor = activity.Actor{ID: actor, Name: "Ann Lee", Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Laptop %d", i)}
		out[i] = e
	}
	return out
}

// mustIndex stores events under an index prefix of the test's own on the
// real OpenSearch and returns a finder over it that reads the clock now.
func mustIndex(t *testing.T, now func() time.Time, evs []activity.Event) (*opensearch.Finder, string) {
	t.Helper()
	client, cfg := ostest.MustIndices(t, "retention")
	ostest.MustIndex(t, client, cfg, evs)
	return opensearch.NewFinder(client, cfg.IndexPrefix, opensearch.WithClock(now)), cfg.IndexPrefix
}

// ids returns the ids of the entries of ws the index holds.
func ids(t *testing.T, f *opensearch.Finder, ws string) []string {
	t.Helper()
	var out []string
	p := activity.Principal{WorkspaceID: ws, Role: activity.RoleOwner, TimeZone: "UTC"}
	if _, err := f.ScanEvents(t.Context(), p, searchapi.EventFilter{From: "2000-01-01T00:00:00Z"}, func(e searchapi.Entry) error {
		out = append(out, e.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// link chains the events of one workspace in the order given, from the
// first entry on, as the relay does.
func link(key []byte, evs ...[]activity.Event) {
	prev, seq := audit.GenesisHash, int64(0)
	for _, es := range evs {
		for i := range es {
			seq++
			prev = audit.Link(&es[i], seq, prev, key)
		}
	}
}

func idsOf(evs ...[]activity.Event) []string {
	var out []string
	for _, es := range evs {
		for _, e := range es {
			out = append(out, e.ID)
		}
	}
	slices.Sort(out)
	return out
}

// TestEntriesAgeFromTheSearchableLogIntoTheArchive runs the retention job
// on the real OpenSearch and PostgreSQL, with a disk archive and with one
// in S3 storage (SeaweedFS), and a clock the test moves (see ageEntries).
func TestEntriesAgeFromTheSearchableLogIntoTheArchive(t *testing.T) {
	t.Run("on disk", func(t *testing.T) {
		dir := t.TempDir()
		ageEntries(t, disk.Archive{Dir: dir}, func(t *testing.T, ws, name string) {
			path := filepath.Join(dir, ws, filepath.FromSlash(name))
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("archive file on disk: %v", err)
			}
			raw[len(raw)/2] ^= 0xff
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("in S3 storage", func(t *testing.T) {
		st, bucket := stacktest.MustS3Bucket(t, "retention")
		a, err := s3.NewArchive(s3.Config{
			Endpoint: st.Endpoint, Bucket: bucket, AccessKey: st.AccessKey, SecretKey: st.SecretKey,
			Region: st.Region, Secure: st.Secure, TempDir: t.TempDir(),
		})
		if err != nil {
			t.Fatal(err)
		}
		ageEntries(t, a, nil)
	})
}

// ageEntries runs the retention job with archive: before the retention
// period nothing moves; past it, each whole month of the workspace is
// written to the archive, verified, and removed from the index, except a
// held user's entries; another workspace and a workspace kept indefinitely
// are untouched; the emptied monthly index is dropped; a second run
// changes nothing; the archive and the index together verify as the whole
// chain; a manifest that lies, or a file alter alters, no longer verifies;
// and once the hold is released, months past the log's retention leave
// the archive. alter, when not nil, changes a stored file in place.
func ageEntries(t *testing.T, archive domain.ArchiveStore, alter func(t *testing.T, ws, name string)) {
	db := postgrestest.MustDB(t)
	hasher := argon2.Hasher{Params: postgrestest.Argon2}
	emailA, _ := postgrestest.MustWorkspace(t, db, hasher, "Kept a quarter")
	emailB, _ := postgrestest.MustWorkspace(t, db, hasher, "Kept indefinitely")
	ownerA, ownerB := postgrestest.MustPrincipal(t, db, emailA), postgrestest.MustPrincipal(t, db, emailB)
	wsA, wsB, held := ownerA.WorkspaceID, ownerB.WorkspaceID, ownerA.UserID
	ctx := t.Context()
	active := 90
	if _, err := postgres.NewSettingsService(db).UpdateSettings(ctx, ownerA, domain.SettingsUpdate{ActiveLogDays: &active}); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewHoldService(db).CreateHold(ctx, ownerA, domain.NewHold{UserID: held, Reason: "dispute over the owner's changes"}); err != nil {
		t.Fatal(err)
	}
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
	jun := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	aJan := events(wsA, activity.NewEventID(), jan, 8)
	aHeld := events(wsA, held, jan.Add(20*time.Hour), 2)
	aFeb := events(wsA, activity.NewEventID(), feb, 5)
	aJun := events(wsA, activity.NewEventID(), jun, 3)
	bJan := events(wsB, activity.NewEventID(), jan, 4)
	keyA, keyB := []byte(strings.Repeat("a", audit.DigestKeySize)), []byte(strings.Repeat("b", audit.DigestKeySize))
	link(keyA, aJan, aHeld, aFeb, aJun)
	link(keyB, bJan)
	now := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	finder, prefix := mustIndex(t, clock, slices.Concat(aJan, aHeld, aFeb, aJun, bJan))
	job := &retention.Job{
		Store:   postgres.NewRetentionStore(db),
		Scanner: finder, Index: finder, Archive: archive, Now: clock,
		Log: logrus.NewEntry(logrus.New()).WithField("component", "retention"),
	}

	res, err := job.Run(ctx)
	if err != nil {
		t.Fatalf("run before retention: %v", err)
	}
	if res.MonthsArchived != 0 || len(ids(t, finder, wsA)) != 18 {
		t.Fatalf("before the retention period: %+v, %d entries left; want nothing moved", res, len(ids(t, finder, wsA)))
	}

	now = time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC) // January and February are past 90 days
	res, err = job.Run(ctx)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	febIndex := activity.IndexName(prefix, feb)
	if res.MonthsArchived != 2 || res.Archived != 15 || res.Deleted != 13 || res.Held != 2 || !slices.Equal(res.IndicesDropped, []string{febIndex}) {
		t.Errorf("result = %+v; want 2 months, 15 archived, 13 deleted, 2 held, %s dropped", res, febIndex)
	}
	if got, want := ids(t, finder, wsA), idsOf(aHeld, aJun); !slices.Equal(got, want) {
		t.Errorf("workspace A holds %d entries; want the 2 held and the 3 of June", len(got))
	}
	if got, want := ids(t, finder, wsB), idsOf(bJan); !slices.Equal(got, want) {
		t.Errorf("workspace B holds %d entries; want its 4 untouched", len(got))
	}
	manifests, err := retention.Manifests(ctx, archive, wsA)
	if err != nil {
		t.Fatal(err)
	}
	byMonth := map[string]retention.Manifest{}
	for _, m := range manifests {
		byMonth[m.Month] = m
		if err := retention.Verify(ctx, archive, m); err != nil {
			t.Errorf("manifest of %s: %v", m.Month, err)
		}
	}
	for month, want := range map[string][3]int64{"2026-01": {10, 1, 10}, "2026-02": {5, 11, 15}} {
		m := byMonth[month]
		if got := [3]int64{m.Entries, m.FirstSeq, m.LastSeq}; got != want {
			t.Errorf("manifest of %s: entries, first and last seq = %v; want %v", month, got, want)
		}
	}
	if len(manifests) != 2 {
		t.Errorf("%d manifests; want 2", len(manifests))
	}
	if others, _ := retention.Manifests(ctx, archive, wsB); len(others) != 0 {
		t.Errorf("workspace B has %d archived months; want none", len(others))
	}

	names, details := actions(t, db, wsA)
	if want := []string{"user.created", "system.settings_changed", domain.ActionHoldCreated, domain.ActionRetentionApplied}; !slices.Equal(names, want) {
		t.Errorf("workspace A recorded %v; want %v", names, want)
	} else if d := details[3]; d["entries_archived"] != 15.0 || d["entries_deleted"] != 13.0 || d["entries_held"] != 2.0 || d["months_archived"] != 2.0 {
		t.Errorf("system.retention_applied details = %v", d)
	}
	if names, _ := actions(t, db, wsB); slices.Contains(names, domain.ActionRetentionApplied) {
		t.Errorf("workspace B recorded %v; want no retention run", names)
	}

	res, err = job.Run(ctx)
	if err != nil || res.MonthsArchived != 0 || res.Deleted != 0 {
		t.Errorf("second run = %+v, %v; want nothing more to do", res, err)
	}
	if again, _ := retention.Manifests(ctx, archive, wsA); len(again) != 2 {
		t.Errorf("after a second run %d manifests; want still 2", len(again))
	}

	// The archive and the index together hold workspace A's whole chain;
	// the index alone lacks the months archived.
	chain := searchapi.ChainIndex{Reader: finder}
	verifier := audit.Verifier{DigestKey: keyA, Whole: true}
	if got, err := verifier.Verify(ctx, wsA, retention.WithArchive{Archive: archive, Index: chain}.Entries(wsA, 0, 0)); err != nil || !got.OK || got.Entries != 18 || got.LastSeq != 18 {
		t.Errorf("verify over the archive and the index = %+v, %v; want the 18 entries whole", got, err)
	}
	if got, err := verifier.Verify(ctx, wsA, chain.Entries(wsA, 0, 0)); err != nil || got.OK || got.Problem == nil || got.Problem.Seq != 1 || got.Problem.Kind != audit.Missing {
		t.Errorf("verify over the index alone = %+v, %v; want entry 1 missing", got, err)
	}
	if first, last, ok, err := (retention.WithArchive{Archive: archive, Index: chain}).Span(ctx, wsA, feb, jun); err != nil || !ok || first != 11 || last != 15 {
		t.Errorf("span of February to May = %d, %d, %v, %v; want 11 to 15 from the archive", first, last, ok, err)
	}

	jan26 := byMonth["2026-01"]
	for name, lie := range map[string]func(m *retention.Manifest){
		"one entry more":  func(m *retention.Manifest) { m.Entries++ },
		"another hash":    func(m *retention.Manifest) { m.SHA256 = strings.Repeat("0", 64) },
		"a byte more":     func(m *retention.Manifest) { m.Bytes++ },
		"another month":   func(m *retention.Manifest) { m.From, m.To = feb, feb.AddDate(0, 1, 0) },
		"another's month": func(m *retention.Manifest) { m.WorkspaceID = wsB },
	} {
		m := jan26
		if lie(&m); retention.Verify(ctx, archive, m) == nil {
			t.Errorf("a manifest with %s verifies; want it refused", name)
		}
	}
	if alter != nil {
		alter(t, wsA, jan26.ArchiveName)
		if err := retention.Verify(ctx, archive, jan26); err == nil {
			t.Error("an altered archive file verifies; want it refused")
		}
	}

	// With the log kept 120 days, January is past it by mid-June, but the
	// hold on the owner's entries keeps every archived month until it is
	// released; then January goes from the archive (and the held entries,
	// archived again, from the index), February stays, and what is left
	// verifies from its first entry on.
	kept := 120
	if _, err := postgres.NewSettingsService(db).UpdateSettings(ctx, ownerA, domain.SettingsUpdate{LogRetentionDays: &kept}); err != nil {
		t.Fatal(err)
	}
	if res, err := job.Run(ctx); err != nil || res.MonthsExpired != 0 {
		t.Errorf("run under the hold = %+v, %v; want no archived month deleted", res, err)
	}
	holds, err := postgres.NewHoldService(db).ListHolds(ctx, ownerA)
	if err != nil || len(holds) != 1 {
		t.Fatalf("holds = %+v, %v", holds, err)
	}
	if _, err := postgres.NewHoldService(db).ReleaseHold(ctx, ownerA, holds[0].ID); err != nil {
		t.Fatal(err)
	}
	res, err = job.Run(ctx)
	if err != nil || res.MonthsArchived != 1 || res.Deleted != 2 || res.MonthsExpired != 2 {
		t.Errorf("run once released = %+v, %v; want January's 2 held entries archived and removed, and January's 2 archived files deleted", res, err)
	}
	left, err := retention.Manifests(ctx, archive, wsA)
	if err != nil || len(left) != 1 || left[0].Month != "2026-02" {
		t.Errorf("archived months left = %+v, %v; want February alone", left, err)
	}
	if _, _, err := archive.Open(ctx, wsA, jan26.ArchiveName); activity.ErrorCode(err) != activity.ENOTFOUND {
		t.Errorf("January's file once expired: %v; want not found", err)
	}
	if got, want := ids(t, finder, wsA), idsOf(aJun); !slices.Equal(got, want) {
		t.Errorf("workspace A holds %d entries; want June's 3", len(got))
	}
	rest := audit.Verifier{DigestKey: keyA}
	if got, err := rest.Verify(ctx, wsA, retention.WithArchive{Archive: archive, Index: chain}.Entries(wsA, 10, 0)); err != nil || !got.OK || got.Entries != 8 || got.FirstSeq != 11 {
		t.Errorf("verify from February on = %+v, %v; want entries 11 to 18 whole", got, err)
	}
	if others, _ := retention.Manifests(ctx, archive, wsB); len(others) != 0 || !slices.Equal(ids(t, finder, wsB), idsOf(bJan)) {
		t.Error("workspace B was touched")
	}
}

// truncating is a disk archive whose files of kind retained read back cut
// short, as a store that lost the end of a write would give them.
type truncating struct{ disk.Archive }

func (a truncating) Open(ctx context.Context, ws, name string) (io.ReadCloser, domain.ArchiveObject, error) {
	rc, obj, err := a.Archive.Open(ctx, ws, name)
	if err != nil || !strings.HasPrefix(name, domain.ArchiveRetained+"/") {
		return rc, obj, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return nil, obj, err
	}
	return io.NopCloser(bytes.NewReader(raw[:len(raw)/2])), obj, nil
}

// TestNothingLeavesTheIndexUnlessItsArchiveCopyReadsBack runs the job with
// an archive whose files read back cut short: the run fails for the
// workspace, and every entry stays searchable.
func TestNothingLeavesTheIndexUnlessItsArchiveCopyReadsBack(t *testing.T) {
	db := postgrestest.MustDB(t)
	email, _ := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, "Unreadable archive")
	owner := postgrestest.MustPrincipal(t, db, email)
	ctx := t.Context()
	active := 30
	if _, err := postgres.NewSettingsService(db).UpdateSettings(ctx, owner, domain.SettingsUpdate{ActiveLogDays: &active}); err != nil {
		t.Fatal(err)
	}
	evs := events(owner.WorkspaceID, owner.UserID, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), 50)
	link([]byte(strings.Repeat("c", audit.DigestKeySize)), evs)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	finder, _ := mustIndex(t, clock, evs)
	job := &retention.Job{
		Store: postgres.NewRetentionStore(db), Scanner: finder, Index: finder, Archive: truncating{disk.Archive{Dir: t.TempDir()}}, Now: clock,
		Log: logrus.NewEntry(logrus.New()).WithField("component", "retention"),
	}
	res, err := job.Run(ctx)
	if err == nil || res.Deleted != 0 {
		t.Errorf("run = %+v, %v; want it to fail and delete nothing", res, err)
	}
	if got := ids(t, finder, owner.WorkspaceID); !slices.Equal(got, idsOf(evs)) {
		t.Errorf("%d entries left; want all %d", len(got), len(evs))
	}
}
