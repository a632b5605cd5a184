package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestMonthlyBackupsWriteEachPastMonthOnce turns monthly backups on for one
// workspace of two, indexes events around the turn of March 2026 in Berlin,
// and runs the backups on the 10th of April: the archive gets one gzipped
// NDJSON file holding exactly the workspace's March, newest first, recorded
// once as an export by the platform; running again, or twice at once,
// writes nothing more; a workspace with backups off gets none.
func TestMonthlyBackupsWriteEachPastMonthOnce(t *testing.T) {
	cfg := MustStack(t)
	cfg.ArchiveDir = t.TempDir()
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Backed Up")
	stranger := mustOwner(t, m, cfg, "Not Backed Up")
	wsOf := func(c *client) string {
		var me struct {
			WorkspaceID string `json:"workspace_id"`
		}
		getJSON(t, c, "/api/v1/me", &me)
		return me.WorkspaceID
	}
	ws, strangerWS := wsOf(owner.client), wsOf(stranger.client)
	if a := owner.call("PATCH", "/api/v1/settings", map[string]any{"monthly_backup": true, "time_zone": "Europe/Berlin"}, nil); a.status != 200 {
		t.Fatalf("turn monthly backups on: %d %s", a.status, a.body)
	}

	actor := activity.Actor{ID: owner.id, Email: owner.email, Name: "Backed Up Owner", Role: activity.RoleOwner, Type: activity.ActorUser}
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	event := func(workspace, when string, i int) activity.Event {
		e := activity.NewEvent(workspace, "asset.updated", at(when))
		e.Actor = actor
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Laptop %d", i)}
		return e
	}
	var march []activity.Event
	events := []activity.Event{
		event(ws, "2026-02-28T22:59:00Z", 0), // 23:59 on 28 February in Berlin: February
		event(ws, "2026-04-01T00:30:00+02:00", 0),
		event(strangerWS, "2026-03-15T12:00:00+01:00", 0),
	}
	for i, when := range []string{"2026-02-28T23:00:00Z", "2026-03-02T09:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-31T23:59:59+02:00"} {
		e := event(ws, when, i+1)
		march = append(march, e)
		events = append(events, e)
	}
	mustProduceEvents(t, cfg, events)
	stacktest.Eventually(t, "the events indexed", func() bool {
		var page struct {
			Total int64 `json:"total"`
		}
		// The first searches may meet a monthly index that is still being
		// made (503): ask again, as a client would.
		a := owner.call("GET", "/api/v1/activity?from=2026-02-01&to=2026-04-30&action=asset.updated", nil, nil)
		return a.status == 200 && json.Unmarshal(a.body, &page) == nil && page.Total == int64(len(march)+2)
	})

	tenth := at("2026-04-10T08:00:00+02:00")
	backups, err := m.Backups()
	if err != nil {
		t.Fatal(err)
	}
	backups.Now = func() time.Time { return tenth }
	n, err := backups.RunDue(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v; want the one backup of March", n, err)
	}
	archive, err := m.Archive()
	if err != nil {
		t.Fatal(err)
	}
	files, err := archive.List(t.Context(), ws, domain.ArchiveBackup)
	if err != nil || len(files) != 1 {
		t.Fatalf("backups of the workspace = %+v, %v; want one", files, err)
	}
	if other, _ := archive.List(t.Context(), strangerWS, ""); len(other) != 0 {
		t.Errorf("the workspace with backups off has %+v", other)
	}
	got := readBackup(t, archive, ws, files[0].Name)
	sort.Slice(march, func(i, j int) bool { return march[i].OccurredAt.After(march[j].OccurredAt) })
	if len(got) != len(march) {
		t.Fatalf("the backup holds %d events, want March's %d: %v", len(got), len(march), got)
	}
	for i := range march {
		if got[i].ID != march[i].ID || got[i].WorkspaceID != ws || !got[i].OccurredAt.Equal(march[i].OccurredAt) {
			t.Errorf("line %d = %s at %s, want %s at %s", i+1, got[i].ID, got[i].OccurredAt, march[i].ID, march[i].OccurredAt)
		}
	}

	// Again, and twice at once: nothing more is written.
	var wg sync.WaitGroup
	counts := make(chan int, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := m.Backups()
			if err != nil {
				t.Error(err)
				return
			}
			b.Now = func() time.Time { return tenth.Add(time.Hour) }
			n, err := b.RunDue(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts <- n
		}()
	}
	wg.Wait()
	close(counts)
	for n := range counts {
		if n != 0 {
			t.Errorf("a later run wrote %d backups, want none", n)
		}
	}

	// The backup was recorded once, as an export by the platform.
	db := mustDB(t, cfg)
	var payloads []string
	if err := db.NewRaw(`SELECT payload::text FROM outbox WHERE workspace_id = ? AND payload->>'action' = 'system.data_exported'`, ws).Scan(t.Context(), &payloads); err != nil {
		t.Fatal(err)
	}
	if len(payloads) != 1 {
		t.Fatalf("recorded %d exports, want the backup once", len(payloads))
	}
	var e activity.Event
	json.Unmarshal([]byte(payloads[0]), &e)
	if e.Actor.Type != activity.ActorSystem || e.Resource.Type != "backup" || e.Resource.Name != files[0].Name ||
		e.Details["month"] != "2026-03" || e.Details["entries"] != float64(len(march)) {
		t.Errorf("recorded %+v", e)
	}

	// Turning backups on is a recorded setting like the others.
	var settings domain.Settings
	getJSON(t, owner.client, "/api/v1/settings", &settings)
	if !settings.MonthlyBackup {
		t.Error("GET /api/v1/settings does not say monthly backups are on")
	}
}

// readBackup reads the events of a gzipped NDJSON backup.
func readBackup(t *testing.T, archive domain.ArchiveStore, ws, name string) []activity.Event {
	t.Helper()
	r, _, err := archive.Open(t.Context(), ws, name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	gz, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []activity.Event
	s := bufio.NewScanner(gz)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		e, err := activity.DecodeEvent(s.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, e)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
