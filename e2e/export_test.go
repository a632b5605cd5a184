package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/export"
)

// exportPath is the export of a listing's path, with its query and format.
func exportPath(listing, format string) string {
	path, query, _ := strings.Cut(listing, "?")
	params, _ := url.ParseQuery(query)
	params.Set("format", format)
	return path + "/export?" + params.Encode()
}

// exportedIDs reads the ids of an export's entries, in order, failing the
// test unless the file is well-formed in its format.
func exportedIDs(t *testing.T, format string, body []byte) []string {
	t.Helper()
	var ids []string
	switch format {
	case "csv":
		if !bytes.HasPrefix(body, []byte("\ufeff")) {
			t.Fatalf("the CSV export has no byte order mark: %.40q", body)
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
		r.Comment = '#' // the checkpoint that covers the export
		rows, err := r.ReadAll()
		if err != nil || len(rows) == 0 || !slices.Equal(rows[0], export.Columns) {
			t.Fatalf("the CSV export is not CSV with the export's header (%v): %.200q", err, body)
		}
		column := slices.Index(export.Columns, "id")
		for _, row := range rows[1:] {
			ids = append(ids, row[column])
		}
	case "json":
		var doc struct {
			Entries []activity.Event `json:"entries"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("the JSON export is not an object with an array of events: %v", err)
		}
		for _, e := range doc.Entries {
			ids = append(ids, e.ID)
		}
	case "ndjson":
		for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
			if line == "" || strings.HasPrefix(line, `{"type":"checkpoint",`) {
				continue
			}
			var e activity.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("an NDJSON line is not an event: %v: %s", err, line)
			}
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// mustExportRecorded returns the one event written since seq, which must
// be the record of an export of format with entries entries, complete.
func mustExportRecorded(t *testing.T, ob *outbox, seq int64, by string, format string, entries int) activity.Event {
	t.Helper()
	events, _ := ob.since(seq)
	if len(events) != 1 || events[0].Action != "system.data_exported" || events[0].Actor.ID != by {
		t.Fatalf("the export wrote %d events (%v), want one system.data_exported by its caller", len(events), actionsOf(events))
	}
	d := events[0].Details
	if d["dataset"] != "activity" || d["format"] != format || d["entries"] != float64(entries) || d["complete"] != true ||
		d["filters"] == "" || d["period"] == "" || d["parameters"] == nil || !strings.HasPrefix(events[0].Resource.Name, "activity-") {
		t.Fatalf("the export is recorded as %+v with details %v, want %s with %d entries, complete", events[0].Resource, d, format, entries)
	}
	return events[0]
}

func actionsOf(events []activity.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	return out
}

// TestExport writes events straight into the activity topic and exports
// them: for random filters and routes, the CSV, JSON and NDJSON exports
// hold exactly the entries the paged listing lists, in its order, and each
// export is recorded once with its count; CSV cells that would run as
// formulas are neutralised; the PDF shows the count, the filters in words,
// names in other scripts and the checksum of the NDJSON export; another
// workspace's entries never come back; and bad input and viewers are
// refused.
func TestExport(t *testing.T) {
	cfg := MustStack(t)
	// Without the relay, the index holds only the events written here, and
	// the outbox keeps what the exports record.
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	ob := mustOutbox(t, cfg)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	t.Logf("seed %d", r.Uint64())
	now := time.Now()

	owner := mustOwner(t, m, cfg, "Экспорт Works")
	var me domainUser
	owner.call("GET", "/api/v1/me", nil, nil).decode(t, &me)
	w := &logWorkspace{owner: owner, id: me.WorkspaceID}
	mem := mustRoleMember(t, m, owner.client, activity.RoleMember)
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	assets := []string{activity.NewEventID(), activity.NewEventID(), activity.NewEventID()}
	licenses := []string{activity.NewEventID(), activity.NewEventID()}
	actors := []string{owner.id, mem.id, mem.id, activity.NewEventID()}
	for range 300 + r.IntN(100) {
		w.events = append(w.events, randomEvent(r, w.id, actors, assets, licenses, now))
	}
	// An entry whose cells would run as formulas, and one of someone
	// whose name is Cyrillic, with changes, a note and details.
	formulaAsset := activity.NewEventID()
	formula := activity.NewEvent(w.id, "asset.updated", now.Add(-time.Hour))
	formula.Actor = activity.Actor{ID: owner.id, Name: `=HYPERLINK("http://evil.example","open")`, Email: "+attacker@example.com", Type: activity.ActorUser}
	formula.Resource = activity.Resource{Type: "asset", ID: formulaAsset, Name: "-2+3"}
	formula.Context.IP = "10.1.2.3"
	formula.Note = "@SUM(A1:A9)"
	cyrillic := activity.NewEvent(w.id, "asset.updated", now.Add(-2*time.Hour))
	cyrillic.Actor = activity.Actor{ID: owner.id, Name: "Дмитрий Иванов", Email: "dmitri@example.com", Role: "owner", Type: activity.ActorUser}
	cyrillic.Resource = activity.Resource{Type: "asset", ID: formulaAsset, Name: "Ноутбук A-7"}
	cyrillic.Changes = []activity.Change{{Field: "status", Before: "Available", After: "Assigned"}}
	cyrillic.Context.IP = "192.0.2.10"
	cyrillic.Note = "Выдан Анне"
	cyrillic.Details = map[string]any{"ticket": 4711}
	w.events = append(w.events, formula, cyrillic)
	// Another workspace, in the same indices.
	other := mustOwner(t, m, cfg, "Other Works")
	var otherMe domainUser
	other.call("GET", "/api/v1/me", nil, nil).decode(t, &otherMe)
	otherAssets, otherLicenses := []string{activity.NewEventID()}, []string{activity.NewEventID()}
	var otherEvents []activity.Event
	for range 60 {
		otherEvents = append(otherEvents, randomEvent(r, otherMe.WorkspaceID, []string{other.id}, otherAssets, otherLicenses, now))
	}
	mustWriteEvents(t, cfg, append(slices.Clone(w.events), otherEvents...))
	for _, ws := range []struct {
		owner member
		n     int
	}{{owner, len(w.events)}, {other, len(otherEvents)}} {
		stacktest.Eventually(t, "every event is indexed", func() bool {
			var page searchapi.EventPage
			ws.owner.call("GET", "/api/v1/activity?limit=1", nil, nil).decode(t, &page)
			return page.Total == int64(ws.n)
		})
	}

	t.Run("exports hold exactly the entries the listing lists, in its order, and each is recorded once with its count", func(t *testing.T) {
		for i := range 14 {
			caller := owner
			if r.IntN(3) == 0 {
				caller = mem
			}
			path, _ := randomListing(r, w, mem, assets, licenses, now)
			switch i {
			case 0: // everything, over several pages of the listing
				path = "/api/v1/activity"
			case 1:
				caller, path = mem, "/api/v1/me/activity"
			}
			if caller.id == mem.id && strings.HasPrefix(path, "/api/v1/users/") && !strings.HasPrefix(path, "/api/v1/users/"+mem.id+"/") {
				// Another user's activity, and so its export, is refused
				// to a member (see TestAnotherUsersActivityIsRefusedToMembers).
				if a := caller.call("GET", exportPath(path, "csv"), nil, nil); a.status != http.StatusForbidden {
					t.Fatalf("%d: %s as a member: %d, want 403", i, exportPath(path, "csv"), a.status)
				}
				continue
			}
			want := listAll(t, caller.client, path, 1+r.IntN(200))
			if want.status != http.StatusOK {
				t.Fatalf("%d: %s as %s: %d %+v", i, path, caller.role, want.status, want.err)
			}
			t.Logf("%s as %s: %d entries", path, caller.role, len(want.ids))
			for _, format := range []string{"csv", "json", "ndjson"} {
				before := ob.last()
				a := caller.call("GET", exportPath(path, format), nil, nil)
				if a.status != http.StatusOK {
					t.Fatalf("%s as %s: %d %s", exportPath(path, format), caller.role, a.status, a.body)
				}
				if got := exportedIDs(t, format, a.body); !slices.Equal(got, want.ids) {
					t.Fatalf("%s as %s: %d entries, the listing %d (same order: %v)", exportPath(path, format), caller.role, len(got), len(want.ids), slices.Equal(got, want.ids))
				}
				disposition := a.header.Get("Content-Disposition")
				if !strings.HasPrefix(disposition, "attachment; filename=activity-works-") || !strings.HasSuffix(disposition, "."+format) ||
					a.header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: Content-Disposition %q, Cache-Control %q", exportPath(path, format), disposition, a.header.Get("Cache-Control"))
				}
				mustExportRecorded(t, ob, before, caller.id, format, len(want.ids))
			}
		}
	})

	t.Run("another workspace's entries never come back", func(t *testing.T) {
		for _, path := range []string{
			"/api/v1/activity/export?format=ndjson",
			"/api/v1/activity/export?format=csv&user=" + other.id,
			"/api/v1/activity/export?format=json&q=" + url.QueryEscape(other.email),
			"/api/v1/users/" + other.id + "/activity/export?format=ndjson",
			"/api/v1/assets/" + otherAssets[0] + "/history/export?format=ndjson",
			"/api/v1/licenses/" + otherLicenses[0] + "/history/export?format=csv",
		} {
			a := owner.call("GET", path, nil, nil)
			if a.status != http.StatusOK {
				t.Fatalf("%s: %d %s", path, a.status, a.body)
			}
			for _, e := range otherEvents {
				if bytes.Contains(a.body, []byte(e.ID)) {
					t.Fatalf("%s holds %s, an entry of another workspace", path, e.ID)
				}
			}
			if bytes.Contains(a.body, []byte(other.email)) || bytes.Contains(a.body, []byte(otherMe.WorkspaceID)) {
				t.Errorf("%s names another workspace or its owner", path)
			}
		}
	})

	t.Run("formula cells are neutralised", func(t *testing.T) {
		a := owner.call("GET", "/api/v1/assets/"+formulaAsset+"/history/export?format=csv", nil, nil)
		if a.status != http.StatusOK {
			t.Fatalf("%d %s", a.status, a.body)
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(a.body, []byte("\ufeff")))).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Fatalf("%d rows (%v): %s", len(rows), err, a.body)
		}
		cell := func(row int, column string) string { return rows[row][slices.Index(export.Columns, column)] }
		for column, want := range map[string]string{
			"actor_name": `'=HYPERLINK("http://evil.example","open")`, "actor_email": "'+attacker@example.com",
			"resource_name": "'-2+3", "note": "'@SUM(A1:A9)",
		} {
			if got := cell(1, column); got != want {
				t.Errorf("%s = %q, want %q", column, got, want)
			}
		}
		if cell(2, "actor_name") != "Дмитрий Иванов" || cell(2, "changes") != "status: Available → Assigned" || cell(2, "note") != "Выдан Анне" ||
			cell(2, "details") != `{"ticket":4711}` || cell(2, "time_zone") != "Europe/Berlin" {
			t.Errorf("the Cyrillic entry reads %q", rows[2])
		}
	})

	t.Run("the PDF shows the count, the filters in words and the NDJSON export's checksum", func(t *testing.T) {
		query := "?category=asset&from=" + now.AddDate(0, 0, -40).Format(time.DateOnly)
		want := listAll(t, owner.client, "/api/v1/activity"+query, 200)
		before := ob.last()
		a := owner.call("GET", "/api/v1/activity/export"+query+"&format=pdf", nil, nil)
		if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("%d %s: %.200s", a.status, a.header.Get("Content-Type"), a.body)
		}
		mustExportRecorded(t, ob, before, owner.id, "pdf", len(want.ids))
		nd := owner.call("GET", "/api/v1/activity/export"+query+"&format=ndjson", nil, nil)
		sum := sha256.Sum256(nd.body)
		text := stacktest.PDFText(t, a.body)
		for _, s := range []string{
			"Workspace Экспорт Works", "Exported by Экспорт Works Owner <" + owner.email + ">, owner",
			fmt.Sprintf("Entries %d", len(want.ids)), "Categories: asset", "Since " + now.AddDate(0, 0, -40).Format("2 January 2006") + " (Europe/Berlin)",
			"SHA-256 " + hex.EncodeToString(sum[:]), "Дмитрий Иванов", "status: Available → Assigned", "Page 1 of",
		} {
			if !strings.Contains(text, s) {
				t.Errorf("the PDF's text lacks %q", s)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tt := range []struct{ path, field, msg string }{
			{"/api/v1/activity/export?format=xml", "format", "format must be csv, json, ndjson, ocsf or pdf"},
			{"/api/v1/activity/export?format=", "format", "format has no value"},
			{"/api/v1/activity/export?format=csv&format=pdf", "format", "format is given more than once"},
			{"/api/v1/activity/export?limit=5", "limit", `unknown filter "limit"`},
			{"/api/v1/activity/export?cursor=abc", "cursor", `unknown filter "cursor"`},
			{"/api/v1/activity/export?range=1y", "range", "range must be one of"},
			{"/api/v1/me/activity/export?from=2026-13-01", "from", "from must be a date"},
			{"/api/v1/assets/42/history/export", "id", `"42" is not an id`},
		} {
			before := ob.last()
			wantRefused(t, owner.call("GET", tt.path, nil, nil), tt.field, tt.msg)
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("%s wrote %v", tt.path, actionsOf(events))
			}
		}
		before := ob.last()
		a := viewer.call("GET", "/api/v1/activity/export?format=csv", nil, nil)
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusForbidden || e.Error.Code != activity.EFORBIDDEN {
			t.Errorf("a viewer's export: %d %s", a.status, a.body)
		}
		if events, _ := ob.since(before); len(events) != 1 || events[0].Action != "auth.access_denied" || events[0].Actor.ID != viewer.id {
			t.Errorf("a viewer's export wrote %v, want one auth.access_denied", actionsOf(events))
		}
	})
}

// exportDocs returns n documents of asset updates in workspace ws, one a
// second before end, as the indexer stores them, starting at the i-th.
func exportDocs(prefix, ws, actor string, end time.Time, from, n int) []ingest.Document {
	docs := make([]ingest.Document, 0, n)
	for i := from; i < from+n; i++ {
		e := activity.NewEvent(ws, "asset.updated", end.Add(-time.Duration(i+1)*time.Second))
		e.Actor = activity.Actor{ID: actor, Name: "Bulk Owner", Email: "bulk@example.com", Role: "owner", Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Laptop %d", i)}
		e.Changes = []activity.Change{{Field: "location", Before: "Berlin HQ, 3rd floor", After: "Munich office"}}
		e.Context = activity.Context{IP: "192.0.2.10", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", Method: "web", TimeZone: "Europe/Berlin"}
		b, _ := json.Marshal(ingest.NewDocument(e, time.Now()))
		docs = append(docs, ingest.Document{Index: activity.IndexName(prefix, e.OccurredAt), ID: e.ID, Body: b})
	}
	return docs
}

// TestExportOfManyEntries stores 200,000 entries of one workspace straight
// in the test's indices and exports them: the NDJSON export holds them
// all, newest first, while the heap of the process (the API's and the
// test's) stays far below the size of the file; an export holds its point
// in time against the caller's limit while it runs; a client that goes
// away mid-export leaves no point in time open and the export is recorded
// as cut short; a PDF of them all is refused, naming format.
func TestExportOfManyEntries(t *testing.T) {
	const entries = 200_000
	cfg := MustStack(t)
	cfg.Search.MaxPITsPerUser = 1
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Bulk Exports")
	var me domainUser
	owner.call("GET", "/api/v1/me", nil, nil).decode(t, &me)

	ctx := context.Background()
	osc, err := ingestos.NewClient(cfg.OpenSearch)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingestos.EnsureTemplate(ctx, osc, cfg.OpenSearch); err != nil {
		t.Fatal(err)
	}
	sink := ingestos.NewSink(osc)
	end := time.Now().Add(-time.Minute)
	for i := 0; i < entries; i += 5000 {
		res, err := sink.Bulk(ctx, exportDocs(cfg.OpenSearch.IndexPrefix, me.WorkspaceID, owner.id, end, i, 5000))
		if err != nil {
			t.Fatal(err)
		}
		for j, item := range res.Items {
			if item != ingest.Indexed {
				t.Fatalf("document %d not indexed: %s", i+j, res.Reasons[j])
			}
		}
	}
	if err := ingestos.Refresh(ctx, osc, cfg.OpenSearch.IndexPrefix); err != nil {
		t.Fatal(err)
	}
	// The owner's session, without a deadline that a slow machine would
	// turn into a timed assertion on exports of a hundred megabytes.
	download := &http.Client{Jar: owner.http.Jar, Transport: owner.http.Transport}

	t.Run("an NDJSON export of 200,000 entries holds them all, newest first, in flat memory", func(t *testing.T) {
		before := ob.last()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var peak atomic.Uint64
		stop := make(chan struct{})
		var sampled sync.WaitGroup
		sampled.Add(1)
		go func() {
			defer sampled.Done()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}
		}()
		req, _ := http.NewRequest("GET", owner.base+"/api/v1/activity/export?format=ndjson", nil)
		res, err := download.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		counted := &countingReader{r: res.Body}
		lines := bufio.NewScanner(counted)
		lines.Buffer(make([]byte, 64<<10), 1<<20)
		n, last := 0, time.Time{}
		for lines.Scan() {
			var e struct {
				OccurredAt time.Time `json:"occurred_at"`
			}
			if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
				t.Fatalf("line %d: %v", n+1, err)
			}
			if n > 0 && e.OccurredAt.After(last) {
				t.Fatalf("line %d is newer than the one before", n+1)
			}
			last = e.OccurredAt
			n++
		}
		res.Body.Close()
		close(stop)
		sampled.Wait()
		if err := lines.Err(); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, read: %v", res.StatusCode, err)
		}
		grew := int64(peak.Load()) - int64(base)
		t.Logf("%d entries, %.1f MB; the heap in use grew by at most %.1f MB", n, float64(counted.n)/1e6, float64(grew)/1e6)
		if n != entries {
			t.Fatalf("%d entries, want %d", n, entries)
		}
		if limit := counted.n / 4; grew > limit {
			t.Errorf("the heap in use grew by %.1f MB during an export of %.1f MB, want under %.1f MB (a quarter)", float64(grew)/1e6, float64(counted.n)/1e6, float64(limit)/1e6)
		}
		mustExportRecorded(t, ob, before, owner.id, "ndjson", entries)
		if open := stacktest.OpenPITs(t, cfg.OpenSearch.URLs[0], cfg.OpenSearch.IndexPrefix); open != 0 {
			t.Errorf("%d points in time open after the export, want 0", open)
		}
	})

	t.Run("a client that goes away mid-export leaves no point in time open and is recorded as cut short", func(t *testing.T) {
		before := ob.last()
		req, _ := http.NewRequest("GET", owner.base+"/api/v1/activity/export?format=csv", nil)
		res, err := download.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, res.Body, 1<<20); err != nil {
			t.Fatal(err)
		}
		if open := stacktest.OpenPITs(t, cfg.OpenSearch.URLs[0], cfg.OpenSearch.IndexPrefix); open < 1 {
			t.Errorf("%d points in time open while the export runs, want its own", open)
		}
		// The caller may hold one point in time at once, and the export
		// holds it while it runs: another is refused before it begins.
		a := owner.call("GET", "/api/v1/me/activity/export?format=json", nil, nil)
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusTooManyRequests || e.Error.Code != activity.ETOOMANY || !strings.Contains(e.Error.Message, "you are reading 1 export at once") {
			t.Errorf("a second export while one runs: %d %s", a.status, a.body)
		}
		res.Body.Close() // before its end: the connection is closed
		var recorded activity.Event
		stacktest.Eventually(t, "the export is recorded once it ends", func() bool {
			events, _ := ob.since(before)
			if len(events) == 0 {
				return false
			}
			recorded = events[0]
			return true
		})
		d := recorded.Details
		sent, _ := d["entries"].(float64)
		if recorded.Action != "system.data_exported" || d["complete"] != false || sent <= 0 || sent >= entries || d["ended"] != "the client went away, or stopped reading, before the end of the download" {
			t.Errorf("the cut-short export is recorded as %s with %v", recorded.Action, d)
		}
		if open := stacktest.OpenPITs(t, cfg.OpenSearch.URLs[0], cfg.OpenSearch.IndexPrefix); open != 0 {
			t.Errorf("%d points in time open after the client went away, want 0", open)
		}
	})

	t.Run("a PDF of more than 10,000 entries is refused", func(t *testing.T) {
		before := ob.last()
		wantRefused(t, owner.call("GET", "/api/v1/activity/export?format=pdf", nil, nil), "format",
			fmt.Sprintf("a PDF export holds at most 10000 entries and these filters select %d; narrow the period", entries))
		if events, _ := ob.since(before); len(events) != 0 {
			t.Errorf("the refused PDF wrote %v", actionsOf(events))
		}
		// The last hour's 3,600 entries make one.
		a := owner.call("GET", "/api/v1/activity/export?format=pdf&from="+url.QueryEscape(end.Add(-time.Hour).UTC().Format(time.RFC3339)), nil, nil)
		if a.status != http.StatusOK || !bytes.HasPrefix(a.body, []byte("%PDF-")) {
			t.Fatalf("a PDF of the last hour: %d %.100s", a.status, a.body)
		}
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
