// Package alert holds what the platform knows about alerts: the alert a
// detector raises, the alert rules a workspace writes, the tuning of the
// built-in detectors, where alerts are delivered, and the services that
// manage them. The detector (alert/detect) and the notifier (alert/notify)
// build on these types, and the storage in domain/postgres implements their
// interfaces, so neither storage nor components import each other.
//
// It imports only the standard library, the event contract and
// github.com/google/uuid.
package alert

import (
	"net/mail"
	"net/url"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/google/uuid"
)

// AlertTopic carries every raised alert, for SIEMs.
const AlertTopic = "fluxera.alerts.v1"

// States of an alert. An alert is raised open; a person acknowledges it
// while looking into it and resolves it when done.
const (
	AlertOpen         = "open"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// Severities of alerts, weakest first.
var Severities = []string{"low", "medium", "high", "critical"}

// The built-in detectors: the red flags every workspace is watched for.
const (
	DetectFailedLogins         = "failed_logins"
	DetectUnusualTime          = "unusual_time"
	DetectBulkExports          = "bulk_exports"
	DetectPermissionChanges    = "rapid_permission_changes"
	DetectUnusualLocation      = "unusual_location"
	DetectSimultaneousSessions = "simultaneous_sessions"
)

// Detectors lists the built-in detectors in the order the README shows them.
var Detectors = []string{
	DetectFailedLogins, DetectUnusualTime, DetectBulkExports,
	DetectPermissionChanges, DetectUnusualLocation, DetectSimultaneousSessions,
}

// PermissionActions are the actions that change what someone may do; the
// rapid permission changes detector counts them.
var PermissionActions = []string{
	"user.role_changed", "user.activated", "user.deactivated", "user.invited",
	"user.api_token_created", "user.api_token_revoked", "invitation.accepted",
}

// ExportActions are the actions that take data out of the platform; the
// bulk exports detector counts them.
var ExportActions = []string{"system.data_exported", "system.report_generated"}

// Alert is a red flag raised for a workspace, by a built-in detector or by
// one of the workspace's alert rules.
type Alert struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// Detector names the built-in detector that raised it; RuleID and
	// RuleName the alert rule. Exactly one of Detector and RuleID is set.
	Detector string `json:"detector,omitempty"`
	RuleID   string `json:"rule_id,omitempty"`
	RuleName string `json:"rule_name,omitempty"`
	Severity string `json:"severity"`
	State    string `json:"state"`
	// Summary says what happened in one sentence.
	Summary string       `json:"summary"`
	Subject AlertSubject `json:"subject"`
	// Count is how many events were in the window when it was raised, and
	// Window the window's length ("10m0s"); a single-event alert has 1 and
	// no window.
	Count  int64  `json:"count"`
	Window string `json:"window,omitempty"`
	// OccurredAt is the time of the event that crossed the line; RaisedAt
	// when the detector raised it.
	OccurredAt time.Time `json:"occurred_at"`
	RaisedAt   time.Time `json:"raised_at"`
	// EventIDs are the events that triggered it, oldest first, the one
	// that crossed the line last.
	EventIDs []string       `json:"event_ids"`
	Details  map[string]any `json:"details,omitempty"`

	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy *ActorRef  `json:"acknowledged_by,omitempty"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy     *ActorRef  `json:"resolved_by,omitempty"`
}

// ActorRef names the person who changed an alert's state.
type ActorRef struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// AlertSubject is who or what an alert is about: a user, an email address
// that matches no user, an IP address, or the whole workspace.
type AlertSubject struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Label string `json:"label,omitempty"`
}

// alertNamespace makes alert ids: the same trigger always gives the same id.
var alertNamespace = uuid.MustParse("5b0c7a52-31f4-4d0e-9a5e-6f1b2f0f6a11")

// AlertID returns the id of the alert that source (a detector name or a
// rule id) raises about subjectKey when event triggerEventID crosses the
// line. It is a name-based UUID, so a replayed stream derives the same id
// and the alert is stored once.
func AlertID(workspaceID, source, subjectKey, triggerEventID string) string {
	return uuid.NewSHA1(alertNamespace, []byte(workspaceID+"\x00"+source+"\x00"+subjectKey+"\x00"+triggerEventID)).String()
}

// Channel types: where a notification goes.
const (
	ChannelWebhook = "webhook" // a signed JSON POST of the alert
	ChannelChat    = "chat"    // a signed chat message ({"text": ...}), as Slack and Teams incoming webhooks take
	ChannelEmail   = "email"   // an email through the configured SMTP server
)

// Channel is one way an alert is sent. A webhook or chat channel has a URL;
// an email channel has addresses, roles whose members are written to, or
// both.
type Channel struct {
	Type  string   `json:"type"`
	URL   string   `json:"url,omitempty"`
	To    []string `json:"to,omitempty"`
	Roles []string `json:"roles,omitempty"`
}

// MaxChannels bounds the channels of a rule or of the detection settings.
const MaxChannels = 10

// Validate checks the channel's shape; field prefixes the field names of
// its errors ("channels[0]"). It does not look at the network: whether a
// URL's host may be reached is the notifier's check. It returns activity.EINVALID.
func (c *Channel) Validate(field string) error {
	c.Type = strings.TrimSpace(c.Type)
	switch c.Type {
	case ChannelWebhook, ChannelChat:
		if len(c.To) > 0 || len(c.Roles) > 0 {
			return activity.Errorf(activity.EINVALID, field+".to", "a %s channel takes a url, not recipients", c.Type)
		}
		u, err := url.Parse(strings.TrimSpace(c.URL))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return activity.Errorf(activity.EINVALID, field+".url", "url must be an absolute http or https URL")
		}
		if u.User != nil {
			return activity.Errorf(activity.EINVALID, field+".url", "url must not carry a user name or password")
		}
		if len(c.URL) > 2048 {
			return activity.Errorf(activity.EINVALID, field+".url", "url is longer than 2048 characters")
		}
		c.URL = u.String()
	case ChannelEmail:
		if c.URL != "" {
			return activity.Errorf(activity.EINVALID, field+".url", "an email channel takes recipients, not a url")
		}
		if len(c.To) == 0 && len(c.Roles) == 0 {
			return activity.Errorf(activity.EINVALID, field+".to", "an email channel needs addresses in to, roles in roles, or both")
		}
		if len(c.To) > 50 {
			return activity.Errorf(activity.EINVALID, field+".to", "at most 50 addresses")
		}
		for i, a := range c.To {
			addr, err := mail.ParseAddress(strings.TrimSpace(a))
			if err != nil || addr.Name != "" || !strings.Contains(addr.Address, "@") {
				return activity.Errorf(activity.EINVALID, field+".to", "to[%d] %q is not an email address", i, a)
			}
			c.To[i] = strings.ToLower(addr.Address)
		}
		for _, r := range c.Roles {
			if r != activity.RoleOwner && r != activity.RoleAdmin && r != activity.RoleMember && r != activity.RoleViewer {
				return activity.Errorf(activity.EINVALID, field+".roles", "%q is not a role; use owner, admin, member or viewer", r)
			}
		}
	case "":
		return activity.Errorf(activity.EINVALID, field+".type", "type is required: webhook, chat or email")
	default:
		return activity.Errorf(activity.EINVALID, field+".type", "%q is not a channel type; use webhook, chat or email", c.Type)
	}
	return nil
}

// ValidSeverity reports whether s is one of Severities.
func ValidSeverity(s string) bool {
	for _, v := range Severities {
		if v == s {
			return true
		}
	}
	return false
}

// MatchActivityType reports whether pattern matches the event's action. A
// pattern is a category (asset, license, user, auth, system), an exact
// action, or an action with * wildcards ("license.*", "*.deleted", "*").
func MatchActivityType(pattern, action string) bool {
	if !strings.Contains(pattern, ".") && !strings.Contains(pattern, "*") {
		return activity.CategoryOf(action) == pattern
	}
	return glob(pattern, action)
}

// glob matches s against p, where * matches any run of characters.
func glob(p, s string) bool {
	star, next := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && p[i] == '*':
			star, next = i, j
			i++
		case i < len(p) && p[i] == s[j]:
			i++
			j++
		case star >= 0:
			i = star + 1
			next++
			j = next
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
