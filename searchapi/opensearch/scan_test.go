package opensearch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// scanEvents returns n events of workspace ws by the given actors in turn,
// a few seconds apart and often several at the same millisecond, so that
// the scan's pages must follow the time and the id to keep their order.
func scanEvents(ws string, actors []string, n int) []activity.Event {
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	actions := []string{"asset.updated", "license.assigned", "auth.login", "asset.created"}
	out := make([]activity.Event, n)
	for i := range out {
		e := activity.NewEvent(ws, actions[i%len(actions)], start.Add(time.Duration(i/3)*time.Second))
		e.Actor = activity.Actor{ID: actors[i%len(actors)], Name: "Ann Lee", Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Laptop %d", i)}
		if i%7 == 0 {
			e.Details = map[string]any{"rows": 1000000, "ratio": 0.25}
		}
		out[i] = e
	}
	return out
}

// listed returns the ids FindEvents lists for filter, page by page.
func listed(t *testing.T, finder *Finder, ix *activityIndex, p activity.Principal, filter searchapi.EventFilter) []string {
	t.Helper()
	var ids []string
	filter.Limit = searchapi.MaxLimit
	for {
		page, err := finder.FindEvents(t.Context(), p, filter)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		ix.pitOf(t, page.NextCursor)
		filter.Cursor = page.NextCursor
	}
}

// TestScanHandsOnWhatTheListingLists scans a workspace of 2,500 entries on
// the real OpenSearch, across pages, with filters and as a member who sees
// only their own actions: the scan hands on exactly the entries the paged
// listing lists, in its order, counts them as the listing does, keeps the
// numbers of their details as they were written, and leaves no point in
// time open.
func TestScanHandsOnWhatTheListingLists(t *testing.T) {
	wsA, wsB := activity.NewEventID(), activity.NewEventID()
	memberID := activity.NewEventID()
	events := append(scanEvents(wsA, []string{activity.NewEventID(), memberID, activity.NewEventID()}, 2500), scanEvents(wsB, []string{memberID}, 300)...)
	ix := mustActivityIndex(t, events)
	finder := NewFinder(ix.client, ix.prefix, WithCursorKey([]byte("scan")))
	owner, member := owner(wsA), activity.Principal{WorkspaceID: wsA, UserID: memberID, Role: activity.RoleMember}
	for _, tt := range []struct {
		name   string
		p      activity.Principal
		filter searchapi.EventFilter
		want   int
	}{
		{"the whole workspace", owner, searchapi.EventFilter{}, 2500},
		{"a category and a search", owner, searchapi.EventFilter{Categories: []string{"asset"}, Query: "laptop"}, 1250},
		{"a period", owner, searchapi.EventFilter{From: "2026-03-10T09:05:00Z", To: "2026-03-10T09:10:00Z"}, 900},
		{"a member, who sees their own actions", member, searchapi.EventFilter{}, 833},
		{"nothing", owner, searchapi.EventFilter{Actions: []string{"license.deleted"}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := listed(t, finder, ix, tt.p, tt.filter)
			var got []string
			var details []map[string]any
			n, err := finder.ScanEvents(t.Context(), tt.p, tt.filter, func(e searchapi.Entry) error {
				if e.WorkspaceID != tt.p.WorkspaceID || e.Summary == "" {
					return fmt.Errorf("entry %s of workspace %s with summary %q", e.ID, e.WorkspaceID, e.Summary)
				}
				got = append(got, e.ID)
				if e.Details != nil {
					details = append(details, e.Details)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != len(got) || len(got) != tt.want || !slices.Equal(got, want) {
				t.Fatalf("the scan handed on %d entries (said %d), the listing lists %d, want %d; same order: %v", len(got), n, len(want), tt.want, slices.Equal(got, want))
			}
			count, err := finder.CountEvents(t.Context(), tt.p, tt.filter)
			if err != nil || count != int64(tt.want) {
				t.Errorf("count %d (%v), want %d", count, err, tt.want)
			}
			for _, d := range details {
				if fmt.Sprint(d["rows"]) != "1000000" || fmt.Sprint(d["ratio"]) != "0.25" {
					t.Fatalf("details %v, want rows 1000000 and ratio 0.25 as written", d)
				}
			}
			if open := stacktest.OpenPITs(t, ix.url, ix.prefix); open != 0 {
				t.Errorf("%d points in time open after the scan, want 0", open)
			}
		})
	}
}

// TestScanStopsAndClosesItsPointInTime ends scans on the real OpenSearch
// by an error of the function that takes the entries and by their context
// ending, and checks that each stops there and closes its point in time.
func TestScanStopsAndClosesItsPointInTime(t *testing.T) {
	ws := activity.NewEventID()
	ix := mustActivityIndex(t, scanEvents(ws, []string{activity.NewEventID()}, 2500))
	finder := NewFinder(ix.client, ix.prefix)
	p := owner(ws)

	gone := errors.New("the client went away")
	n, err := finder.ScanEvents(t.Context(), p, searchapi.EventFilter{}, func(searchapi.Entry) error {
		if open := stacktest.OpenPITs(t, ix.url, ix.prefix); open != 1 {
			t.Errorf("%d points in time open while the scan runs, want 1", open)
		}
		return gone
	})
	if n != 0 || !errors.Is(err, gone) {
		t.Errorf("scan ended by its function: %d entries, error %v", n, err)
	}
	if open := stacktest.OpenPITs(t, ix.url, ix.prefix); open != 0 {
		t.Errorf("%d points in time open after the scan's function failed, want 0", open)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n, err = finder.ScanEvents(ctx, p, searchapi.EventFilter{}, func(searchapi.Entry) error {
		cancel()
		return nil
	})
	if n != ScanPageSize || !errors.Is(err, context.Canceled) {
		t.Errorf("scan ended by its context: %d entries, error %v; want the first page, %d, and context.Canceled", n, err, ScanPageSize)
	}
	if open := stacktest.OpenPITs(t, ix.url, ix.prefix); open != 0 {
		t.Errorf("%d points in time open after the scan's context ended, want 0", open)
	}

	// Under a prefix with no index yet, there is nothing to scan.
	empty := NewFinder(ix.client, "test-empty-"+stacktest.RandomID())
	if n, err := empty.ScanEvents(t.Context(), p, searchapi.EventFilter{}, func(searchapi.Entry) error { return nil }); n != 0 || err != nil {
		t.Errorf("scan of no index: %d, %v", n, err)
	}
	if n, err := empty.CountEvents(t.Context(), p, searchapi.EventFilter{}); n != 0 || err != nil {
		t.Errorf("count of no index: %d, %v", n, err)
	}
}

// TestScansCountAgainstThePointInTimeLimits runs a scan that holds its
// point in time while a user with room for one more reads: a listing's
// second page and another scan are refused with 429, saying that an
// export is running, and succeed once the scan has ended.
func TestScansCountAgainstThePointInTimeLimits(t *testing.T) {
	ws := activity.NewEventID()
	ix := mustActivityIndex(t, scanEvents(ws, []string{activity.NewEventID()}, 20))
	finder := NewFinder(ix.client, ix.prefix, WithConfig(Config{MaxPITsPerUser: 1, MaxPITsPerWorkspace: 2}))
	p, other := owner(ws), owner(ws)
	first, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: 5})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	wantRefused := func(err error, field, says string) {
		t.Helper()
		status, detail := httpapi.Describe(err)
		if status != http.StatusTooManyRequests || detail.Field != field || !strings.Contains(detail.Message, says) {
			t.Errorf("answer %d %+v, want 429 on %q saying %q", status, detail, field, says)
		}
	}
	_, err = finder.ScanEvents(t.Context(), p, searchapi.EventFilter{}, func(searchapi.Entry) error {
		_, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: 5, Cursor: first.NextCursor})
		wantRefused(err, "cursor", "you are reading 1 export at once, the most allowed; read one to its last page or let an export finish")
		_, err = finder.ScanEvents(t.Context(), p, searchapi.EventFilter{}, func(searchapi.Entry) error { return nil })
		wantRefused(err, "", "you are reading 1 export at once")
		// Another user of the workspace takes its last place.
		_, err = finder.ScanEvents(t.Context(), other, searchapi.EventFilter{}, func(searchapi.Entry) error {
			_, err := finder.ScanEvents(t.Context(), owner(ws), searchapi.EventFilter{}, func(searchapi.Entry) error { return nil })
			wantRefused(err, "", "your workspace is reading 2 exports at once")
			return errors.New("enough")
		})
		return errors.New("enough")
	})
	if err == nil || err.Error() != "enough" {
		t.Fatalf("scan: %v", err)
	}
	page, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Limit: 5, Cursor: first.NextCursor})
	if err != nil {
		t.Fatalf("the second page once the scan ended: %v", err)
	}
	ix.pitOf(t, page.NextCursor)
}
