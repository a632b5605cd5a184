package retention_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/privacy"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/retention"
)

// failingDelete is a disk archive whose first deletion fails, as a process
// that stops between writing a month anew and removing the old one.
type failingDelete struct {
	disk.Archive
	failed bool
}

func (a *failingDelete) Delete(ctx context.Context, ws, name string) error {
	if !a.failed {
		a.failed = true
		return errors.New("the process stopped")
	}
	return a.Archive.Delete(ctx, ws, name)
}

// gz returns body gzipped.
func gz(t *testing.T, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAnonymizationRewritesTheArchive archives a person's entries with
// the retention job (on the real OpenSearch and PostgreSQL, with a clock
// the test moves), then rewrites the archive for their anonymization:
// afterwards no file of the workspace in the store holds their name,
// email or address, the archived month keeps its counts and sequence
// numbers and verifies with the index as the whole chain, a backup and an
// export that named them are gone while a report that did not stays, and
// a rewrite interrupted midway and run again ends the same.
func TestAnonymizationRewritesTheArchive(t *testing.T) {
	db := postgrestest.MustDB(t)
	email, _ := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, "Anonymized archive")
	owner := postgrestest.MustPrincipal(t, db, email)
	ws := owner.WorkspaceID
	ctx := t.Context()
	active := 30
	if _, err := postgres.NewSettingsService(db).UpdateSettings(ctx, owner, domain.SettingsUpdate{ActiveLogDays: &active}); err != nil {
		t.Fatal(err)
	}
	const name, mail, ip = "Ada Byron", "ada.byron@example.test", "198.51.100.77"
	ada := activity.NewEventID()
	jan := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	hers := events(ws, ada, jan, 6)
	for i := range hers {
		hers[i].Actor = activity.Actor{ID: ada, Name: name, Email: mail, Type: activity.ActorUser}
		hers[i].Context.IP = ip
	}
	others := events(ws, activity.NewEventID(), jan.Add(30*time.Minute), 4)
	for i := range others {
		others[i].Note = "asked " + name + " to approve"
	}
	jun := events(ws, activity.NewEventID(), time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC), 2)
	key := []byte(strings.Repeat("d", audit.DigestKeySize))
	link(key, hers, others, jun)
	now := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	finder, _ := mustIndex(t, clock, slices.Concat(hers, others, jun))
	dir := t.TempDir()
	store := disk.Archive{Dir: dir}
	job := &retention.Job{
		Store: postgres.NewRetentionStore(db), Scanner: finder, Index: finder, Archive: store, Now: clock,
		Log: logrus.NewEntry(logrus.New()).WithField("component", "retention"),
	}
	if res, err := job.Run(ctx); err != nil || res.MonthsArchived != 1 || res.Archived != 10 {
		t.Fatalf("retention run = %+v, %v; want January's 10 entries archived", res, err)
	}
	before, err := retention.Manifests(ctx, store, ws)
	if err != nil || len(before) != 1 {
		t.Fatalf("manifests = %+v, %v", before, err)
	}
	backup, err := store.Put(ctx, ws, domain.ArchiveBackup, "ndjson.gz", bytes.NewReader(gz(t, `{"actor":{"name":"`+name+`"}}`+"\n")))
	if err != nil {
		t.Fatal(err)
	}
	export, err := store.Put(ctx, ws, domain.ArchiveExport, "csv", strings.NewReader("actor,ip\nsomeone,"+ip+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := store.Put(ctx, ws, domain.ArchiveReport, "csv", strings.NewReader("asset,changes\nLaptop 1,3\n"))
	if err != nil {
		t.Fatal(err)
	}

	r := privacy.Replacement{
		Subject:   privacy.Subject{UserID: ada, Names: []string{name}, Emails: []string{mail}, IPs: []string{ip}},
		Pseudonym: privacy.PseudonymOf(privacy.WorkspaceKey([]byte("secret"), ws), ada),
	}
	edit := func(e *activity.Event) bool { return len(r.Apply(e)) > 0 }
	interrupted := &failingDelete{Archive: store}
	if _, err := (retention.ArchiveRewriter{Archive: interrupted}).Rewrite(ctx, ws, edit, r.Mentioned); err == nil {
		t.Fatal("a rewrite whose deletion fails succeeded; want the failure reported")
	}
	res, err := retention.ArchiveRewriter{Archive: store}.Rewrite(ctx, ws, edit, r.Mentioned)
	if err != nil {
		t.Fatalf("rewrite run again: %v", err)
	}
	if res.Months != 1 || res.Entries != 10 || res.FilesRemoved != 2 || !slices.Equal(slices.Sorted(slices.Values(res.Removed)), slices.Sorted(slices.Values([]string{backup.Name, export.Name}))) {
		t.Errorf("rewrite = %+v; want 1 month, its 10 entries, the backup and the export removed", res)
	}

	after, err := retention.Manifests(ctx, store, ws)
	if err != nil || len(after) != 1 {
		t.Fatalf("manifests after = %+v, %v; want January's one", after, err)
	}
	b, a := before[0], after[0]
	if a.Entries != b.Entries || a.FirstSeq != b.FirstSeq || a.LastSeq != b.LastSeq || a.Month != b.Month || a.SHA256 == b.SHA256 {
		t.Errorf("manifest after = %+v; want the counts and sequence numbers of %+v with a new hash", a, b)
	}
	if err := retention.Verify(ctx, store, a); err != nil {
		t.Errorf("rewritten month: %v", err)
	}
	for _, gone := range []string{b.ArchiveName, backup.Name, export.Name} {
		if _, _, err := store.Open(ctx, ws, gone); activity.ErrorCode(err) != activity.ENOTFOUND {
			t.Errorf("%s after the rewrite: %v; want it deleted", gone, err)
		}
	}
	if _, _, err := store.Open(ctx, ws, report.Name); err != nil {
		t.Errorf("a report that does not name the person: %v; want it kept", err)
	}
	// Every file of the workspace, raw from the store and ungzipped.
	files := 0
	err = filepath.WalkDir(filepath.Join(dir, ws), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				return err
			}
			if raw, err = io.ReadAll(zr); err != nil {
				return err
			}
		}
		files++
		for _, v := range []string{name, mail, ip} {
			if bytes.Contains(raw, []byte(v)) {
				t.Errorf("%s holds %q after the anonymization", path, v)
			}
		}
		return nil
	})
	if err != nil || files < 3 {
		t.Fatalf("read the store: %d files, %v", files, err)
	}
	if bytes := mustRead(t, store, ws, a.ArchiveName); !bytes.Contains(r.Pseudonym.Name) || !bytes.Contains(r.Pseudonym.IP) {
		t.Errorf("the rewritten month does not name the pseudonym %+v", r.Pseudonym)
	}

	chain := searchapi.ChainIndex{Reader: finder}
	verifier := audit.Verifier{DigestKey: key, Whole: true}
	if got, err := verifier.Verify(ctx, ws, retention.WithArchive{Archive: store, Index: chain}.Entries(ws, 0, 0)); err != nil || !got.OK || got.Entries != 12 {
		t.Errorf("verify over the archive and the index = %+v, %v; want the 12 entries whole", got, err)
	}
	if again, err := (retention.ArchiveRewriter{Archive: store}).Rewrite(ctx, ws, edit, r.Mentioned); err != nil || again.Months != 0 || again.Entries != 0 || again.FilesRemoved != 0 {
		t.Errorf("a second rewrite = %+v, %v; want nothing left to do", again, err)
	}
}

// text is an archive file's content, ungzipped.
type text string

func (s text) Contains(v string) bool { return strings.Contains(string(s), v) }

// mustRead returns the workspace's archive file named name, ungzipped.
func mustRead(t *testing.T, store domain.ArchiveStore, ws, name string) text {
	t.Helper()
	rc, _, err := store.Open(t.Context(), ws, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return text(raw)
}
