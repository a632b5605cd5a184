package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// Event is one recorded action (docs/event.md).
type Event struct {
	Schema      int        `json:"schema"`
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	OccurredAt  time.Time  `json:"occurred_at"`
	Action      string     `json:"action"`
	Category    string     `json:"category"`
	Outcome     string     `json:"outcome"`
	Actor       Actor      `json:"actor"`
	Resource    Resource   `json:"resource"`
	Related     []Resource `json:"related,omitempty"`
	Changes     []Change   `json:"changes,omitempty"`
	Context     Context    `json:"context"`
	Note        string     `json:"note,omitempty"`
	// Details are the action's own extras.
	Details map[string]any `json:"details,omitempty"`
}

// Actor is who acted: a user, an api_token, the system, or anonymous.
type Actor struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role,omitempty"`
	Type  string `json:"type"`
}

// Resource is what an action was about, or another thing it touched.
type Resource struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
}

// Change is one edited field.
type Change struct {
	Field    string `json:"field"`
	Before   string `json:"before"`
	After    string `json:"after"`
	Redacted bool   `json:"redacted,omitempty"`
}

// Context is where an action came from.
type Context struct {
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Method    string    `json:"method,omitempty"`
	Location  *Location `json:"location,omitempty"`
	TimeZone  string    `json:"time_zone,omitempty"`
}

// Location is where an address is.
type Location struct {
	Country string `json:"country,omitempty"`
	City    string `json:"city,omitempty"`
	Network string `json:"network,omitempty"`
}

// Entry is an event in the activity log, with the action in plain words.
type Entry struct {
	Event
	Summary string `json:"summary"`
}

// EntryPage is a page of the activity log or of a history.
type EntryPage struct {
	Entries []Entry `json:"entries"`
	Total   int64   `json:"total"`
	// NextCursor, unless this is the last page, is the Cursor of the next.
	NextCursor string `json:"next_cursor,omitempty"`
	// Facets are there when the query asked for them.
	Facets json.RawMessage `json:"facets,omitempty"`
}

// EntryDetail is one entry in full: the actor as they were, their session
// and its other entries.
type EntryDetail struct {
	Entry
	User          Actor           `json:"user"`
	Session       json.RawMessage `json:"session"`
	SessionEvents []Entry         `json:"session_events"`
}

// Query filters the activity log, a history or an export; every filter
// given must match (see docs/api.md, Filters). The zero Query is the
// newest page of everything the caller may see.
type Query struct {
	// Q is a search in the log's syntax (docs/search.md).
	Q          string
	Users      []string
	Categories []string
	// Actions are exact, or with *.
	Actions []string
	// Resources are types, or type:id.
	Resources []string
	// IPs are addresses or CIDR ranges.
	IPs     []string
	Outcome string
	// Range is today, 7d, 30d or 90d; or give From and/or To.
	Range    string
	From, To time.Time
	// Limit (1 to 200) and Cursor page the log; exports ignore them.
	Limit  int
	Cursor string
	Facets bool
}

func (q Query) values(paged bool) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", q.Q)
	for k, list := range map[string][]string{"user": q.Users, "category": q.Categories, "action": q.Actions, "resource": q.Resources, "ip": q.IPs} {
		for _, s := range list {
			v.Add(k, s)
		}
	}
	set("outcome", q.Outcome)
	set("range", q.Range)
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339))
	}
	if paged {
		if q.Limit > 0 {
			v.Set("limit", strconv.Itoa(q.Limit))
		}
		set("cursor", q.Cursor)
		if q.Facets {
			v.Set("facets", "true")
		}
	}
	return v
}

func (c *Client) page(ctx context.Context, path string, q Query) (*EntryPage, error) {
	var p EntryPage
	if err := c.do(ctx, "GET", path, q.values(true), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Activity returns a page of the activity log, newest first: the
// workspace's for owners and admins, the caller's own for others. A bad
// filter is an *Error with code invalid naming the parameter.
func (c *Client) Activity(ctx context.Context, q Query) (*EntryPage, error) {
	return c.page(ctx, "/api/v1/activity", q)
}

// MyActivity returns a page of the caller's own actions.
func (c *Client) MyActivity(ctx context.Context, q Query) (*EntryPage, error) {
	return c.page(ctx, "/api/v1/me/activity", q)
}

// UserActivity returns a page of what a member did.
func (c *Client) UserActivity(ctx context.Context, userID string, q Query) (*EntryPage, error) {
	return c.page(ctx, "/api/v1/users/"+id(userID)+"/activity", q)
}

// AssetHistory returns a page of an asset's history, deleted or not.
func (c *Client) AssetHistory(ctx context.Context, assetID string, q Query) (*EntryPage, error) {
	return c.page(ctx, "/api/v1/assets/"+id(assetID)+"/history", q)
}

// LicenseHistory returns a page of a license's history.
func (c *Client) LicenseHistory(ctx context.Context, licenseID string, q Query) (*EntryPage, error) {
	return c.page(ctx, "/api/v1/licenses/"+id(licenseID)+"/history", q)
}

// Entry returns one entry of the log in full; one outside the caller's
// scope is an *Error with code not_found.
func (c *Client) Entry(ctx context.Context, entryID string) (*EntryDetail, error) {
	var d EntryDetail
	if err := c.do(ctx, "GET", "/api/v1/activity/"+id(entryID), nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Export formats.
const (
	CSV    = "csv"
	JSON   = "json"
	NDJSON = "ndjson"
	PDF    = "pdf"
)

func (c *Client) export(ctx context.Context, path string, q Query, format string) (*File, error) {
	v := q.values(false)
	if format != "" {
		v.Set("format", format)
	}
	return c.download(ctx, path, v)
}

// ExportActivity streams the activity log, filtered by q, as a file in
// format (CSV, JSON, NDJSON or PDF; CSV when empty). Close the file.
func (c *Client) ExportActivity(ctx context.Context, q Query, format string) (*File, error) {
	return c.export(ctx, "/api/v1/activity/export", q, format)
}

// ExportMyActivity streams the caller's own actions as a file.
func (c *Client) ExportMyActivity(ctx context.Context, q Query, format string) (*File, error) {
	return c.export(ctx, "/api/v1/me/activity/export", q, format)
}

// ExportUserActivity streams a member's actions as a file.
func (c *Client) ExportUserActivity(ctx context.Context, userID string, q Query, format string) (*File, error) {
	return c.export(ctx, "/api/v1/users/"+id(userID)+"/activity/export", q, format)
}

// ExportAssetHistory streams an asset's history as a file.
func (c *Client) ExportAssetHistory(ctx context.Context, assetID string, q Query, format string) (*File, error) {
	return c.export(ctx, "/api/v1/assets/"+id(assetID)+"/history/export", q, format)
}

// ExportLicenseHistory streams a license's history as a file.
func (c *Client) ExportLicenseHistory(ctx context.Context, licenseID string, q Query, format string) (*File, error) {
	return c.export(ctx, "/api/v1/licenses/"+id(licenseID)+"/history/export", q, format)
}
