package disk_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/disk"
)

func TestArchiveKeepsFilesByContentPerWorkspace(t *testing.T) {
	ctx := context.Background()
	a := disk.Archive{Dir: t.TempDir()}
	ws, other := activity.NewEventID(), activity.NewEventID()
	body := []byte(`{"id":"1"}` + "\n")
	sum := sha256.Sum256(body)

	obj, err := a.Put(ctx, ws, domain.ArchiveBackup, "ndjson", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	want := "backup/" + hex.EncodeToString(sum[:]) + ".ndjson"
	if obj.Name != want || obj.Size != int64(len(body)) || obj.WorkspaceID != ws || obj.Kind != domain.ArchiveBackup || obj.ContentType != "application/x-ndjson" {
		t.Fatalf("object = %+v, want name %s", obj, want)
	}
	again, err := a.Put(ctx, ws, domain.ArchiveBackup, "ndjson", bytes.NewReader(body))
	if err != nil || again.Name != obj.Name {
		t.Fatalf("storing the same bytes again = %+v, %v", again, err)
	}
	time.Sleep(10 * time.Millisecond) // distinct modification times for the order below
	report, err := a.Put(ctx, ws, domain.ArchiveReport, "pdf", strings.NewReader("%PDF-1.4"))
	if err != nil {
		t.Fatal(err)
	}

	list, err := a.List(ctx, ws, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != report.Name || list[1].Name != obj.Name {
		t.Fatalf("list = %+v, want the report then the backup", list)
	}
	if backups, _ := a.List(ctx, ws, domain.ArchiveBackup); len(backups) != 1 {
		t.Errorf("backups = %+v, want one", backups)
	}

	r, got, err := a.Open(ctx, ws, obj.Name)
	if err != nil {
		t.Fatal(err)
	}
	read, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(read, body) || got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("opened %q (%+v)", read, got)
	}

	for name, tc := range map[string]struct{ ws, name string }{
		"another workspace's file":      {other, obj.Name},
		"a path out of the store":       {ws, "../" + ws + "/" + obj.Name},
		"an unknown name":               {ws, "backup/" + strings.Repeat("0", 64) + ".ndjson"},
		"a workspace that is not an id": {"..", obj.Name},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := a.Open(ctx, tc.ws, tc.name); activity.ErrorCode(err) != activity.ENOTFOUND {
				t.Errorf("Open = %v, want ENOTFOUND", err)
			}
		})
	}
	if list, err := a.List(ctx, other, ""); err != nil || len(list) != 0 {
		t.Errorf("another workspace lists %+v, %v", list, err)
	}
}

func TestArchiveRefusesUnknownKindsAndStopsWithItsContext(t *testing.T) {
	a := disk.Archive{Dir: t.TempDir()}
	ws := activity.NewEventID()
	if _, err := a.Put(context.Background(), ws, "secrets", "txt", strings.NewReader("x")); err == nil {
		t.Error("an unknown kind was stored")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Put(ctx, ws, domain.ArchiveExport, "csv", strings.NewReader("a,b\n")); err == nil {
		t.Error("a put on an ended context succeeded")
	}
	if list, _ := a.List(context.Background(), ws, ""); len(list) != 0 {
		t.Errorf("a failed put left %+v", list)
	}
}
