package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// ReportRequest asks for a report: Type is user, asset, license or
// security; the period is Range (today, 7d, 30d, 90d) or From and To.
type ReportRequest struct {
	Type          string   `json:"type"`
	Range         string   `json:"range,omitempty"`
	From          string   `json:"from,omitempty"`
	To            string   `json:"to,omitempty"`
	Users         []string `json:"users,omitempty"`
	ActivityTypes []string `json:"activity_types,omitempty"`
}

// Period is the time a report covers.
type Period struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TimeZone string    `json:"time_zone"`
}

// Person is who generated a report.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// ReportSummary is a report as the list shows it.
type ReportSummary struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Name         string     `json:"name"`
	Period       Period     `json:"period"`
	Scope        string     `json:"scope"`
	GeneratedBy  Person     `json:"generated_by"`
	GeneratedAt  time.Time  `json:"generated_at"`
	Total        int64      `json:"total"`
	DefinitionID string     `json:"definition_id,omitempty"`
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"`
}

// Report is a kept report; Result holds its sections, by type (see
// docs/api.md, Reports).
type Report struct {
	ID           string          `json:"id"`
	WorkspaceID  string          `json:"workspace_id"`
	Workspace    string          `json:"workspace"`
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Parameters   json.RawMessage `json:"parameters"`
	Period       Period          `json:"period"`
	Scope        string          `json:"scope"`
	GeneratedBy  Person          `json:"generated_by"`
	GeneratedAt  time.Time       `json:"generated_at"`
	DefinitionID string          `json:"definition_id,omitempty"`
	ScheduledFor *time.Time      `json:"scheduled_for,omitempty"`
	Result       json.RawMessage `json:"result"`
}

// ReportPage is a page of reports, newest first.
type ReportPage struct {
	Reports    []ReportSummary `json:"reports"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// ReportFilter picks reports: by Type (or custom), by DefinitionID, and a
// page of Limit from Cursor.
type ReportFilter struct {
	Type, DefinitionID, Cursor string
	Limit                      int
}

// GenerateReport generates a report and keeps it. A bad value is an
// *Error with code invalid naming the field.
func (c *Client) GenerateReport(ctx context.Context, in ReportRequest) (*Report, error) {
	var r Report
	if err := c.do(ctx, "POST", "/api/v1/reports", nil, in, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Reports lists the reports the caller may see.
func (c *Client) Reports(ctx context.Context, f ReportFilter) (*ReportPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"type": f.Type, "definition_id": f.DefinitionID, "cursor": f.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	var p ReportPage
	if err := c.do(ctx, "GET", "/api/v1/reports", v, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Report returns a kept report.
func (c *Client) Report(ctx context.Context, reportID string) (*Report, error) {
	var r Report
	if err := c.do(ctx, "GET", "/api/v1/reports/"+id(reportID), nil, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ExportReport returns a kept report as a file: PDF (when format is
// empty), CSV or JSON. Close the file.
func (c *Client) ExportReport(ctx context.Context, reportID, format string) (*File, error) {
	v := url.Values{}
	if format != "" {
		v.Set("format", format)
	}
	return c.download(ctx, "/api/v1/reports/"+id(reportID)+"/export", v)
}
