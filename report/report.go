// Package report generates a workspace's activity reports — user activity,
// asset activity, license activity and security — from the search index
// and the workspace's alerts, keeps each with its parameters and results,
// and renders a kept report as PDF, CSV or JSON.
//
// It builds on the search API's Reporter and the alert service; the
// storage in domain/postgres implements its Store.
package report

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// Scopes of a report: the whole workspace's actions, for owners and
// admins, or the caller's own, for others.
const (
	ScopeWorkspace = "workspace"
	ScopeOwn       = "own"
)

// Report is a generated report as it is kept: what was asked, for which
// workspace and period, by whom and when, and what came out.
type Report struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// Workspace is the workspace's name when the report was generated.
	Workspace string `json:"workspace"`
	Type      string `json:"type"`
	// Name says the type and the period, such as "Security report,
	// 2026-03-01 to 2026-03-31".
	Name string `json:"name"`
	// Parameters are what the caller asked for, users and activity types
	// in the form events store them.
	Parameters searchapi.ReportQuery `json:"parameters"`
	// Period is the period the parameters resolved to, in the workspace's
	// time zone.
	Period searchapi.Period `json:"period"`
	// Scope is ScopeWorkspace or ScopeOwn.
	Scope       string    `json:"scope"`
	GeneratedBy Person    `json:"generated_by"`
	GeneratedAt time.Time `json:"generated_at"`
	// DefinitionID is the custom report definition the report was made
	// from, if any; ScheduledFor the due time of the scheduled run that
	// made it.
	DefinitionID string     `json:"definition_id,omitempty"`
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"`
	// Files are the report's rendered files kept in the archive store: a
	// custom report's, one per format of its definition.
	Files  []domain.ArchiveObject `json:"files,omitempty"`
	Result Result                 `json:"result"`
}

// Person is who generated a report, as they were then.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// label names the person as "Name <email>", or by what is known of them.
func (p Person) label() string {
	switch {
	case p.Name != "" && p.Email != "":
		return p.Name + " <" + p.Email + ">"
	case p.Name != "":
		return p.Name
	case p.Email != "":
		return p.Email
	}
	return p.ID
}

// Result is what a report found: the search index's sections and, in a
// security report, the alerts raised in the period.
type Result struct {
	searchapi.ReportResult
	Suspicious *Suspicious `json:"suspicious_activity,omitempty"`
}

// Suspicious is the suspicious activity of a security report: the alerts
// raised in the period about anyone, or, when users were asked for, about
// those users, with their state when the report was generated.
type Suspicious struct {
	// Visible is false when the caller may not see alerts (only owners
	// and admins may); nothing else is set then.
	Visible bool  `json:"visible"`
	Alerts  int64 `json:"alerts"`
	// Complete is false when the period held more than MaxAlerts alerts
	// and only the newest were counted.
	Complete   bool              `json:"complete"`
	ByState    map[string]int64  `json:"by_state,omitempty"`
	BySeverity map[string]int64  `json:"by_severity,omitempty"`
	Entries    []SuspiciousAlert `json:"entries"`
}

// MaxAlerts is the most alerts a security report counts.
const MaxAlerts = 1000

// SuspiciousAlert is one alert raised in a report's period.
type SuspiciousAlert struct {
	ID       string    `json:"id"`
	RaisedAt time.Time `json:"raised_at"`
	Severity string    `json:"severity"`
	State    string    `json:"state"`
	// Source is the built-in detector or the alert rule's name.
	Source  string             `json:"source"`
	Summary string             `json:"summary"`
	Subject alert.AlertSubject `json:"subject"`
}

// Summary is a kept report as a listing shows it, without its result.
type Summary struct {
	ID          string           `json:"id"`
	Type        string           `json:"type"`
	Name        string           `json:"name"`
	Period      searchapi.Period `json:"period"`
	Scope       string           `json:"scope"`
	GeneratedBy Person           `json:"generated_by"`
	GeneratedAt time.Time        `json:"generated_at"`
	// Total is how many actions the report covers.
	Total        int64      `json:"total"`
	DefinitionID string     `json:"definition_id,omitempty"`
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"`
}

// Listing limits of reports.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Filter narrows a listing of reports.
type Filter struct {
	// Type is one of searchapi.ReportTypes or searchapi.ReportCustom, or
	// empty for every type.
	Type string
	// DefinitionID narrows the listing to the reports of one custom
	// report definition.
	DefinitionID string
	// Limit is the page size, 1 to MaxLimit; zero is DefaultLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

// Validate fills in the default limit and checks the filter. It returns
// EINVALID naming type, limit or cursor.
func (f *Filter) Validate() error {
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	switch {
	case f.Type != "" && f.Type != searchapi.ReportCustom && !slices.Contains(searchapi.ReportTypes, f.Type):
		return activity.Errorf(activity.EINVALID, "type", "type must be one of %s or %s", strings.Join(searchapi.ReportTypes, ", "), searchapi.ReportCustom)
	case f.DefinitionID != "" && !activity.ValidUUID(f.DefinitionID):
		return activity.Errorf(activity.EINVALID, "definition_id", "definition_id is not a report definition id")
	case f.Limit < 1 || f.Limit > MaxLimit:
		return activity.Errorf(activity.EINVALID, "limit", "limit must be between 1 and %d", MaxLimit)
	}
	if f.Cursor != "" {
		if _, err := DecodeCursor(f.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// Page is one page of reports, newest first. NextCursor is empty on the
// last page.
type Page struct {
	Reports    []Summary `json:"reports"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// Cursor is where a page of reports ends: reports are listed newest first
// by the time they were generated, then by id.
type Cursor struct {
	GeneratedAt time.Time `json:"t"`
	ID          string    `json:"id"`
}

// Encode returns the cursor as an opaque string.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by Encode. It returns EINVALID on field
// cursor for anything else.
func DecodeCursor(s string) (Cursor, error) {
	var c Cursor
	bad := activity.Errorf(activity.EINVALID, "cursor", "cursor is not one this API gave out; pass next_cursor of the previous page as it was")
	if len(s) > 200 {
		return c, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, bad
	}
	if err := json.Unmarshal(b, &c); err != nil || c.GeneratedAt.IsZero() || c.GeneratedAt.Year() > 9999 || !activity.ValidUUID(c.ID) {
		return c, bad
	}
	return c, nil
}

// Store keeps generated reports. A caller who may see the whole workspace
// sees every report of it; anyone else sees only the reports they
// generated. Every method needs domain.ExportData (EFORBIDDEN).
type Store interface {
	// CreateReport keeps r as generated by p, with a new id, the time it
	// is kept and the workspace's name, and records
	// system.report_generated in the same transaction.
	CreateReport(ctx context.Context, p activity.Principal, r Report) (Report, error)
	// FindReport returns one report p may see. Another workspace's, a
	// malformed id and a report p may not see are ENOTFOUND alike.
	FindReport(ctx context.Context, p activity.Principal, id string) (Report, error)
	// ListReports returns a page of the reports p may see, newest first.
	// It returns EINVALID for a bad filter.
	ListReports(ctx context.Context, p activity.Principal, f Filter) (Page, error)
}

// Title is the product's name of a type of report.
func Title(typ string) string {
	switch typ {
	case searchapi.ReportUser:
		return "User activity report"
	case searchapi.ReportAsset:
		return "Asset activity report"
	case searchapi.ReportLicense:
		return "License activity report"
	case searchapi.ReportSecurity:
		return "Security report"
	case searchapi.ReportCustom:
		return "Custom report"
	}
	return "Report"
}

// PeriodText says a period in its time zone: whole days as dates, the last
// one included ("2026-03-01 to 2026-03-31"), other bounds with the time.
func PeriodText(p searchapi.Period) string {
	loc := p.Location
	if loc == nil {
		loc = searchapi.Zone(p.TimeZone)
	}
	from, to := p.From.In(loc), p.To.In(loc)
	midnight := func(t time.Time) bool {
		return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	}
	if midnight(from) && midnight(to) {
		last := to.AddDate(0, 0, -1)
		if last.Format(time.DateOnly) == from.Format(time.DateOnly) {
			return from.Format(time.DateOnly)
		}
		return from.Format(time.DateOnly) + " to " + last.Format(time.DateOnly)
	}
	const layout = "2006-01-02 15:04"
	return from.Format(layout) + " to " + to.Format(layout)
}

// heading is what a report is called on its title page and in its file
// names: its type's title, or a custom report's own name.
func heading(r Report) string {
	if r.Type == searchapi.ReportCustom {
		if h, ok := strings.CutSuffix(r.Name, ", "+PeriodText(r.Period)); ok && h != "" {
			return h
		}
		return r.Name
	}
	return Title(r.Type)
}

// name returns the name of a report of typ over period.
func name(typ string, period searchapi.Period) string {
	return Title(typ) + ", " + PeriodText(period)
}
