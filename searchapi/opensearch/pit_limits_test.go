package opensearch

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/opensearch/ostest"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// activityIndex is an index prefix of a test's own on the local stack's
// OpenSearch, laid out by the platform's template.
type activityIndex struct {
	client *opensearchapi.Client
	url    string
	prefix string
	// pits are the points in time the test saw in cursors; they are closed
	// when the test ends.
	pits map[string]bool
}

// mustActivityIndex stores events under an index prefix of the test's
// own, all in one monthly index of one shard, and removes the indices,
// the template and the points in time the test saw when it ends.
func mustActivityIndex(t *testing.T, events []activity.Event) *activityIndex {
	t.Helper()
	return mustActivityIndexAs(t, events, func(_ int, doc ingest.SearchDocument) any { return doc })
}

// mustActivityIndexAs is mustActivityIndex with the stored body of each
// document made by as (see ostest.MustIndexAs).
func mustActivityIndexAs(t *testing.T, events []activity.Event, as func(i int, doc ingest.SearchDocument) any) *activityIndex {
	t.Helper()
	url := stacktest.OpenSearchURL()
	stacktest.MustReach(t, "OpenSearch", stacktest.HostPort(url))
	cfg := ingestos.Config{URLs: []string{url}, IndexPrefix: "test-pit-" + stacktest.RandomID(), Shards: 1}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := ingestos.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ix := &activityIndex{client: client, url: url, prefix: cfg.IndexPrefix, pits: map[string]bool{}}
	t.Cleanup(func() { ix.remove(cfg) })
	ostest.MustIndexAs(t, client, cfg, events, as)
	return ix
}

func (ix *activityIndex) remove(cfg ingestos.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ids []string
	for id := range ix.pits {
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		b, _ := json.Marshal(map[string]any{"pit_id": ids})
		ix.send(ctx, http.MethodDelete, "/_search/point_in_time", string(b))
	}
	ix.send(ctx, http.MethodDelete, "/"+activity.IndexPattern(cfg.IndexPrefix), "")
	ix.send(ctx, http.MethodDelete, "/_index_template/"+activity.IndexAlias(cfg.IndexPrefix), "")
}

func (ix *activityIndex) send(ctx context.Context, method, path, body string) {
	req, _ := http.NewRequestWithContext(ctx, method, ix.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

// pitOf returns the point in time a cursor reads, and remembers it to
// close it when the test ends.
func (ix *activityIndex) pitOf(t *testing.T, text string) string {
	t.Helper()
	body, _, _ := strings.Cut(text, ".")
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("cursor %q: %v", text, err)
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("cursor %q: %v", text, err)
	}
	if c.PIT != "" {
		ix.pits[c.PIT] = true
	}
	return c.PIT
}

// workspaceEvents returns n asset updates in workspace ws, a minute apart,
// all in March 2026.
func workspaceEvents(ws string, n int) []activity.Event {
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	out := make([]activity.Event, n)
	for i := range out {
		e := activity.NewEvent(ws, "asset.updated", start.Add(time.Duration(i)*time.Minute))
		e.Actor = activity.Actor{ID: activity.NewEventID(), Name: "Ann Lee", Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Laptop %d", i)}
		out[i] = e
	}
	return out
}

func owner(ws string) activity.Principal {
	return activity.Principal{WorkspaceID: ws, UserID: activity.NewEventID(), Role: activity.RoleOwner}
}

// TestReplayingACursorOpensOnePointInTime sends one first page's cursor 50
// times to a finder on the real OpenSearch: every answer is the same
// second page, read from one point in time, and OpenSearch holds one point
// in time open for the test's index; the same holds for another cursor
// sent 50 times at once; read to its end, a listing closes its point in
// time.
func TestReplayingACursorOpensOnePointInTime(t *testing.T) {
	ws := activity.NewEventID()
	ix := mustActivityIndex(t, workspaceEvents(ws, 10))
	finder := NewFinder(ix.client, ix.prefix, WithCursorKey([]byte("replay")))
	p := owner(ws)
	first, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: 2})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v (cursor %q)", err, first.NextCursor)
	}
	pits := map[string]bool{}
	var second searchapi.EventPage
	for i := 0; i < 50; i++ {
		page, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: 2, Cursor: first.NextCursor})
		if err != nil {
			t.Fatalf("replay %d: %v", i+1, err)
		}
		if i > 0 && (len(page.Entries) != 2 || page.Entries[0].ID != second.Entries[0].ID || page.Entries[1].ID != second.Entries[1].ID) {
			t.Fatalf("replay %d gave another page", i+1)
		}
		second = page
		pits[ix.pitOf(t, page.NextCursor)] = true
	}
	if len(pits) != 1 {
		t.Errorf("50 replays of one cursor read %d points in time, want 1", len(pits))
	}
	if n := stacktest.OpenPITs(t, ix.url, ix.prefix); n > 1 {
		t.Errorf("OpenSearch holds %d points in time open after 50 replays of one cursor, want at most 1", n)
	}

	// Another listing's first cursor, sent 50 times at once.
	other, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: 3})
	if err != nil || other.NextCursor == "" {
		t.Fatalf("first page: %v (cursor %q)", err, other.NextCursor)
	}
	cursors := make(chan string, 50)
	errs := make(chan error, 50)
	for range 50 {
		go func() {
			page, err := finder.FindEvents(context.Background(), p, searchapi.EventFilter{Limit: 3, Cursor: other.NextCursor})
			errs <- err
			cursors <- page.NextCursor
		}()
	}
	concurrent := map[string]bool{}
	for range 50 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent replay: %v", err)
		}
		concurrent[ix.pitOf(t, <-cursors)] = true
	}
	if len(concurrent) != 1 {
		t.Errorf("50 replays of one cursor at once read %d points in time, want 1", len(concurrent))
	}
	if n := stacktest.OpenPITs(t, ix.url, ix.prefix); n > 2 {
		t.Errorf("OpenSearch holds %d points in time open for two listings, want at most 2", n)
	}

	// Read to its end, the listing closes its point in time.
	next := second.NextCursor
	for next != "" {
		page, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: 2, Cursor: next})
		if err != nil {
			t.Fatal(err)
		}
		next = page.NextCursor
	}
	if n := stacktest.OpenPITs(t, ix.url, ix.prefix); n > 1 {
		t.Errorf("OpenSearch holds %d points in time open after one of two listings reached its last page, want at most 1", n)
	}
}

// TestPointsInTimeAreCappedPerUserAndWorkspace opens listings' second pages
// on the real OpenSearch until a user, then a workspace, holds as many
// points in time as allowed: the next is refused with 429 naming the
// cursor, while the same cursor sent again, and another workspace, still
// page; a listing read to its end, or lapsed, frees its place.
func TestPointsInTimeAreCappedPerUserAndWorkspace(t *testing.T) {
	wsA, wsB := activity.NewEventID(), activity.NewEventID()
	ix := mustActivityIndex(t, append(workspaceEvents(wsA, 10), workspaceEvents(wsB, 10)...))
	now := time.Now()
	finder := NewFinder(ix.client, ix.prefix, WithCursorKey([]byte("caps")), WithClock(func() time.Time { return now }),
		WithConfig(Config{MaxPITsPerUser: 2, MaxPITsPerWorkspace: 3}))
	// second reads the first page of a listing with page size limit, then
	// its second page, and returns the first page's cursor.
	second := func(p activity.Principal, limit int) (string, error) {
		t.Helper()
		first, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: limit})
		if err != nil || first.NextCursor == "" {
			t.Fatalf("first page: %v (cursor %q)", err, first.NextCursor)
		}
		page, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: limit, Cursor: first.NextCursor})
		if err == nil {
			ix.pitOf(t, page.NextCursor)
		}
		return first.NextCursor, err
	}
	mustPage := func(p activity.Principal, limit int) string {
		t.Helper()
		c, err := second(p, limit)
		if err != nil {
			t.Fatalf("second page of a listing of %d: %v", limit, err)
		}
		return c
	}
	wantRefused := func(err error, says string) {
		t.Helper()
		status, detail := httpapi.Describe(err)
		if status != http.StatusTooManyRequests || detail.Code != activity.ETOOMANY || detail.Field != "cursor" || !strings.Contains(detail.Message, says) {
			t.Fatalf("answer %d %+v (%v), want 429 on cursor saying %q", status, detail, err, says)
		}
	}

	u1, u2, u3, other := owner(wsA), owner(wsA), owner(wsA), owner(wsB)
	byOne := mustPage(u1, 1)
	mustPage(u1, 2)
	_, err := second(u1, 3)
	wantRefused(err, "you are reading 2 listings past their first page at once")
	// The same cursor sent again reads the point in time it opened.
	if _, err := finder.FindEvents(t.Context(), u1, searchapi.EventFilter{Limit: 1, Cursor: byOne}); err != nil {
		t.Fatalf("the first cursor sent again: %v", err)
	}
	mustPage(u2, 1)
	_, err = second(u3, 1)
	wantRefused(err, "your workspace is reading 3 listings past their first page at once")
	// Another workspace still pages.
	mustPage(other, 1)
	mustPage(other, 2)

	// u1 reads one listing to its end: the workspace has room again.
	next := byOne
	for next != "" {
		page, err := finder.FindEvents(t.Context(), u1, searchapi.EventFilter{Limit: 1, Cursor: next})
		if err != nil {
			t.Fatal(err)
		}
		next = page.NextCursor
	}
	mustPage(u3, 1)
	_, err = second(u3, 2)
	wantRefused(err, "your workspace")

	// Once their cursors lapse, the points in time count no more.
	now = now.Add(DefaultCursorLifetime)
	mustPage(u3, 2)
	mustPage(u1, 3)
	mustPage(u1, 4)
}
