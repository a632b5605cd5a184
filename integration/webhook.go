// Package integration holds what sends a workspace's activity out of the
// platform (Settings › Integrations): activity webhooks, with their
// filters, delivery state and replays, and the rules that check them. The
// deliverer (package deliver), the live stream (package stream) and the
// storage (domain/postgres) build on it.
package integration

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/query"
)

// ResourceWebhook is the resource type of an activity webhook in the
// events that record its changes.
const ResourceWebhook = "activity_webhook"

// Limits on a webhook's fields.
const (
	MaxNameLength  = 200
	MaxURLLength   = 2000
	MaxFilterItems = 50
)

// Changes of a webhook, as the details of system.integration_configured
// name them.
const (
	ChangeCreated = "created"
	ChangeUpdated = "updated"
	ChangeDeleted = "deleted"
	ChangePaused  = "paused"
	ChangeResumed = "resumed"
	ChangeReplay  = "replay_requested"
)

// Filter says which events a webhook receives: every one when empty.
// Categories are asset, license, user, auth or system; Actions are
// actions the platform records, such as license.created, or patterns with
// * as a wildcard that match at least one (license.*, *.deleted); Outcome
// is success or failure. Each kind given must match.
type Filter struct {
	Categories []string `json:"categories"`
	Actions    []string `json:"actions"`
	Outcome    string   `json:"outcome"`
}

// Validate checks and normalizes every value. It returns EINVALID naming
// the field (categories[i], actions[i], outcome).
func (f *Filter) Validate() error {
	if f.Categories == nil {
		f.Categories = []string{}
	}
	if f.Actions == nil {
		f.Actions = []string{}
	}
	for _, kind := range []struct {
		field, qualifier string
		values           []string
	}{{"categories", query.Category, f.Categories}, {"actions", query.Action, f.Actions}} {
		if len(kind.values) > MaxFilterItems {
			return activity.Errorf(activity.EINVALID, kind.field, "%s lists more than %d values", kind.field, MaxFilterItems)
		}
		for i, v := range kind.values {
			field := kind.field + "[" + strconv.Itoa(i) + "]"
			n, err := query.Normalize(kind.qualifier, v)
			if err != nil || n == "" {
				return activity.Errorf(activity.EINVALID, field, "%s: %q is not one of the %s an event can have", field, v, kind.field)
			}
			// A typing mistake would match nothing, silently.
			if kind.field == "actions" && !slices.ContainsFunc(searchapi.Actions, func(a string) bool { return MatchesAction([]string{n}, a) }) {
				return activity.Errorf(activity.EINVALID, field, "%s: %q matches none of the actions the platform records", field, v)
			}
			kind.values[i] = n
		}
	}
	if f.Outcome != "" {
		n, err := query.Normalize(query.Outcome, f.Outcome)
		if err != nil {
			return activity.Errorf(activity.EINVALID, "outcome", "outcome must be success or failure, not %q", f.Outcome)
		}
		f.Outcome = n
	}
	return nil
}

// Matches reports whether e passes the filter.
func (f Filter) Matches(e activity.Event) bool {
	if len(f.Categories) > 0 && !contains(f.Categories, e.Category) {
		return false
	}
	if len(f.Actions) > 0 && !MatchesAction(f.Actions, e.Action) {
		return false
	}
	return f.Outcome == "" || f.Outcome == e.Outcome
}

// MatchesAction reports whether action matches one of patterns, each an
// action or one with * standing for any run of characters.
func MatchesAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, action); ok {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// Webhook is a subscription of a workspace's activity: the events its
// filter passes are posted to URL, signed with its secret, one at a time
// in the order they were published.
type Webhook struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	Filter      Filter    `json:"filter"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Secret signs the deliveries; it is shown only when the webhook is
	// created. StandardSecret is the same secret written as the Standard
	// Webhooks libraries take it ("whsec_" and its base64).
	Secret         string `json:"secret,omitempty"`
	StandardSecret string `json:"standard_secret,omitempty"`
	// State is how its deliveries go.
	State DeliveryState `json:"state"`
}

// DeliveryState is what a webhook's deliveries have come to.
type DeliveryState struct {
	// Paused webhooks send nothing; their events wait until they are
	// resumed. PausedReason says why (the last failure, or "paused by
	// <name>").
	Paused       bool       `json:"paused"`
	PausedAt     *time.Time `json:"paused_at,omitempty"`
	PausedReason string     `json:"paused_reason,omitempty"`
	// Failures counts the failed attempts in a row since the last
	// delivery.
	Failures int `json:"failures"`
	// LastDeliveryAt is when the last delivery was accepted;
	// LastAttemptAt when the last attempt was made, with its status (0
	// when no answer came) and error.
	LastDeliveryAt *time.Time `json:"last_delivery_at,omitempty"`
	LastAttemptAt  *time.Time `json:"last_attempt_at,omitempty"`
	LastStatus     int        `json:"last_status,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	// Pending counts the deliveries waiting to be sent.
	Pending int `json:"pending"`
}

// WebhookCreate is a new webhook.
type WebhookCreate struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Filter Filter `json:"filter"`
	Note   string `json:"note"`
}

// Validate checks the fields and normalizes them. It returns EINVALID
// naming the field.
func (in *WebhookCreate) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	if err := validName(in.Name); err != nil {
		return err
	}
	if err := validURL(in.URL); err != nil {
		return err
	}
	if err := in.Filter.Validate(); err != nil {
		return prefixField("filter.", err)
	}
	return activity.ValidateNote(in.Note)
}

// WebhookUpdate changes the fields given. Paused pauses or resumes the
// webhook: resuming sends its waiting events, the failed one first.
type WebhookUpdate struct {
	Name   *string `json:"name"`
	URL    *string `json:"url"`
	Filter *Filter `json:"filter"`
	Paused *bool   `json:"paused"`
	Note   string  `json:"note"`
}

// Validate checks the fields given and normalizes them. It returns
// EINVALID naming the field.
func (in *WebhookUpdate) Validate() error {
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		if err := validName(*in.Name); err != nil {
			return err
		}
	}
	if in.URL != nil {
		*in.URL = strings.TrimSpace(*in.URL)
		if err := validURL(*in.URL); err != nil {
			return err
		}
	}
	if in.Filter != nil {
		if err := in.Filter.Validate(); err != nil {
			return prefixField("filter.", err)
		}
	}
	return activity.ValidateNote(in.Note)
}

func validName(name string) error {
	if name == "" {
		return activity.Errorf(activity.EINVALID, "name", "name is required")
	}
	if len(name) > MaxNameLength {
		return activity.Errorf(activity.EINVALID, "name", "name must be at most %d bytes", MaxNameLength)
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return activity.Errorf(activity.EINVALID, "name", "name must not contain control characters")
	}
	return nil
}

func validURL(u string) error {
	if u == "" {
		return activity.Errorf(activity.EINVALID, "url", "url is required")
	}
	if len(u) > MaxURLLength {
		return activity.Errorf(activity.EINVALID, "url", "url must be at most %d bytes", MaxURLLength)
	}
	return nil
}

// prefixField puts prefix before the field an *activity.Error names.
func prefixField(prefix string, err error) error {
	if e, ok := err.(*activity.Error); ok && e.Field != "" {
		return activity.Errorf(e.Code, prefix+e.Field, "%s", e.Message)
	}
	return err
}

// Replay is a request to send a webhook again every event it passes
// that happened from From on, each as a new delivery queued behind those
// waiting.
type Replay struct {
	ID        string     `json:"id"`
	WebhookID string     `json:"webhook_id"`
	From      time.Time  `json:"from"`
	CreatedAt time.Time  `json:"created_at"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
	// Queued counts the deliveries the replay queued, once done.
	Queued int `json:"queued"`
}

// WebhookService keeps a workspace's activity webhooks. Every method
// needs the permission to configure integrations (EFORBIDDEN otherwise),
// answers ENOTFOUND for a webhook of another workspace and records each
// change as system.integration_configured.
type WebhookService interface {
	ListWebhooks(ctx context.Context, p activity.Principal) ([]Webhook, error)
	FindWebhook(ctx context.Context, p activity.Principal, id string) (Webhook, error)
	// CreateWebhook returns the webhook with its secret, which is shown
	// only then. It returns EINVALID naming the field for a bad one, and
	// for a URL that is not public.
	CreateWebhook(ctx context.Context, p activity.Principal, in WebhookCreate) (Webhook, error)
	UpdateWebhook(ctx context.Context, p activity.Principal, id string, in WebhookUpdate) (Webhook, error)
	DeleteWebhook(ctx context.Context, p activity.Principal, id, note string) error
	// ReplayWebhook queues a replay of the events from from on. It
	// returns EINVALID on field from for a time in the future or older
	// than MaxReplayAge.
	ReplayWebhook(ctx context.Context, p activity.Principal, id string, from time.Time) (Replay, error)
}

// MaxReplayAge is how far back a replay may start; the activity topic
// keeps no more than its retention anyway.
const MaxReplayAge = 30 * 24 * time.Hour

// CheckReplayFrom returns EINVALID on field from unless from is in the
// past and within MaxReplayAge of now.
func CheckReplayFrom(from, now time.Time) error {
	if from.IsZero() {
		return activity.Errorf(activity.EINVALID, "from", "from is required: an RFC 3339 time such as 2026-12-01T00:00:00Z")
	}
	if from.After(now) {
		return activity.Errorf(activity.EINVALID, "from", "from must not be in the future")
	}
	if now.Sub(from) > MaxReplayAge {
		return activity.Errorf(activity.EINVALID, "from", "from must be within %s of now", MaxReplayAge)
	}
	return nil
}

// Payload is the JSON body of an activity webhook request.
type Payload struct {
	// Type is always "activity.event".
	Type string `json:"type"`
	// Delivery is the delivery id, also in the webhook-id header; a
	// receiver drops a delivery whose id it has seen.
	Delivery string `json:"delivery"`
	// Webhook is the id of the webhook.
	Webhook string `json:"webhook"`
	// Replay is the id of the replay that sent it, if any.
	Replay string `json:"replay,omitempty"`
	// Event is the activity event, as on the activity topic.
	Event any `json:"event"`
}

// PayloadType is the type of every payload.
const PayloadType = "activity.event"

// Describe says which filter a webhook has, for messages.
func (f Filter) Describe() string {
	return fmt.Sprintf("categories=%v actions=%v outcome=%q", f.Categories, f.Actions, f.Outcome)
}
