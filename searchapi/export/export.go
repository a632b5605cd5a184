// Package export writes activity entries as files: CSV for spreadsheets,
// JSON and NDJSON for programs, PDF for people. The streamed formats write
// each entry as it comes and hold nothing else; a PDF, which opens with
// the number of its entries and their checksum, holds its entries until
// its end and takes at most MaxPDFEntries.
package export

import (
	"fmt"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/searchapi"
)

// Format is the kind of file an export is.
type Format string

// Formats of an export.
const (
	CSV    Format = "csv"
	JSON   Format = "json"
	NDJSON Format = "ndjson"
	PDF    Format = "pdf"
	// OCSF is NDJSON of the events mapped to OCSF (see package ocsf), as
	// the OCSF topic carries them.
	OCSF Format = "ocsf"
)

// MaxPDFEntries is the most entries a PDF export may hold; a larger one is
// refused in favour of a shorter period or CSV.
const MaxPDFEntries = 10_000

// ParseFormat reads the format of an export; empty is CSV. It returns
// EINVALID on field format for any other.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "":
		return CSV, nil
	case CSV, JSON, NDJSON, PDF, OCSF:
		return f, nil
	}
	return "", activity.Errorf(activity.EINVALID, "format", "format must be csv, json, ndjson, ocsf or pdf")
}

// ContentType is the media type of a file of the format.
func (f Format) ContentType() string {
	switch f {
	case JSON:
		return "application/json; charset=utf-8"
	case NDJSON, OCSF:
		return "application/x-ndjson; charset=utf-8"
	case PDF:
		return "application/pdf"
	}
	return "text/csv; charset=utf-8"
}

// Ext is the extension of a file of the format: the format's name, and
// ocsf.ndjson for OCSF, whose file is NDJSON.
func (f Format) Ext() string {
	if f == OCSF {
		return "ocsf.ndjson"
	}
	return string(f)
}

// File describes one export: what it holds, whose it is and when it was
// made.
type File struct {
	Format Format
	// Workspace is the workspace's name, WorkspaceID its id.
	Workspace, WorkspaceID string
	// By is who exported it.
	By activity.Principal
	// At is when it was made.
	At time.Time
	// Filter is the validated filter that selected its entries.
	Filter searchapi.EventFilter
	// Checkpoint returns the workspace's latest signed checkpoint at or
	// below the sequence number upTo, nil when there is none. A file
	// states the checkpoint that covers its last entry (see Writer); without
	// Checkpoint, it states none.
	Checkpoint func(upTo int64) (*audit.Checkpoint, error)
}

// Location is the time zone the file gives local times in: the
// workspace's.
func (x File) Location() *time.Location { return searchapi.Zone(x.By.TimeZone) }

// Name is the file's name: activity-<workspace>-<from>-<to>.<format>,
// the workspace's name in lower-case ASCII (its id's start when nothing of
// it is left), and the first and last days of the period in the
// workspace's time zone, start for a period with no beginning and the day
// of the export for one with no end.
func (x File) Name() string {
	loc := x.Location()
	from, to := "start", x.At.In(loc).Format(time.DateOnly)
	if !x.Filter.Since.IsZero() {
		from = x.Filter.Since.In(loc).Format(time.DateOnly)
	}
	if !x.Filter.Until.IsZero() {
		to = x.Filter.Until.Add(-time.Millisecond).In(loc).Format(time.DateOnly)
	}
	return fmt.Sprintf("activity-%s-%s-%s.%s", slug(x.Workspace, x.WorkspaceID), from, to, x.Format.Ext())
}

// slug is name in lower-case ASCII letters and digits, other runs made one
// dash, at most 40 characters; the first 8 characters of id when nothing
// is left.
func slug(name, id string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 40 {
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return id[:min(8, len(id))]
	}
	return b.String()
}

// Filters says in words what the filter selects, one line per kind, in
// the order the activity log's filters are listed; "every entry" when it
// selects everything. Who the caller may see is said too.
func (x File) Filters() []string {
	f := x.Filter
	var out []string
	add := func(label string, values []string) {
		if len(values) > 0 {
			out = append(out, label+": "+strings.Join(values, ", "))
		}
	}
	if f.Subject != nil {
		out = append(out, fmt.Sprintf("History of %s %s", f.Subject.Type, f.Subject.ID))
	}
	if f.Actor != "" {
		who := "user " + f.Actor
		if f.Actor == x.By.UserID {
			who = "your own"
		}
		out = append(out, "Actions of "+who)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		out = append(out, "Search: "+q)
	}
	add("Users", f.Users)
	add("Categories", f.Categories)
	add("Actions", f.Actions)
	add("Resources", f.Resources)
	add("IP addresses", f.IPs)
	if f.Outcome != "" {
		out = append(out, "Outcome: "+f.Outcome)
	}
	if len(out) == 0 {
		out = append(out, "No filter: every entry")
	}
	if !x.By.SeesWorkspace() {
		out = append(out, fmt.Sprintf("Only the actions of %s, whose role (%s) sees no one else's", x.By.Name, x.By.Role))
	}
	return out
}

// Period says in words which period the file covers, in the workspace's
// time zone: whole days as dates, the last one included, and other bounds
// to the minute.
func (x File) Period() string {
	loc, f := x.Location(), x.Filter
	zone := " (" + loc.String() + ")"
	switch {
	case f.Since.IsZero() && f.Until.IsZero():
		return "All time"
	case f.Range == "today":
		return "Today, " + day(f.Since, loc) + zone
	case f.Range != "":
		return fmt.Sprintf("The last %d days, %s to %s%s", searchapi.Ranges[f.Range], day(f.Since, loc), lastDay(f.Until, loc), zone)
	case f.Until.IsZero():
		return "Since " + moment(f.Since, loc, false) + zone
	case f.Since.IsZero():
		return "Until " + moment(f.Until, loc, true) + zone
	}
	if midnight(f.Since, loc) && midnight(f.Until, loc) {
		if first, last := day(f.Since, loc), lastDay(f.Until, loc); first != last {
			return first + " to " + last + zone
		}
		return day(f.Since, loc) + zone
	}
	return "From " + moment(f.Since, loc, false) + " to " + moment(f.Until, loc, true) + zone
}

func day(t time.Time, loc *time.Location) string { return t.In(loc).Format("2 January 2006") }

// lastDay is the day before the excluded end of a period of whole days.
func lastDay(until time.Time, loc *time.Location) string {
	return until.Add(-time.Millisecond).In(loc).Format("2 January 2006")
}

func midnight(t time.Time, loc *time.Location) bool {
	l := t.In(loc)
	return l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0
}

// moment is a bound of a period: a date when it is midnight (for an end,
// the day before, included), a date and time otherwise.
func moment(t time.Time, loc *time.Location, end bool) string {
	if midnight(t, loc) {
		if end {
			return lastDay(t, loc) + " included"
		}
		return day(t, loc)
	}
	return t.In(loc).Format("2 January 2006 15:04")
}

// localTime is an entry's time in loc, and utcTime in UTC, both RFC 3339
// to the millisecond.
func localTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05.000Z07:00")
}

func utcTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// changes says every change of an entry in one line: "status: Available
// → Assigned; key: changed (hidden)".
func changes(cs []activity.Change) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		if c.Redacted {
			parts[i] = c.Field + ": changed (hidden)"
			continue
		}
		parts[i] = c.Field + ": " + orEmpty(c.Before) + " → " + orEmpty(c.After)
	}
	return strings.Join(parts, "; ")
}

func orEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

// resource names a resource: its type, name and id, and for a related one
// the part it took, as in "assignee: user Jane Roe [0190…]".
func resource(r activity.Resource) string {
	s := r.Type
	if r.Name != "" {
		s += " " + r.Name
	}
	if r.ID != "" {
		s += " [" + r.ID + "]"
	}
	if r.Role != "" {
		s = r.Role + ": " + s
	}
	return s
}

// related names every related resource of an entry, separated by "; ".
func related(rs []activity.Resource) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = resource(r)
	}
	return strings.Join(parts, "; ")
}

// location says where an address is, as far as it is known: "Berlin, DE
// (Example Telecom)".
func location(l *activity.Location) string {
	if l == nil {
		return ""
	}
	var parts []string
	for _, p := range []string{l.City, l.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	s := strings.Join(parts, ", ")
	if l.Network != "" {
		s = strings.TrimSpace(s + " (" + l.Network + ")")
	}
	return s
}
