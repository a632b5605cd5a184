// Package archivetest holds the contract every archive store keeps
// (domain.ArchiveStore): the folder one and the S3 one run the same tests
// from their own packages' tests.
package archivetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// Run runs the contract against stores that newStore makes, an empty one
// for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) domain.ArchiveStore) {
	t.Run("keeps files by content per workspace", func(t *testing.T) { keepsFilesByContent(t, newStore(t)) })
	t.Run("lists newest first", func(t *testing.T) { listsNewestFirst(t, newStore(t)) })
	t.Run("refuses unknown kinds and ended contexts", func(t *testing.T) { refusesUnknownKindsAndEndedContexts(t, newStore(t)) })
	t.Run("a put cut short leaves nothing", func(t *testing.T) { putCutShortLeavesNothing(t, newStore(t)) })
	t.Run("concurrent puts of the same content make one file", func(t *testing.T) { concurrentPutsMakeOneFile(t, newStore(t)) })
	t.Run("deletes a workspace's file and no other", func(t *testing.T) { deletesOneWorkspacesFile(t, newStore(t)) })
}

// deletesOneWorkspacesFile stores the same retained month in two
// workspaces and deletes it from one: the other keeps its copy, and a
// second delete, or a delete of a name of no file, is not found.
func deletesOneWorkspacesFile(t *testing.T, a domain.ArchiveStore) {
	ctx := t.Context()
	wsA, wsB := activity.NewEventID(), activity.NewEventID()
	content := "{\"id\":\"1\"}\n"
	objA, err := a.Put(ctx, wsA, domain.ArchiveRetained, "ndjson.gz", strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, wsB, domain.ArchiveRetained, "ndjson.gz", strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, wsA, objA.Name); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := a.Open(ctx, wsA, objA.Name); activity.ErrorCode(err) != activity.ENOTFOUND {
		t.Errorf("open once deleted = %v; want not found", err)
	}
	if list, err := a.List(ctx, wsA, ""); err != nil || len(list) != 0 {
		t.Errorf("list once deleted = %v, %v; want nothing", list, err)
	}
	if rc, _, err := a.Open(ctx, wsB, objA.Name); err != nil {
		t.Errorf("the other workspace's copy: %v", err)
	} else {
		rc.Close()
	}
	for _, name := range []string{objA.Name, "retained/" + strings.Repeat("e", 64) + ".ndjson.gz", "../" + objA.Name} {
		if err := a.Delete(ctx, wsA, name); activity.ErrorCode(err) != activity.ENOTFOUND {
			t.Errorf("delete %q = %v; want not found", name, err)
		}
	}
}

func keepsFilesByContent(t *testing.T, a domain.ArchiveStore) {
	ctx := context.Background()
	ws, other := activity.NewEventID(), activity.NewEventID()
	body := []byte(`{"id":"1"}` + "\n")
	sum := sha256.Sum256(body)

	obj, err := a.Put(ctx, ws, domain.ArchiveBackup, "ndjson", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	want := "backup/" + hex.EncodeToString(sum[:]) + ".ndjson"
	if obj.Name != want || obj.SHA256 != hex.EncodeToString(sum[:]) || obj.Size != int64(len(body)) || obj.WorkspaceID != ws ||
		obj.Kind != domain.ArchiveBackup || obj.ContentType != "application/x-ndjson" || obj.CreatedAt.IsZero() {
		t.Fatalf("object = %+v, want name %s", obj, want)
	}
	again, err := a.Put(ctx, ws, domain.ArchiveBackup, "ndjson", bytes.NewReader(body))
	if err != nil || again.Name != obj.Name || !again.CreatedAt.Equal(obj.CreatedAt) {
		t.Fatalf("storing the same bytes again = %+v, %v; want the first file, unchanged (%v)", again, err, obj.CreatedAt)
	}
	report, err := a.Put(ctx, ws, domain.ArchiveReport, "pdf", strings.NewReader("%PDF-1.4"))
	if err != nil {
		t.Fatal(err)
	}
	if report.ContentType != "application/pdf" {
		t.Errorf("report = %+v, want application/pdf", report)
	}

	list, err := a.List(ctx, ws, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || !hasNames(list, obj.Name, report.Name) {
		t.Fatalf("list = %+v, want the backup and the report", list)
	}
	backups, err := a.List(ctx, ws, domain.ArchiveBackup)
	if err != nil || len(backups) != 1 || backups[0].Name != obj.Name || backups[0].Size != obj.Size || backups[0].ContentType != obj.ContentType {
		t.Errorf("backups = %+v, %v; want the one backup", backups, err)
	}
	if exports, err := a.List(ctx, ws, domain.ArchiveExport); err != nil || len(exports) != 0 {
		t.Errorf("exports = %+v, %v; want none", exports, err)
	}

	r, got, err := a.Open(ctx, ws, obj.Name)
	if err != nil {
		t.Fatal(err)
	}
	read, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(read, body) || got.SHA256 != obj.SHA256 || got.Size != obj.Size || got.ContentType != "application/x-ndjson" {
		t.Errorf("opened %q, %v (%+v)", read, err, got)
	}

	for name, tc := range map[string]struct{ ws, name string }{
		"another workspace's file":      {other, obj.Name},
		"a path out of the store":       {ws, "../" + ws + "/" + obj.Name},
		"a path into another folder":    {other, "../" + ws + "/" + obj.Name},
		"an unknown name":               {ws, "backup/" + strings.Repeat("0", 64) + ".ndjson"},
		"a kind it is not":              {ws, "report/" + obj.SHA256 + ".ndjson"},
		"a workspace that is not an id": {"..", obj.Name},
		"an empty name":                 {ws, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if r, _, err := a.Open(ctx, tc.ws, tc.name); activity.ErrorCode(err) != activity.ENOTFOUND {
				if r != nil {
					r.Close()
				}
				t.Errorf("Open = %v, want ENOTFOUND", err)
			}
		})
	}
	if list, err := a.List(ctx, other, ""); err != nil || len(list) != 0 {
		t.Errorf("another workspace lists %+v, %v", list, err)
	}
}

func listsNewestFirst(t *testing.T, a domain.ArchiveStore) {
	ctx := context.Background()
	ws := activity.NewEventID()
	first, err := a.Put(ctx, ws, domain.ArchiveExport, "csv", strings.NewReader("a,b\n1,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	// A store's clock may count whole seconds (S3's last-modified times
	// do): what follows is stored once its time can differ.
	for time.Since(first.CreatedAt) <= time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	// The same content again is the first file, not written anew.
	again, err := a.Put(ctx, ws, domain.ArchiveExport, "csv", strings.NewReader("a,b\n1,2\n"))
	if err != nil || again.Name != first.Name || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("the first file stored again = %+v, %v; want it unchanged, created at %v", again, err, first.CreatedAt)
	}
	second, err := a.Put(ctx, ws, domain.ArchiveExport, "csv", strings.NewReader("a,b\n3,4\n"))
	if err != nil {
		t.Fatal(err)
	}
	list, err := a.List(ctx, ws, domain.ArchiveExport)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != second.Name || list[1].Name != first.Name || !list[0].CreatedAt.After(list[1].CreatedAt) ||
		!list[1].CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("list = %+v, want %s then %s", list, second.Name, first.Name)
	}
}

func refusesUnknownKindsAndEndedContexts(t *testing.T, a domain.ArchiveStore) {
	ws := activity.NewEventID()
	for _, tc := range []struct{ kind, ext string }{{"secrets", "txt"}, {"", "csv"}, {domain.ArchiveExport, "../csv"}, {domain.ArchiveExport, ""}} {
		if _, err := a.Put(context.Background(), ws, tc.kind, tc.ext, strings.NewReader("x")); err == nil {
			t.Errorf("kind %q with extension %q was stored", tc.kind, tc.ext)
		}
	}
	if _, err := a.Put(context.Background(), "..", domain.ArchiveExport, "csv", strings.NewReader("x")); err == nil {
		t.Error("a file of a workspace that is not an id was stored")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Put(ctx, ws, domain.ArchiveExport, "csv", strings.NewReader("a,b\n")); err == nil {
		t.Error("a put on an ended context succeeded")
	}
	if list, err := a.List(context.Background(), ws, ""); err != nil || len(list) != 0 {
		t.Errorf("failed puts left %+v, %v", list, err)
	}
}

// cutShort ends its put's context once it has yielded cut bytes, and
// yields the rest all the same: a store that reads on stores everything.
type cutShort struct {
	data   *bytes.Reader
	cut    int64
	read   int64
	cancel context.CancelFunc
}

func (c *cutShort) Read(p []byte) (int, error) {
	if c.read+int64(len(p)) > c.cut && c.read < c.cut {
		p = p[:c.cut-c.read]
	}
	n, err := c.data.Read(p)
	c.read += int64(n)
	if c.read >= c.cut {
		c.cancel()
	}
	return n, err
}

func putCutShortLeavesNothing(t *testing.T, a domain.ArchiveStore) {
	ws := activity.NewEventID()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := bytes.Repeat([]byte("row,of,an,export\n"), 64<<10)
	r := &cutShort{data: bytes.NewReader(data), cut: int64(len(data) / 2), cancel: cancel}
	if obj, err := a.Put(ctx, ws, domain.ArchiveExport, "csv", r); err == nil {
		t.Fatalf("a put whose context ended while it read stored %+v", obj)
	}
	if list, err := a.List(context.Background(), ws, ""); err != nil || len(list) != 0 {
		t.Errorf("a put cut short left %+v, %v", list, err)
	}
}

func concurrentPutsMakeOneFile(t *testing.T, a domain.ArchiveStore) {
	ctx := context.Background()
	ws := activity.NewEventID()
	body := bytes.Repeat([]byte(`{"action":"asset.updated"}`+"\n"), 10_000)
	const puts = 4
	var wg sync.WaitGroup
	objs := make([]domain.ArchiveObject, puts)
	errs := make([]error, puts)
	for i := range puts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			objs[i], errs[i] = a.Put(ctx, ws, domain.ArchiveBackup, "ndjson", bytes.NewReader(body))
		}()
	}
	wg.Wait()
	for i := range puts {
		if errs[i] != nil || objs[i].Name != objs[0].Name || objs[i].Size != int64(len(body)) {
			t.Fatalf("put %d = %+v, %v; want %s of %d bytes", i, objs[i], errs[i], objs[0].Name, len(body))
		}
	}
	list, err := a.List(ctx, ws, "")
	if err != nil || len(list) != 1 || list[0].Name != objs[0].Name {
		t.Fatalf("list = %+v, %v; want one file", list, err)
	}
	r, _, err := a.Open(ctx, ws, objs[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if read, err := io.ReadAll(r); err != nil || !bytes.Equal(read, body) {
		t.Errorf("the file holds %d bytes (%v), want the %d put", len(read), err, len(body))
	}
}

func hasNames(list []domain.ArchiveObject, names ...string) bool {
	seen := map[string]bool{}
	for _, o := range list {
		seen[o.Name] = true
	}
	for _, n := range names {
		if !seen[n] {
			return false
		}
	}
	return true
}
