package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// Recorder records actions of features outside the domain API; the
// settings service is one.
type Recorder interface {
	Record(ctx context.Context, p activity.Principal, a domain.SystemAction) error
}

// Service generates, keeps, lists and exports reports. Every method needs
// domain.ExportData (EFORBIDDEN), checked before anything is read.
type Service struct {
	reporter searchapi.Reporter
	alerts   alert.AlertService
	store    Store
	recorder Recorder
	now      func() time.Time
}

// NewService returns a service that computes reports with reporter, reads
// a security report's alerts from alerts, keeps reports in store and
// records their exports with recorder.
func NewService(reporter searchapi.Reporter, alerts alert.AlertService, store Store, recorder Recorder) *Service {
	return &Service{reporter: reporter, alerts: alerts, store: store, recorder: recorder, now: time.Now}
}

// Generate computes a report of the actions p may see, keeps it, records
// system.report_generated and returns it. It returns EINVALID naming the
// bad field of q (type, range, from, to, users, activity_types), and
// EUNAVAILABLE when the index cannot answer for now; nothing is kept then.
func (s *Service) Generate(ctx context.Context, p activity.Principal, q searchapi.ReportQuery) (Report, error) {
	if err := domain.Require(p, domain.ExportData); err != nil {
		return Report{}, err
	}
	req, err := q.Request(s.now(), searchapi.Zone(p.TimeZone))
	if err != nil {
		return Report{}, err
	}
	res, err := s.reporter.Report(ctx, p, req)
	if err != nil {
		return Report{}, err
	}
	r := Report{
		WorkspaceID: p.WorkspaceID, Type: req.Type, Name: name(req.Type, req.Period),
		Parameters: searchapi.ReportQuery{Type: req.Type, Range: q.Range, From: q.From, To: q.To, Users: req.Users, ActivityTypes: req.ActivityTypes},
		Period:     req.Period, Scope: ScopeOwn,
		GeneratedBy: Person{ID: p.UserID, Name: p.Name, Email: p.Email},
		Result:      Result{ReportResult: res},
	}
	if p.SeesWorkspace() {
		r.Scope = ScopeWorkspace
	}
	if req.Type == searchapi.ReportSecurity {
		if r.Result.Suspicious, err = s.suspicious(ctx, p, req); err != nil {
			return Report{}, err
		}
	}
	return s.store.CreateReport(ctx, p, r)
}

// suspicious reads the alerts raised in the period, newest first, at most
// MaxAlerts of them.
func (s *Service) suspicious(ctx context.Context, p activity.Principal, req searchapi.ReportRequest) (*Suspicious, error) {
	out := &Suspicious{Entries: []SuspiciousAlert{}}
	if !domain.Can(p.Role, domain.ManageAlerts) {
		return out, nil
	}
	out.Visible, out.Complete = true, true
	out.ByState, out.BySeverity = map[string]int64{}, map[string]int64{}
	for _, st := range []string{alert.AlertOpen, alert.AlertAcknowledged, alert.AlertResolved} {
		out.ByState[st] = 0
	}
	for _, sv := range alert.Severities {
		out.BySeverity[sv] = 0
	}
	// Alerts are filtered on the time they were raised, both bounds
	// included; the period's end is not part of it.
	from, to := req.Period.From, req.Period.To.Add(-time.Microsecond)
	f := alert.AlertFilter{From: &from, To: &to, Limit: alert.MaxAlertLimit}
	for {
		page, err := s.alerts.FindAlerts(ctx, p, f)
		if err != nil {
			return nil, fmt.Errorf("read the alerts of the period: %w", err)
		}
		for _, a := range page.Alerts {
			if len(req.Users) > 0 && !(a.Subject.Type == "user" && slices.Contains(req.Users, a.Subject.ID)) {
				continue
			}
			if out.Alerts == MaxAlerts {
				out.Complete = false
				return out, nil
			}
			out.Alerts++
			out.ByState[a.State]++
			out.BySeverity[a.Severity]++
			if len(out.Entries) < searchapi.ReportEntries {
				source := a.Detector
				if a.RuleID != "" {
					source = a.RuleName
				}
				out.Entries = append(out.Entries, SuspiciousAlert{
					ID: a.ID, RaisedAt: a.RaisedAt, Severity: a.Severity, State: a.State, Source: source, Summary: a.Summary, Subject: a.Subject,
				})
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// Find returns a kept report p may see. It returns ENOTFOUND for any other
// id.
func (s *Service) Find(ctx context.Context, p activity.Principal, id string) (Report, error) {
	if err := domain.Require(p, domain.ExportData); err != nil {
		return Report{}, err
	}
	return s.store.FindReport(ctx, p, id)
}

// List returns a page of the reports p may see, newest first. It returns
// EINVALID for a bad filter.
func (s *Service) List(ctx context.Context, p activity.Principal, f Filter) (Page, error) {
	if err := domain.Require(p, domain.ExportData); err != nil {
		return Page{}, err
	}
	if err := f.Validate(); err != nil {
		return Page{}, err
	}
	return s.store.ListReports(ctx, p, f)
}

// Formats a report can be exported in.
const (
	FormatPDF  = "pdf"
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// File is an exported report.
type File struct {
	Name        string
	ContentType string
	Body        []byte
}

// Export renders a kept report in format and records system.data_exported
// before returning it. It returns EINVALID on field format for a format
// other than pdf, csv and json, and ENOTFOUND for a report p may not see.
func (s *Service) Export(ctx context.Context, p activity.Principal, id, format string) (File, error) {
	if err := domain.Require(p, domain.ExportData); err != nil {
		return File{}, err
	}
	if format != FormatPDF && format != FormatCSV && format != FormatJSON {
		return File{}, activity.Errorf(activity.EINVALID, "format", "format must be pdf, csv or json")
	}
	r, err := s.store.FindReport(ctx, p, id)
	if err != nil {
		return File{}, err
	}
	body, err := Render(r, format)
	if err != nil {
		return File{}, err
	}
	f := File{Name: FileName(r, format), ContentType: domain.ArchiveContentType(format), Body: body}
	err = s.recorder.Record(ctx, p, domain.SystemAction{
		Action:   domain.ActionDataExported,
		Resource: activity.Resource{Type: "report", ID: r.ID, Name: r.Name},
		Details:  map[string]any{"dataset": "report", "report_type": r.Type, "format": format, "bytes": len(body)},
	})
	if err != nil {
		return File{}, err
	}
	return f, nil
}

// Render renders r in format: pdf, csv or json.
func Render(r Report, format string) ([]byte, error) {
	var body []byte
	var err error
	switch format {
	case FormatPDF:
		body, err = PDF(r)
	case FormatCSV:
		body, err = CSV(r)
	case FormatJSON:
		body, err = JSON(r)
	default:
		err = fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return nil, fmt.Errorf("render report %s as %s: %w", r.ID, format, err)
	}
	return body, nil
}

// FileName is the name an exported report is downloaded under, such as
// security-report-2026-03-01-to-2026-03-31.pdf.
func FileName(r Report, format string) string {
	b := []byte(heading(r) + " " + PeriodText(r.Period))
	out := make([]byte, 0, len(b))
	dash := false
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out, dash = append(out, c), false
		case c >= 'A' && c <= 'Z':
			out, dash = append(out, c+'a'-'A'), false
		case !dash && len(out) > 0:
			out, dash = append(out, '-'), true
		}
	}
	return string(out) + "." + format
}
