package alert

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// Actions recorded by the alert features.
const (
	ActionAlertRuleCreated     = "alert_rule.created"
	ActionAlertRuleUpdated     = "alert_rule.updated"
	ActionAlertRuleDeleted     = "alert_rule.deleted"
	ActionAlertAcknowledged    = "alert.acknowledged"
	ActionAlertResolved        = "alert.resolved"
	ActionDetectionChanged     = "system.detection_changed"
	ActionSigningSecretRotated = "system.signing_secret_rotated"
)

// TargetChecker says whether a webhook or chat URL may be sent to: the
// notifier's policy on which hosts and addresses are reachable.
type TargetChecker interface {
	// CheckURL returns an error, whose message is meant for the user, when
	// raw may not be sent to.
	CheckURL(ctx context.Context, raw string) error
}

// CheckChannels checks the shape of every channel, normalizing it as
// Channel.Validate does, then asks checker about the URL of every
// webhook and chat channel; a nil checker allows every URL. A refusal is
// EINVALID on field channels[i].url with the checker's message, or
// EUNAVAILABLE when the checker could not tell for now (a name server
// that did not answer).
func CheckChannels(ctx context.Context, checker TargetChecker, channels []Channel) error {
	return CheckTargets(ctx, checker, "channels", channels)
}

// CheckTargets is CheckChannels for a list named field: its errors name
// field[i] and the part at fault.
func CheckTargets(ctx context.Context, checker TargetChecker, field string, channels []Channel) error {
	if len(channels) > MaxChannels {
		return activity.Errorf(activity.EINVALID, field, "at most %d %s", MaxChannels, field)
	}
	for i := range channels {
		if err := channels[i].Validate(field + "[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	if checker == nil {
		return nil
	}
	for i, c := range channels {
		if c.Type != ChannelWebhook && c.Type != ChannelChat {
			continue
		}
		if err := checker.CheckURL(ctx, c.URL); err != nil {
			code, msg := activity.EINVALID, err.Error()
			if activity.ErrorCode(err) != activity.EINTERNAL {
				msg = activity.ErrorMessage(err)
			}
			if activity.ErrorCode(err) == activity.EUNAVAILABLE {
				code = activity.EUNAVAILABLE
			}
			return activity.Errorf(code, field+"["+strconv.Itoa(i)+"].url", "%s", msg)
		}
	}
	return nil
}

// AlertRuleUpdate changes an alert rule; nil fields stay as they are.
type AlertRuleUpdate struct {
	Name          *string      `json:"name"`
	Description   *string      `json:"description"`
	Enabled       *bool        `json:"enabled"`
	ActivityTypes *[]string    `json:"activity_types"`
	UserIDs       *[]string    `json:"user_ids"`
	Outcome       *string      `json:"outcome"`
	Threshold     *int         `json:"threshold"`
	WindowMinutes *int         `json:"window_minutes"`
	GroupBy       *string      `json:"group_by"`
	Severity      *string      `json:"severity"`
	Channels      *[]Channel   `json:"channels"`
	Conditions    *[]Condition `json:"conditions"`
	Note          string       `json:"note"`
}

// Apply returns r with the update applied, not yet validated. Lists are
// copied, so that the result shares nothing with the update.
func (u AlertRuleUpdate) Apply(r AlertRule) AlertRule {
	if u.Name != nil {
		r.Name = *u.Name
	}
	if u.Description != nil {
		r.Description = *u.Description
	}
	if u.Enabled != nil {
		r.Enabled = *u.Enabled
	}
	if u.ActivityTypes != nil {
		r.ActivityTypes = append([]string{}, *u.ActivityTypes...)
	}
	if u.UserIDs != nil {
		r.UserIDs = make([]string, len(*u.UserIDs))
		for i, id := range *u.UserIDs {
			r.UserIDs[i] = strings.ToLower(strings.TrimSpace(id))
		}
	}
	if u.Outcome != nil {
		r.Outcome = *u.Outcome
	}
	if u.Threshold != nil {
		r.Threshold = *u.Threshold
	}
	if u.WindowMinutes != nil {
		r.WindowMinutes = *u.WindowMinutes
	}
	if u.GroupBy != nil {
		r.GroupBy = *u.GroupBy
	}
	if u.Severity != nil {
		r.Severity = *u.Severity
	}
	if u.Channels != nil {
		r.Channels = make([]Channel, len(*u.Channels))
		for i, c := range *u.Channels {
			c.To = append([]string(nil), c.To...)
			c.Roles = append([]string(nil), c.Roles...)
			r.Channels[i] = c
		}
	}
	if u.Conditions != nil {
		r.Conditions = append([]Condition{}, *u.Conditions...)
	}
	return r
}

// AlertRuleCreate is a new alert rule: its fields, or the name of a preset
// (see AlertPresets) and the fields that differ from it. Nil
// fields are not given.
type AlertRuleCreate struct {
	Preset        string       `json:"preset"`
	Name          *string      `json:"name"`
	Description   *string      `json:"description"`
	Enabled       *bool        `json:"enabled"`
	ActivityTypes *[]string    `json:"activity_types"`
	UserIDs       *[]string    `json:"user_ids"`
	Outcome       *string      `json:"outcome"`
	Threshold     *int         `json:"threshold"`
	WindowMinutes *int         `json:"window_minutes"`
	GroupBy       *string      `json:"group_by"`
	Severity      *string      `json:"severity"`
	Channels      *[]Channel   `json:"channels"`
	Conditions    *[]Condition `json:"conditions"`
	Note          string       `json:"note"`
}

// fields returns the given fields as an update of the preset's rule.
func (in AlertRuleCreate) fields() AlertRuleUpdate {
	return AlertRuleUpdate{
		Name: in.Name, Description: in.Description, Enabled: in.Enabled, ActivityTypes: in.ActivityTypes,
		UserIDs: in.UserIDs, Outcome: in.Outcome, Threshold: in.Threshold, WindowMinutes: in.WindowMinutes,
		GroupBy: in.GroupBy, Severity: in.Severity, Channels: in.Channels, Conditions: in.Conditions, Note: in.Note,
	}
}

// Rule returns the rule to create, enabled unless said otherwise,
// validated. A preset created without channels notifies the workspace's
// owners and admins by email. It returns EINVALID naming the first bad
// field.
func (in AlertRuleCreate) Rule() (AlertRule, error) {
	r := AlertRule{Enabled: true}
	if in.Preset != "" {
		p, ok := FindAlertPreset(strings.TrimSpace(in.Preset))
		if !ok {
			names := make([]string, len(AlertPresets))
			for i, p := range AlertPresets {
				names[i] = p.Name
			}
			return r, activity.Errorf(activity.EINVALID, "preset", "%q is not a preset; the presets are %s", in.Preset, strings.Join(names, ", "))
		}
		r = p.Rule
		r.Enabled, r.Preset = true, p.Name
		if in.Channels == nil {
			r.Channels = DefaultChannels()
		}
	}
	r = in.fields().Apply(r)
	if err := r.Validate(); err != nil {
		return r, err
	}
	return r, activity.ValidateNote(in.Note)
}

// AlertRuleAudit is an alert rule as its events record it. Lists are
// joined for reading; a webhook or chat URL, which often carries a token,
// shows only its host and a fingerprint that changes when the URL does.
type AlertRuleAudit struct {
	Name          string `json:"name"`
	Description   string `json:"description"`
	Enabled       bool   `json:"enabled"`
	ActivityTypes string `json:"activity_types"`
	UserIDs       string `json:"user_ids"`
	Outcome       string `json:"outcome"`
	Threshold     int    `json:"threshold"`
	WindowMinutes int    `json:"window_minutes"`
	GroupBy       string `json:"group_by"`
	Severity      string `json:"severity"`
	Channels      string `json:"channels"`
	Conditions    string `json:"conditions"`
	Preset        string `json:"preset"`
}

// AuditAlertRule describes r for Changes.
func AuditAlertRule(r AlertRule) AlertRuleAudit {
	return AlertRuleAudit{
		Name: r.Name, Description: r.Description, Enabled: r.Enabled,
		ActivityTypes: strings.Join(r.ActivityTypes, ", "), UserIDs: strings.Join(r.UserIDs, ", "),
		Outcome: r.Outcome, Threshold: r.Threshold, WindowMinutes: r.WindowMinutes, GroupBy: r.GroupBy,
		Severity: r.Severity, Channels: DescribeChannels(r.Channels), Conditions: DescribeConditions(r.Conditions),
		Preset: r.Preset,
	}
}

// DescribeConditions renders conditions for an event and the console:
// "asset.value > 2000 EUR and ...".
func DescribeConditions(cs []Condition) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, " and ")
}

// DescribeChannels renders channels for an event: "email to a@example.com
// and owner, admin; webhook hooks.example.com #1a2b3c4d".
func DescribeChannels(cs []Channel) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		switch c.Type {
		case ChannelEmail:
			var to []string
			to = append(to, c.To...)
			if len(c.Roles) > 0 {
				to = append(to, "roles "+strings.Join(c.Roles, ", "))
			}
			parts[i] = "email to " + strings.Join(to, " and ")
		default:
			host := ""
			if u, err := url.Parse(c.URL); err == nil {
				host = u.Host
			}
			sum := sha256.Sum256([]byte(c.URL))
			parts[i] = c.Type + " " + host + " #" + hex.EncodeToString(sum[:4])
		}
	}
	return strings.Join(parts, "; ")
}

// DetectionChanges lists what differs between two valid detection
// settings: one change per detector field
// ("detectors.failed_logins.threshold") and one for the channels,
// described as DescribeChannels does.
func DetectionChanges(before, after DetectionSettings) []activity.Change {
	var out []activity.Change
	add := func(field, b, a string) {
		if b != a {
			out = append(out, activity.Change{Field: field, Before: b, After: a})
		}
	}
	for _, name := range Detectors {
		b, a := before.Detector(name), after.Detector(name)
		f := "detectors." + name + "."
		add(f+"enabled", strconv.FormatBool(b.Enabled), strconv.FormatBool(a.Enabled))
		add(f+"threshold", strconv.Itoa(b.Threshold), strconv.Itoa(a.Threshold))
		add(f+"window_minutes", strconv.Itoa(b.WindowMinutes), strconv.Itoa(a.WindowMinutes))
		add(f+"severity", b.Severity, a.Severity)
	}
	add("channels", DescribeChannels(before.Channels), DescribeChannels(after.Channels))
	return out
}

// Listing limits of alerts.
const (
	DefaultAlertLimit = 50
	MaxAlertLimit     = 200
)

// AlertFilter narrows a listing of alerts. Empty fields match every alert.
type AlertFilter struct {
	State    string
	Severity string
	Detector string
	RuleID   string
	// From and To bound the time the alert was raised, both included.
	From, To *time.Time
	// Limit is the page size, 1 to MaxAlertLimit; zero is
	// DefaultAlertLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

// Validate fills in the default limit and checks the filter, naming the
// first bad field. It returns EINVALID.
func (f *AlertFilter) Validate() error {
	if f.Limit == 0 {
		f.Limit = DefaultAlertLimit
	}
	switch {
	case f.State != "" && f.State != AlertOpen && f.State != AlertAcknowledged && f.State != AlertResolved:
		return activity.Errorf(activity.EINVALID, "state", "state must be open, acknowledged or resolved")
	case f.Severity != "" && !ValidSeverity(f.Severity):
		return activity.Errorf(activity.EINVALID, "severity", "severity must be low, medium, high or critical")
	case f.Detector != "" && !isDetector(f.Detector):
		return activity.Errorf(activity.EINVALID, "detector", "%q is not a detector; the detectors are %s", f.Detector, strings.Join(Detectors, ", "))
	case f.RuleID != "" && !validUUID(f.RuleID):
		return activity.Errorf(activity.EINVALID, "rule_id", "rule_id must be an alert rule id")
	case f.Limit < 1 || f.Limit > MaxAlertLimit:
		return activity.Errorf(activity.EINVALID, "limit", "limit must be between 1 and %d", MaxAlertLimit)
	case f.From != nil && !storableTime(*f.From):
		return activity.Errorf(activity.EINVALID, "from", "from must be within the years 1 to 9999")
	case f.To != nil && !storableTime(*f.To):
		return activity.Errorf(activity.EINVALID, "to", "to must be within the years 1 to 9999")
	case f.From != nil && f.To != nil && f.From.After(*f.To):
		return activity.Errorf(activity.EINVALID, "from", "from must not be after to")
	}
	if f.Cursor != "" {
		if _, err := DecodeAlertCursor(f.Cursor); err != nil {
			return err
		}
	}
	return nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func validUUID(s string) bool { return uuidPattern.MatchString(s) }

// storableTime reports whether t, in UTC, falls in the years 1 to 9999,
// which the database stores.
func storableTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

func isDetector(name string) bool {
	for _, d := range Detectors {
		if d == name {
			return true
		}
	}
	return false
}

// AlertCursor is where a page of alerts ends: alerts are listed newest
// first by the time they were raised, then by id.
type AlertCursor struct {
	RaisedAt time.Time `json:"t"`
	ID       string    `json:"id"`
}

// Encode returns the cursor as an opaque string.
func (c AlertCursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeAlertCursor reads a cursor made by Encode. It returns EINVALID on
// field cursor for anything else.
func DecodeAlertCursor(s string) (AlertCursor, error) {
	var c AlertCursor
	bad := activity.Errorf(activity.EINVALID, "cursor", "cursor is not one this API gave out; pass next_cursor of the previous page as it was")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 200 {
		return c, bad
	}
	if err := json.Unmarshal(b, &c); err != nil || c.RaisedAt.IsZero() || !storableTime(c.RaisedAt) || !validUUID(c.ID) {
		return c, bad
	}
	return c, nil
}

// AlertPage is one page of alerts, newest first. NextCursor is empty on
// the last page.
type AlertPage struct {
	Alerts     []Alert `json:"alerts"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// AlertDetail is an alert with where it was sent and how that went.
type AlertDetail struct {
	Alert
	Deliveries []AlertDelivery `json:"deliveries"`
}

// AlertDelivery is one target an alert is sent to, and its attempts so
// far. Type is a channel type or "topic", the alert topic.
type AlertDelivery struct {
	ID            string            `json:"id"`
	Type          string            `json:"type"`
	URL           string            `json:"url,omitempty"`
	To            []string          `json:"to,omitempty"`
	State         string            `json:"state"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	DeliveredAt   *time.Time        `json:"delivered_at,omitempty"`
	LastStatus    int               `json:"last_status,omitempty"`
	LastError     string            `json:"last_error,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	Attempts      []DeliveryAttempt `json:"attempts"`
}

// States of a delivery.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	// DeliveryNotConfigured is a delivery through a channel the platform
	// has not been set up for (email without an SMTP server): not sent,
	// and not a failure of the target.
	DeliveryNotConfigured = "not_configured"
)

// DeliveryAttempt is one try at a delivery.
type DeliveryAttempt struct {
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
	Status     int       `json:"status,omitempty"`
	Error      string    `json:"error,omitempty"`
	Delivered  bool      `json:"delivered"`
}

// Detection is a workspace's detection settings, defaults filled in, and
// whether it has a webhook signing secret (never the secret itself).
type Detection struct {
	DetectionSettings
	SigningSecretSet bool       `json:"signing_secret_set"`
	UpdatedAt        *time.Time `json:"updated_at,omitempty"`
}

// AlertRuleService manages a workspace's alert rules. Every change records
// its event in the same transaction. Ids of other workspaces and
// malformed ids are ENOTFOUND; every method needs ManageAlerts
// (EFORBIDDEN).
type AlertRuleService interface {
	// ListAlertRules returns the rules in the order they were created.
	ListAlertRules(ctx context.Context, p activity.Principal) ([]AlertRule, error)
	FindAlertRule(ctx context.Context, p activity.Principal, id string) (AlertRule, error)
	// CreateAlertRule records alert_rule.created. It returns EINVALID for
	// bad input, a URL the notifier may not send to included.
	CreateAlertRule(ctx context.Context, p activity.Principal, in AlertRuleCreate) (AlertRule, error)
	// UpdateAlertRule records alert_rule.updated with each changed field;
	// an update that changes nothing records nothing.
	UpdateAlertRule(ctx context.Context, p activity.Principal, id string, in AlertRuleUpdate) (AlertRule, error)
	// DeleteAlertRule records alert_rule.deleted with every field as it
	// was. The rule's alerts stay.
	DeleteAlertRule(ctx context.Context, p activity.Principal, id, note string) error
	// ListAlertPresets returns the ready-made rules.
	ListAlertPresets(ctx context.Context, p activity.Principal) ([]AlertPreset, error)
}

// AlertService reads a workspace's alerts and moves them through their
// states: open → acknowledged → resolved, or open → resolved. Ids of
// other workspaces and malformed ids are ENOTFOUND; every method needs
// ManageAlerts (EFORBIDDEN).
type AlertService interface {
	// FindAlerts returns a page of alerts, newest first. It returns
	// EINVALID for a bad filter or cursor.
	FindAlerts(ctx context.Context, p activity.Principal, f AlertFilter) (AlertPage, error)
	// FindAlert returns an alert with its event ids and deliveries.
	FindAlert(ctx context.Context, p activity.Principal, id string) (AlertDetail, error)
	// AcknowledgeAlert records alert.acknowledged. It returns ECONFLICT
	// unless the alert is open.
	AcknowledgeAlert(ctx context.Context, p activity.Principal, id, note string) (Alert, error)
	// ResolveAlert records alert.resolved. It returns ECONFLICT for an
	// alert already resolved.
	ResolveAlert(ctx context.Context, p activity.Principal, id, note string) (Alert, error)
}

// DetectionService keeps a workspace's built-in detector settings and its
// webhook signing secret. Every method needs ManageAlerts (EFORBIDDEN).
type DetectionService interface {
	// GetDetection returns the settings merged over the defaults.
	GetDetection(ctx context.Context, p activity.Principal) (Detection, error)
	// UpdateDetection records system.detection_changed with each changed
	// field; an update that changes nothing records nothing. It returns
	// EINVALID naming the first bad field.
	UpdateDetection(ctx context.Context, p activity.Principal, in DetectionUpdate) (Detection, error)
	// RotateSigningSecret makes a new signing secret and returns it; it is
	// kept only encrypted and never shown again. It records
	// system.signing_secret_rotated, without the secret.
	RotateSigningSecret(ctx context.Context, p activity.Principal) (string, error)
}
