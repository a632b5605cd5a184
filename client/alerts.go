package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Alert is an alert raised by a detector or an alert rule.
type Alert struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Detector    string `json:"detector,omitempty"`
	RuleID      string `json:"rule_id,omitempty"`
	RuleName    string `json:"rule_name,omitempty"`
	Severity    string `json:"severity"`
	// State is open, acknowledged or resolved.
	State      string         `json:"state"`
	Summary    string         `json:"summary"`
	Subject    AlertSubject   `json:"subject"`
	Count      int64          `json:"count"`
	Window     string         `json:"window,omitempty"`
	OccurredAt time.Time      `json:"occurred_at"`
	RaisedAt   time.Time      `json:"raised_at"`
	EventIDs   []string       `json:"event_ids"`
	Details    map[string]any `json:"details,omitempty"`
	// AcknowledgedAt and ResolvedAt say when its state changed.
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
}

// AlertSubject is what an alert is about.
type AlertSubject struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Label string `json:"label,omitempty"`
}

// AlertPage is a page of alerts, newest first.
type AlertPage struct {
	Alerts     []Alert `json:"alerts"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// AlertFilter picks alerts; every field given must match.
type AlertFilter struct {
	State, Severity, Detector, RuleID, Cursor string
	From, To                                  time.Time
	Limit                                     int
}

// Alerts lists alerts (owners and admins only: others get an *Error with
// code forbidden).
func (c *Client) Alerts(ctx context.Context, f AlertFilter) (*AlertPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "severity": f.Severity, "detector": f.Detector, "rule_id": f.RuleID, "cursor": f.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !f.From.IsZero() {
		v.Set("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		v.Set("to", f.To.UTC().Format(time.RFC3339))
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	var p AlertPage
	if err := c.do(ctx, "GET", "/api/v1/alerts", v, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Alert returns one alert.
func (c *Client) Alert(ctx context.Context, alertID string) (*Alert, error) {
	return c.alert(ctx, "GET", "/api/v1/alerts/"+id(alertID), nil)
}

// AcknowledgeAlert acknowledges an open alert; one already acknowledged
// or resolved is an *Error with code conflict.
func (c *Client) AcknowledgeAlert(ctx context.Context, alertID, why string) (*Alert, error) {
	return c.alert(ctx, "POST", "/api/v1/alerts/"+id(alertID)+"/acknowledge", note{why})
}

// ResolveAlert resolves an alert.
func (c *Client) ResolveAlert(ctx context.Context, alertID, why string) (*Alert, error) {
	return c.alert(ctx, "POST", "/api/v1/alerts/"+id(alertID)+"/resolve", note{why})
}

func (c *Client) alert(ctx context.Context, method, path string, in any) (*Alert, error) {
	var a Alert
	if err := c.do(ctx, method, path, nil, in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// AlertRule raises an alert when matching actions pass a threshold.
type AlertRule struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	Enabled       bool      `json:"enabled"`
	ActivityTypes []string  `json:"activity_types"`
	UserIDs       []string  `json:"user_ids"`
	Outcome       string    `json:"outcome,omitempty"`
	Threshold     int       `json:"threshold"`
	WindowMinutes int       `json:"window_minutes,omitempty"`
	GroupBy       string    `json:"group_by"`
	Severity      string    `json:"severity"`
	Channels      []Channel `json:"channels"`
	Preset        string    `json:"preset,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Channel is where an alert is sent: email (To, Roles), webhook, slack or
// teams (URL).
type Channel struct {
	Type  string   `json:"type"`
	URL   string   `json:"url,omitempty"`
	To    []string `json:"to,omitempty"`
	Roles []string `json:"roles,omitempty"`
}

// AlertRuleCreate is a new rule, from a Preset or written out; the fields
// left nil take the preset's or the defaults.
type AlertRuleCreate struct {
	Preset        string     `json:"preset,omitempty"`
	Name          *string    `json:"name,omitempty"`
	Description   *string    `json:"description,omitempty"`
	Enabled       *bool      `json:"enabled,omitempty"`
	ActivityTypes *[]string  `json:"activity_types,omitempty"`
	UserIDs       *[]string  `json:"user_ids,omitempty"`
	Outcome       *string    `json:"outcome,omitempty"`
	Threshold     *int       `json:"threshold,omitempty"`
	WindowMinutes *int       `json:"window_minutes,omitempty"`
	GroupBy       *string    `json:"group_by,omitempty"`
	Severity      *string    `json:"severity,omitempty"`
	Channels      *[]Channel `json:"channels,omitempty"`
	Note          string     `json:"note,omitempty"`
}

// AlertRules lists the workspace's alert rules.
func (c *Client) AlertRules(ctx context.Context) ([]AlertRule, error) {
	var out struct {
		Rules []AlertRule `json:"alert_rules"`
	}
	if err := c.do(ctx, "GET", "/api/v1/alert-rules", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Rules, nil
}

// CreateAlertRule creates an alert rule.
func (c *Client) CreateAlertRule(ctx context.Context, in AlertRuleCreate) (*AlertRule, error) {
	var r AlertRule
	if err := c.do(ctx, "POST", "/api/v1/alert-rules", nil, in, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// DeleteAlertRule deletes an alert rule.
func (c *Client) DeleteAlertRule(ctx context.Context, ruleID, why string) error {
	return c.do(ctx, "DELETE", "/api/v1/alert-rules/"+id(ruleID), nil, note{why}, nil)
}
