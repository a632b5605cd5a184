package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/ocsf/ocsftest"
	"github.com/fluxera/activity/searchapi"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

// file returns an export of format by an owner in Europe/Berlin on 10
// March 2026, with the filter validated then.
func file(t *testing.T, format Format, f searchapi.EventFilter) File {
	t.Helper()
	at := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)
	if err := f.Validate(at, berlin); err != nil {
		t.Fatal(err)
	}
	return File{
		Format: format, Workspace: "Acme GmbH", WorkspaceID: "0190aaaa-0000-7000-8000-000000000001", At: at, Filter: f,
		By: activity.Principal{WorkspaceID: "0190aaaa-0000-7000-8000-000000000001", UserID: "0190aaaa-0000-7000-8000-0000000000f1",
			Name: "Дмитрий Иванов", Email: "dmitri@example.com", Role: activity.RoleOwner, TimeZone: "Europe/Berlin"},
	}
}

// entries returns three entries: an edit with changes, related resources,
// a location, a note and details; an assignment whose names would run as
// formulas; and a login of someone with a Greek name.
func entries() []searchapi.Entry {
	at := time.Date(2026, 3, 9, 8, 15, 30, 123e6, time.UTC)
	ws := "0190aaaa-0000-7000-8000-000000000001"
	edit := activity.NewEvent(ws, "asset.updated", at)
	edit.Actor = activity.Actor{ID: "0190aaaa-0000-7000-8000-0000000000f1", Name: "Дмитрий Иванов", Email: "dmitri@example.com", Role: "owner", Type: "user"}
	edit.Resource = activity.Resource{Type: "asset", ID: "0190aaaa-0000-7000-8000-00000000a001", Name: "MacBook Pro A-1029"}
	edit.Related = []activity.Resource{{Type: "user", ID: "0190aaaa-0000-7000-8000-0000000000f2", Name: "Jane Roe", Role: "assignee"}}
	edit.Changes = []activity.Change{{Field: "status", Before: "Available", After: "Assigned"}, {Field: "location", After: "Paris"}, {Field: "key", Redacted: true}}
	edit.Context = activity.Context{IP: "192.0.2.10", UserAgent: "Mozilla/5.0 <script>", SessionID: "0190aaaa-0000-7000-8000-00000000c0de", RequestID: "req-1", Method: "web",
		Location: &activity.Location{Country: "DE", City: "Berlin", Network: "Example Telecom"}}
	edit.Note = "Handed over, with \"care\", to Jane"
	edit.Details = map[string]any{"rows": json.Number("1000000"), "tag": "<b>&"}
	formula := activity.NewEvent(ws, "asset.assigned", at.Add(-time.Hour))
	formula.Actor = activity.Actor{Name: "=HYPERLINK(\"http://evil.example\",\"x\")", Email: "+eve@example.com", Type: "user"}
	formula.Resource = activity.Resource{Type: "asset", Name: "-2+3", ID: "0190aaaa-0000-7000-8000-00000000a002"}
	formula.Note = "@SUM(A1:A9)"
	login := activity.NewEvent(ws, "auth.login", at.Add(-2*time.Hour))
	login.Actor = activity.Actor{Name: "Αθηνά Παππά", Type: "user"}
	login.Resource = activity.Resource{Type: "user", Name: "Αθηνά Παππά"}
	var out []searchapi.Entry
	for _, e := range []activity.Event{edit, formula, login} {
		out = append(out, searchapi.Entry{Event: e, Summary: e.Summary()})
	}
	return out
}

// write writes es as x's format and returns the file.
func write(t *testing.T, x File, es []searchapi.Entry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b, x)
	for _, e := range es {
		if err := w.Entry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Format
		bad  bool
	}{
		{"", CSV, false}, {"csv", CSV, false}, {"JSON", JSON, false}, {"ndjson", NDJSON, false}, {"pdf", PDF, false}, {"OCSF", OCSF, false},
		{"xml", "", true}, {"xlsx", "", true}, {" csv", "", true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if tt.bad {
				if status, d := httpapi.Describe(err); status != http.StatusBadRequest || d.Field != "format" || !strings.Contains(d.Message, "csv, json, ndjson, ocsf or pdf") {
					t.Errorf("ParseFormat(%q): %d %+v, want 400 on format", tt.in, status, d)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseFormat(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestNameAndWords(t *testing.T) {
	subject := &activity.Resource{Type: "asset", ID: "0190aaaa-0000-7000-8000-00000000a001"}
	for _, tt := range []struct {
		name      string
		workspace string
		filter    searchapi.EventFilter
		file      string
		period    string
		filters   []string
	}{
		{"everything", "Acme GmbH", searchapi.EventFilter{},
			"activity-acme-gmbh-start-2026-03-10.csv", "All time", []string{"No filter: every entry"}},
		{"last 7 days", "Acme GmbH", searchapi.EventFilter{Range: "7d", Categories: []string{"license", "asset"}},
			"activity-acme-gmbh-2026-03-04-2026-03-10.csv", "The last 7 days, 4 March 2026 to 10 March 2026 (Europe/Berlin)", []string{"Categories: asset, license"}},
		{"today", "東京", searchapi.EventFilter{Range: "today", Outcome: "failure"},
			"activity-0190aaaa-2026-03-10-2026-03-10.csv", "Today, 10 March 2026 (Europe/Berlin)", []string{"Outcome: failure"}},
		{"dates", "  Ops -- Team 7 ", searchapi.EventFilter{From: "2026-02-01", To: "2026-02-28", Query: "macbook", Actions: []string{"license.*"}},
			"activity-ops-team-7-2026-02-01-2026-02-28.csv", "1 February 2026 to 28 February 2026 (Europe/Berlin)", []string{"Search: macbook", "Actions: license.*"}},
		{"one day", "Acme", searchapi.EventFilter{From: "2026-02-01", To: "2026-02-01"},
			"activity-acme-2026-02-01-2026-02-01.csv", "1 February 2026 (Europe/Berlin)", []string{"No filter: every entry"}},
		{"times", "Acme", searchapi.EventFilter{From: "2026-02-01T08:30:00Z", To: "2026-02-02T17:00:00+01:00", IPs: []string{"10.0.0.0/8"}},
			"activity-acme-2026-02-01-2026-02-02.csv", "From 1 February 2026 09:30 to 2 February 2026 17:00 (Europe/Berlin)", []string{"IP addresses: 10.0.0.0/8"}},
		{"since", "Acme", searchapi.EventFilter{From: "2026-02-01"},
			"activity-acme-2026-02-01-2026-03-10.csv", "Since 1 February 2026 (Europe/Berlin)", []string{"No filter: every entry"}},
		{"until", "Acme", searchapi.EventFilter{To: "2026-02-01", Subject: subject},
			"activity-acme-start-2026-02-01.csv", "Until 1 February 2026 included (Europe/Berlin)", []string{"History of asset " + subject.ID}},
		{"own", "Acme", searchapi.EventFilter{Actor: "0190aaaa-0000-7000-8000-0000000000f1", Users: []string{"0190aaaa-0000-7000-8000-0000000000f2"}},
			"activity-acme-start-2026-03-10.csv", "All time", []string{"Actions of your own", "Users: 0190aaaa-0000-7000-8000-0000000000f2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := file(t, CSV, tt.filter)
			x.Workspace = tt.workspace
			if got := x.Name(); got != tt.file {
				t.Errorf("name %q, want %q", got, tt.file)
			}
			if got := x.Period(); got != tt.period {
				t.Errorf("period %q, want %q", got, tt.period)
			}
			if got := x.Filters(); !slices.Equal(got, tt.filters) {
				t.Errorf("filters %q, want %q", got, tt.filters)
			}
		})
	}
	x := file(t, PDF, searchapi.EventFilter{})
	x.By.Role, x.By.Name = activity.RoleMember, "Ann Lee"
	if got := x.Filters(); !slices.Contains(got, "Only the actions of Ann Lee, whose role (member) sees no one else's") {
		t.Errorf("a member's filters %q do not say whose actions", got)
	}
}

// TestCSV reads a CSV export back: a byte order mark, RFC 4180 quoting
// with CRLF line ends, the header, one row per entry with every detail
// and changes in one column, and cells that would run as formulas
// neutralised.
func TestCSV(t *testing.T) {
	raw := write(t, file(t, CSV, searchapi.EventFilter{}), entries())
	if !bytes.HasPrefix(raw, []byte("\ufefftime_utc,")) {
		t.Fatalf("the file starts %q, want a byte order mark and the header", raw[:min(20, len(raw))])
	}
	if !bytes.Contains(raw, []byte("\r\n")) || bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
		t.Error("lines do not all end with CRLF")
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff"))))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], Columns) {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	cell := func(row int, column string) string { return rows[row][slices.Index(Columns, column)] }
	for column, want := range map[string]string{
		"time_utc": "2026-03-09T08:15:30.123Z", "time_local": "2026-03-09T09:15:30.123+01:00", "time_zone": "Europe/Berlin",
		"actor_name": "Дмитрий Иванов", "actor_email": "dmitri@example.com", "actor_role": "owner", "actor_type": "user",
		"action": "asset.updated", "category": "asset", "outcome": "success",
		"summary":       "Дмитрий Иванов updated asset MacBook Pro A-1029",
		"resource_type": "asset", "resource_id": "0190aaaa-0000-7000-8000-00000000a001", "resource_name": "MacBook Pro A-1029",
		"related": "assignee: user Jane Roe [0190aaaa-0000-7000-8000-0000000000f2]",
		"ip":      "192.0.2.10", "location": "Berlin, DE (Example Telecom)", "user_agent": "Mozilla/5.0 <script>", "method": "web",
		"session_id": "0190aaaa-0000-7000-8000-00000000c0de", "request_id": "req-1",
		"changes": "status: Available → Assigned; location: (empty) → Paris; key: changed (hidden)",
		"note":    "Handed over, with \"care\", to Jane", "details": `{"rows":1000000,"tag":"<b>&"}`,
	} {
		if got := cell(1, column); got != want {
			t.Errorf("%s = %q, want %q", column, got, want)
		}
	}
	for column, want := range map[string]string{
		"actor_name": `'=HYPERLINK("http://evil.example","x")`, "actor_email": "'+eve@example.com",
		"resource_name": "'-2+3", "note": "'@SUM(A1:A9)",
	} {
		if got := cell(2, column); got != want {
			t.Errorf("formula cell %s = %q, want %q", column, got, want)
		}
	}
	if got := cell(3, "actor_name"); got != "Αθηνά Παππά" {
		t.Errorf("Greek name %q", got)
	}
	// An empty export is its header alone.
	if raw := write(t, file(t, CSV, searchapi.EventFilter{}), nil); string(raw) != "\ufeff"+strings.Join(Columns, ",")+"\r\n" {
		t.Errorf("empty export %q", raw)
	}
}

// TestJSONAndNDJSON checks that the JSON export is one object whose
// entries are the events that the NDJSON export writes one a line, in the
// public layout, numbers of details as they were read, and that an empty
// export is an empty array and an empty file.
func TestJSONAndNDJSON(t *testing.T) {
	es := entries()
	nd := write(t, file(t, NDJSON, searchapi.EventFilter{}), es)
	lines := strings.Split(strings.TrimSuffix(string(nd), "\n"), "\n")
	if len(lines) != len(es) {
		t.Fatalf("%d lines, want %d", len(lines), len(es))
	}
	var doc struct {
		Entries    []json.RawMessage `json:"entries"`
		Checkpoint json.RawMessage   `json:"checkpoint"`
	}
	js := write(t, file(t, JSON, searchapi.EventFilter{}), es)
	if err := json.Unmarshal(js, &doc); err != nil || len(doc.Entries) != len(es) || string(doc.Checkpoint) != "null" {
		t.Fatalf("JSON export %s: %v", js, err)
	}
	array := doc.Entries
	for i, e := range es {
		if string(array[i]) != lines[i] {
			t.Errorf("entry %d: JSON %s, NDJSON %s", i, array[i], lines[i])
		}
		var back activity.Event
		if err := json.Unmarshal([]byte(lines[i]), &back); err != nil || back.ID != e.ID || back.Action != e.Action || !back.OccurredAt.Equal(e.OccurredAt) {
			t.Errorf("line %d reads back as %+v (%v)", i, back, err)
		}
		if strings.Contains(lines[i], `"summary"`) {
			t.Errorf("line %d is not the event's public layout: %s", i, lines[i])
		}
	}
	if !strings.Contains(lines[0], `"details":{"rows":1000000,"tag":"<b>&"}`) {
		t.Errorf("details written as %s", lines[0])
	}
	if got := write(t, file(t, JSON, searchapi.EventFilter{}), nil); string(got) != "{\"entries\": [],\n\"checkpoint\": null}\n" {
		t.Errorf("empty JSON export %q", got)
	}
	if got := write(t, file(t, NDJSON, searchapi.EventFilter{}), nil); len(got) != 0 {
		t.Errorf("empty NDJSON export %q", got)
	}
}

// TestOCSF writes each entry as one OCSF event a line, under a name that
// says it is NDJSON, and the events match the OCSF schema.
func TestOCSF(t *testing.T) {
	es := entries()
	x := file(t, OCSF, searchapi.EventFilter{})
	if !strings.HasSuffix(x.Name(), ".ocsf.ndjson") || x.Format.ContentType() != "application/x-ndjson; charset=utf-8" {
		t.Errorf("name %q, content type %q", x.Name(), x.Format.ContentType())
	}
	out := write(t, x, es)
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != len(es) {
		t.Fatalf("%d lines, want %d", len(lines), len(es))
	}
	for i, e := range es {
		var o struct {
			ClassUID int `json:"class_uid"`
			Metadata struct {
				UID string `json:"uid"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(lines[i], &o); err != nil || o.ClassUID == 0 || o.Metadata.UID != e.ID {
			t.Errorf("line %d: %s (%v)", i, lines[i], err)
		}
	}
	ocsftest.MustValidate(t, lines)
	if got := write(t, file(t, OCSF, searchapi.EventFilter{}), nil); len(got) != 0 {
		t.Errorf("empty OCSF export %q", got)
	}
}

// TestPDF reads a PDF export with pdftotext: the title page names the
// workspace, who exported it, the period and the filters in words, the
// number of entries and the SHA-256 of the NDJSON export of the same
// entries, and the table shows the entries, names in Cyrillic and Greek
// included, with page numbers. Past MaxPDFEntries, an entry is refused.
func TestPDF(t *testing.T) {
	es := entries()
	x := file(t, PDF, searchapi.EventFilter{Range: "30d", Categories: []string{"asset", "auth"}})
	text := stacktest.PDFText(t, write(t, x, es))
	sum := sha256.Sum256(write(t, file(t, NDJSON, searchapi.EventFilter{}), es))
	for _, want := range []string{
		"Activity export", "Workspace Acme GmbH", "Exported by Дмитрий Иванов <dmitri@example.com>, owner",
		"Period The last 30 days, 9 February 2026 to 10 March 2026 (Europe/Berlin)", "Filters Categories: asset, auth",
		"Entries 3", "SHA-256 " + hex.EncodeToString(sum[:]),
		"Дмитрий Иванов updated asset MacBook Pro", "Αθηνά Παππά logged in", "status: Available → Assigned",
		"2026-03-09 09:15:30", "Page 1 of 3", "Page 2 of 3",
		"Integrity Workspace id 0190aaaa-0000-7000-8000-000000000001 No signed checkpoint covered these entries", "Page 3 of 3",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if text := stacktest.PDFText(t, write(t, x, nil)); !strings.Contains(text, "Entries 0") || !strings.Contains(text, "No entry matches") {
		t.Errorf("an empty PDF export reads %s", text)
	}

	w := NewWriter(&bytes.Buffer{}, x)
	for i := range MaxPDFEntries {
		if err := w.Entry(es[i%len(es)]); err != nil {
			t.Fatalf("entry %d: %v", i+1, err)
		}
	}
	err := w.Entry(es[0])
	var e *activity.Error
	if !errors.As(err, &e) || e.Code != activity.EINVALID || e.Field != "format" || !strings.Contains(e.Message, "narrow the period") {
		t.Errorf("entry %d: %v, want EINVALID on format", MaxPDFEntries+1, err)
	}
}

// TestExportsStateTheCheckpointThatCoversThem writes chained entries in
// each format and checks that each file states the latest checkpoint at
// or below its highest sequence number, where its format puts it, and that
// a file of unchained entries asks for none.
func TestExportsStateTheCheckpointThatCoversThem(t *testing.T) {
	es := entries()
	for i := range es {
		es[i].Chain = &activity.Chain{Seq: int64(12 - i), Hash: strings.Repeat("a", 64), PrevHash: strings.Repeat("b", 64)}
	}
	cp := audit.Checkpoint{WorkspaceID: es[0].WorkspaceID, Seq: 11, Hash: strings.Repeat("c", 64),
		CreatedAt: time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC), KeyID: "0123456789abcdef", Signature: "c2lnbmF0dXJl"}
	withCheckpoint := func(x File) (File, *int64) {
		var asked int64
		x.Checkpoint = func(upTo int64) (*audit.Checkpoint, error) {
			asked = upTo
			return &cp, nil
		}
		return x, &asked
	}
	signed := string(cp.SignedText())
	tests := []struct {
		format Format
		check  func(t *testing.T, b []byte)
	}{
		{NDJSON, func(t *testing.T, b []byte) {
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			var last audit.ExportTrailer
			var raw map[string]any
			if len(lines) != len(es)+1 || json.Unmarshal([]byte(lines[len(es)]), &last) != nil || json.Unmarshal([]byte(lines[len(es)]), &raw) != nil {
				t.Fatalf("NDJSON export:\n%s", b)
			}
			if last.Type != "checkpoint" || last.Checkpoint != cp || raw["checkpoint"].(map[string]any)["signed_text"] != signed {
				t.Errorf("last line %s", lines[len(es)])
			}
		}},
		{JSON, func(t *testing.T, b []byte) {
			var doc struct {
				Entries    []activity.Event
				Checkpoint *audit.Checkpoint
			}
			if err := json.Unmarshal(b, &doc); err != nil || len(doc.Entries) != len(es) || doc.Checkpoint == nil || *doc.Checkpoint != cp {
				t.Errorf("JSON export %s: %v", b, err)
			}
		}},
		{CSV, func(t *testing.T, b []byte) {
			want := "\r\n#checkpoint workspace_id=" + cp.WorkspaceID + " seq=11 hash=" + cp.Hash +
				" created_at=2026-03-10T14:00:00.000Z key_id=0123456789abcdef signature=c2lnbmF0dXJl\r\n"
			if !strings.HasSuffix(string(b), want) {
				t.Errorf("CSV export ends %q", b[max(0, len(b)-300):])
			}
			r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
			r.Comment = '#'
			if rows, err := r.ReadAll(); err != nil || len(rows) != len(es)+1 {
				t.Errorf("a CSV reader that skips comments reads %d rows: %v", len(rows), err)
			}
		}},
		{PDF, func(t *testing.T, b []byte) {
			text := stacktest.PDFText(t, b)
			for _, want := range []string{"Integrity", "Checkpoint sequence number 11", "Hash " + cp.Hash, "Key id 0123456789abcdef",
				"Signature c2lnbmF0dXJl", "Signed at 2026-03-10T14:00:00.000Z", "fluxera verify --file activity.ndjson --keys keys.json"} {
				if !strings.Contains(text, want) {
					t.Errorf("the PDF's text lacks %q:\n%s", want, text)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			x, asked := withCheckpoint(file(t, tt.format, searchapi.EventFilter{}))
			tt.check(t, write(t, x, es))
			if *asked != 12 {
				t.Errorf("asked for the checkpoint at or below %d, want 12, the highest sequence number", *asked)
			}
			*asked = 0
			write(t, x, entries())
			if *asked != 0 {
				t.Errorf("unchained entries asked for a checkpoint")
			}
		})
	}
}
