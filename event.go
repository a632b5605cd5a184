// Package activity holds the activity event, the contract between the
// domain API, the ingest pipeline, the detector and the search API,
// together with the summary sentence of an event, the names of its indices,
// and the error codes and caller identity that every component speaks in.
//
// It imports only the standard library, github.com/google/uuid and
// github.com/goccy/go-json.
package activity

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"
)

// SchemaVersion is the version of the event layout written by this build.
// Consumers refuse events with a version they do not know.
const SchemaVersion = 1

// Topic is the Kafka topic that carries every activity event, keyed by
// workspace id. It is also the public SIEM feed.
const Topic = "fluxera.activity.v1"

// DeadLetterTopic receives messages the indexer could not accept, with the reason.
const DeadLetterTopic = "fluxera.activity.dlq"

// PlatformWorkspace is the workspace id of events that belong to no
// workspace, such as a failed login with an email no one has.
const PlatformWorkspace = "00000000-0000-0000-0000-000000000000"

// Categories group actions for filtering.
const (
	CategoryAsset   = "asset"
	CategoryLicense = "license"
	CategoryUser    = "user"
	CategoryAuth    = "auth"
	CategorySystem  = "system"
)

// Outcomes of an action.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Actor types.
const (
	ActorUser      = "user"
	ActorAPIToken  = "api_token"
	ActorSystem    = "system"
	ActorAnonymous = "anonymous"
)

// Methods say how an action reached the platform.
const (
	MethodWeb    = "web"
	MethodAPI    = "api"
	MethodImport = "import"
	MethodSystem = "system"
)

// Event is one recorded action: who did what, when, where from, to which
// resource, and what changed.
type Event struct {
	Schema      int            `json:"schema"`
	ID          string         `json:"id"`
	WorkspaceID string         `json:"workspace_id"`
	OccurredAt  time.Time      `json:"occurred_at"`
	Action      string         `json:"action"`
	Category    string         `json:"category"`
	Outcome     string         `json:"outcome"`
	Actor       Actor          `json:"actor"`
	Resource    Resource       `json:"resource"`
	Related     []Resource     `json:"related,omitempty"`
	Changes     []Change       `json:"changes,omitempty"`
	Context     Context        `json:"context"`
	Note        string         `json:"note,omitempty"`
	Details     map[string]any `json:"details,omitempty"`
	// Chain is the event's place in its workspace's hash chain, set by the
	// relay when it publishes the event; events published before the chain
	// existed have none.
	Chain *Chain `json:"chain,omitempty"`
}

// Chain is an event's link in its workspace's hash chain: the sequence
// number the relay gave it in publication order (1, 2, 3, ... per
// workspace, without gaps), the hash of the previous entry, and its own
// hash over the canonical form of the event (see package audit). The
// personal fields enter that form as keyed digests, kept here, so that an
// anonymized entry still proves its place.
type Chain struct {
	Seq      int64  `json:"seq"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
	// Digests are the keyed digests of the personal fields, by field path
	// (actor.email, note, changes.0.before, ...).
	Digests map[string]string `json:"digests,omitempty"`
	// Anonymized lists the paths of the personal fields whose values were
	// replaced by pseudonyms after publication. Their digests still hold
	// the entry's place in the chain; their values are no longer held to
	// them.
	Anonymized []string `json:"anonymized,omitempty"`
}

// Actor is whoever performed the action.
type Actor struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role,omitempty"`
	Type  string `json:"type"`
}

// Resource names a thing an action touched, with its name at that moment.
type Resource struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// Role says how a related resource took part (assignee, license, ...).
	Role string `json:"role,omitempty"`
}

// Change is one field of an edit. Values are rendered for people: a user
// appears by name, a date as a date. A secret field is recorded with
// Redacted set and neither value.
type Change struct {
	Field    string `json:"field"`
	Before   string `json:"before"`
	After    string `json:"after"`
	Redacted bool   `json:"redacted,omitempty"`
}

// Context says where an action came from.
type Context struct {
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Method    string    `json:"method,omitempty"`
	Location  *Location `json:"location,omitempty"`
	// TimeZone is the workspace's IANA time zone when the action happened,
	// so that hour-of-day figures read in the workspace's own time.
	TimeZone string `json:"time_zone,omitempty"`
}

// Location is where an IP address is, as far as it is known.
type Location struct {
	Country string `json:"country,omitempty"`
	City    string `json:"city,omitempty"`
	Network string `json:"network,omitempty"`
}

// NewEventID returns a new UUIDv7, ordered by creation time.
func NewEventID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// NewEvent returns an event of the current schema with a fresh id, the
// given workspace and action, and the time truncated to milliseconds in UTC.
func NewEvent(workspaceID, action string, now time.Time) Event {
	return Event{
		Schema:      SchemaVersion,
		ID:          NewEventID(),
		WorkspaceID: workspaceID,
		OccurredAt:  now.UTC().Truncate(time.Millisecond),
		Action:      action,
		Category:    CategoryOf(action),
		Outcome:     OutcomeSuccess,
	}
}

// CategoryOf maps an action to its category from the action's resource
// part: "asset.updated" is an asset action, "auth.login_failed" a login event.
func CategoryOf(action string) string {
	for i := 0; i < len(action); i++ {
		if action[i] == '.' {
			switch r := action[:i]; r {
			case "asset", "license", "user", "auth":
				return r
			case "invitation":
				return CategoryUser
			}
			return CategorySystem
		}
	}
	return CategorySystem
}

var actionPattern = regexp.MustCompile(`^[a-z][a-z_]*\.[a-z][a-z_]*$`)

// Validate reports whether the event is complete enough to be stored and
// searched. It returns an EINVALID error naming the first bad field.
func (e *Event) Validate() error {
	switch {
	case e.Schema != SchemaVersion:
		return Errorf(EINVALID, "schema", "unknown schema version %d", e.Schema)
	case uuid.Validate(e.ID) != nil:
		return Errorf(EINVALID, "id", "id must be a UUID")
	case e.WorkspaceID == "":
		return Errorf(EINVALID, "workspace_id", "workspace_id is missing")
	case uuid.Validate(e.WorkspaceID) != nil:
		// Every workspace id is a UUID; any other names no workspace, and
		// the stores keyed by workspace would refuse it forever.
		return Errorf(EINVALID, "workspace_id", "workspace_id must be a UUID")
	case e.OccurredAt.IsZero():
		return Errorf(EINVALID, "occurred_at", "occurred_at is missing")
	case !actionPattern.MatchString(e.Action):
		return Errorf(EINVALID, "action", "action %q is not of the form resource.verb", e.Action)
	case e.Outcome != OutcomeSuccess && e.Outcome != OutcomeFailure:
		return Errorf(EINVALID, "outcome", "outcome must be success or failure")
	case e.Actor.Type == "":
		return Errorf(EINVALID, "actor.type", "actor.type is missing")
	case e.Resource.Type == "":
		return Errorf(EINVALID, "resource.type", "resource.type is missing")
	}
	if e.Context.IP != "" {
		if _, err := netip.ParseAddr(e.Context.IP); err != nil {
			return Errorf(EINVALID, "context.ip", "context.ip %q is not an IP address", e.Context.IP)
		}
	}
	return nil
}

// UnmarshalEvent reads the JSON of an event into e exactly as
// encoding/json does: the same event from the same bytes, and
// encoding/json's error for bytes it refuses. Decoding is most of what the
// indexer, the detector and the hash chain spend per event, so it reads
// with github.com/goccy/go-json, in about half the time; bytes that are
// not valid UTF-8 (which encoding/json replaces) or that go-json refuses
// are read by encoding/json itself.
func UnmarshalEvent(b []byte, e *Event) error {
	if utf8.Valid(b) && gojson.Unmarshal(b, e) == nil {
		return nil
	}
	*e = Event{}
	return json.Unmarshal(b, e)
}

// DecodeEvent parses and validates one event as it travels on Kafka.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	if err := UnmarshalEvent(b, &e); err != nil {
		return Event{}, Errorf(EINVALID, "", "malformed event JSON: %v", err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// String returns a short description for logs.
func (e *Event) String() string {
	return fmt.Sprintf("%s %s %s/%s", e.ID, e.Action, e.Resource.Type, e.Resource.ID)
}

// ValidUUID reports whether s is a UUID in its canonical 36-character
// form, the only form the platform writes ids in.
func ValidUUID(s string) bool {
	return len(s) == 36 && uuid.Validate(s) == nil
}
