package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/s3"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// mustArchived stores content as a file of the workspace through the
// platform's own archive store.
func mustArchived(t *testing.T, m *app.Main, workspaceID, kind, ext, content string) domain.ArchiveObject {
	t.Helper()
	store, err := m.Archive()
	if err != nil {
		t.Fatal(err)
	}
	obj, err := store.Put(context.Background(), workspaceID, kind, ext, strings.NewReader(content))
	if err != nil {
		t.Fatalf("archive a %s: %v", kind, err)
	}
	return obj
}

// mustS3Archive points cfg's archive store at a bucket of the test's own on
// the local stack's S3 storage.
func mustS3Archive(t *testing.T, cfg *app.Config) {
	t.Helper()
	st, bucket := stacktest.MustS3Bucket(t, "e2e")
	cfg.Archive = app.ArchiveS3
	cfg.S3 = s3.Config{
		Endpoint: st.Endpoint, Bucket: bucket, AccessKey: st.AccessKey, SecretKey: st.SecretKey,
		Region: st.Region, Secure: st.Secure, TempDir: t.TempDir(),
	}
}

// TestArchivedFilesAreDownloadedByTheirOwners stores a file for a
// workspace through the platform's archive store, in a folder and on S3,
// and downloads it over HTTP as the workspace's owner, which is recorded
// as system.data_exported; the owner of another workspace gets 404 for it
// and sees none of it, and an admin of the workspace is refused.
func TestArchivedFilesAreDownloadedByTheirOwners(t *testing.T) {
	for _, store := range []string{app.ArchiveDir, app.ArchiveS3} {
		t.Run(store, func(t *testing.T) {
			cfg := MustStack(t)
			if store == app.ArchiveS3 {
				mustS3Archive(t, &cfg)
			}
			m := MustStart(t, cfg, app.RoleAPI)
			ob := mustOutbox(t, cfg)
			owner := mustOwner(t, m, cfg, "Archive")
			other := mustOwner(t, m, cfg, "Elsewhere")
			admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
			content := "id,name\n" + stacktest.RandomID() + ",Dell XPS\n"
			file := mustArchived(t, m, owner.workspace, domain.ArchiveExport, "csv", content)
			report := mustArchived(t, m, owner.workspace, domain.ArchiveReport, "pdf", "%PDF-1.4 "+stacktest.RandomID())
			mustArchived(t, m, other.workspace, domain.ArchiveExport, "csv", "id,name\n"+stacktest.RandomID()+",Other\n")

			var list struct{ Files []domain.ArchiveObject }
			a := owner.call("GET", "/api/v1/archive?kind=export", nil, nil)
			a.decode(t, &list)
			if a.status != http.StatusOK || len(list.Files) != 1 || list.Files[0].Name != file.Name || list.Files[0].Size != int64(len(content)) {
				t.Fatalf("the owner's exports: %d %s", a.status, a.body)
			}
			a = owner.call("GET", "/api/v1/archive", nil, nil)
			a.decode(t, &list)
			if a.status != http.StatusOK || len(list.Files) != 2 || !strings.Contains(string(a.body), report.Name) {
				t.Fatalf("the owner's files: %d %s", a.status, a.body)
			}

			before := ob.last()
			a = owner.call("GET", "/api/v1/archive/"+file.Name, nil, nil)
			if a.status != http.StatusOK || string(a.body) != content {
				t.Fatalf("download: %d %q", a.status, a.body)
			}
			for header, want := range map[string]string{
				"Content-Type":        "text/csv; charset=utf-8",
				"Content-Disposition": "attachment; filename=" + strings.TrimPrefix(file.Name, "export/"),
				"Cache-Control":       "no-store",
			} {
				if got := a.header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
			events, _ := ob.since(before)
			if len(events) != 1 || events[0].Action != domain.ActionDataExported || events[0].Actor.ID != owner.id ||
				events[0].Resource.Name != file.Name || events[0].Details["bytes"] != float64(len(content)) {
				t.Errorf("the download recorded %+v, want one system.data_exported of %s", events, file.Name)
			}
			// A HEAD request tells the size and downloads nothing.
			before = ob.last()
			a = owner.call("HEAD", "/api/v1/archive/"+file.Name, nil, nil)
			if a.status != http.StatusOK || a.header.Get("Content-Length") != strconv.Itoa(len(content)) || len(a.body) != 0 {
				t.Errorf("HEAD: %d %v %q", a.status, a.header, a.body)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a HEAD request recorded %+v", events)
			}

			// A backup of some megabytes streams to its end, read from the
			// store after the handler has returned.
			big := strings.Repeat(`{"action":"asset.updated","id":"`+stacktest.RandomID()+`"}`+"\n", 100_000)
			backup := mustArchived(t, m, owner.workspace, domain.ArchiveBackup, "ndjson", big)
			if a = owner.call("GET", "/api/v1/archive/"+backup.Name, nil, nil); a.status != http.StatusOK || string(a.body) != big {
				t.Errorf("download of %d bytes: %d, %d bytes", len(big), a.status, len(a.body))
			}

			// Another workspace's owner finds nothing, and is not told
			// whether the file exists.
			before = ob.last()
			for _, path := range []string{"/api/v1/archive/" + file.Name, "/api/v1/archive/" + report.Name, "/api/v1/archive/export/" + strings.Repeat("0", 64) + ".csv"} {
				a = other.call("GET", path, nil, nil)
				var e errorAnswer
				a.decode(t, &e)
				if a.status != http.StatusNotFound || e.Error.Code != activity.ENOTFOUND || strings.Contains(string(a.body), content) {
					t.Errorf("GET %s as another workspace's owner: %d %s", path, a.status, a.body)
				}
			}
			a = other.call("GET", "/api/v1/archive", nil, nil)
			if a.status != http.StatusOK || strings.Contains(string(a.body), file.Name) || strings.Contains(string(a.body), report.Name) {
				t.Errorf("another workspace's owner lists %d %s", a.status, a.body)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("requests for another workspace's files recorded %+v", events)
			}

			// Only owners list and download; a refusal is recorded.
			for _, path := range []string{"/api/v1/archive", "/api/v1/archive/" + file.Name} {
				before = ob.last()
				a = admin.call("GET", path, nil, nil)
				if events, _ := ob.since(before); a.status != http.StatusForbidden || len(events) != 1 || events[0].Action != "auth.access_denied" {
					t.Errorf("GET %s as an admin: %d %s, recorded %d events", path, a.status, a.body, len(events))
				}
			}

			for path, field := range map[string]string{"/api/v1/archive?kind=secrets": "kind", "/api/v1/archive?kind=export&kind=report": "kind", "/api/v1/archive?page=2": "page"} {
				a = owner.call("GET", path, nil, nil)
				var e errorAnswer
				a.decode(t, &e)
				if a.status != http.StatusBadRequest || e.Error.Field != field {
					t.Errorf("GET %s: %d %s, want 400 naming %s", path, a.status, a.body, field)
				}
			}
			for _, path := range []string{"/api/v1/archive/export/" + strings.ToUpper(file.SHA256) + ".csv", "/api/v1/archive/export/..%2f..%2fsecret.key", "/api/v1/archive/secrets/" + file.SHA256 + ".csv"} {
				if a = owner.call("GET", path, nil, nil); a.status != http.StatusNotFound {
					t.Errorf("GET %s: %d %s, want 404", path, a.status, a.body)
				}
			}
		})
	}
}
