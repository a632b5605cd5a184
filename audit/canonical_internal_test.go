package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
)

// canonical is the form an entry is hashed in, as a struct that
// encoding/json writes field by field: the reference appendCanonical is
// held to. Personal fields appear only as their digests.
type canonical struct {
	V           int                 `json:"v"`
	WorkspaceID string              `json:"workspace_id"`
	Seq         int64               `json:"seq"`
	ID          string              `json:"id"`
	Schema      int                 `json:"schema"`
	OccurredAt  string              `json:"occurred_at"`
	Action      string              `json:"action"`
	Category    string              `json:"category"`
	Outcome     string              `json:"outcome"`
	Actor       canonicalActor      `json:"actor"`
	Resource    canonicalResource   `json:"resource"`
	Related     []canonicalResource `json:"related"`
	Changes     []canonicalChange   `json:"changes"`
	Context     canonicalContext    `json:"context"`
	Note        string              `json:"note"`
	Details     string              `json:"details"`
}

type canonicalActor struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Role  string `json:"role"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type canonicalResource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name"`
}

type canonicalChange struct {
	Field    string `json:"field"`
	Redacted bool   `json:"redacted"`
	Before   string `json:"before"`
	After    string `json:"after"`
}

type canonicalContext struct {
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	SessionID string `json:"session_id"`
	RequestID string `json:"request_id"`
	Method    string `json:"method"`
	TimeZone  string `json:"time_zone"`
}

// referenceCanonical is the canonical form as encoding/json's Encoder,
// with HTML escaping off, writes the canonical struct.
func referenceCanonical(e *activity.Event, seq int64, digests map[string]string) []byte {
	c := canonical{
		V: CanonicalVersion, WorkspaceID: e.WorkspaceID, Seq: seq, ID: e.ID, Schema: e.Schema,
		OccurredAt: e.OccurredAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		Action:     e.Action, Category: e.Category, Outcome: e.Outcome,
		Actor: canonicalActor{ID: e.Actor.ID, Type: e.Actor.Type, Role: e.Actor.Role,
			Email: digests["actor.email"], Name: digests["actor.name"]},
		Resource: canonicalResource{Type: e.Resource.Type, ID: e.Resource.ID, Role: e.Resource.Role, Name: digests["resource.name"]},
		Related:  []canonicalResource{},
		Changes:  []canonicalChange{},
		Context: canonicalContext{IP: digests["context.ip"], UserAgent: e.Context.UserAgent, SessionID: e.Context.SessionID,
			RequestID: e.Context.RequestID, Method: e.Context.Method, TimeZone: e.Context.TimeZone},
		Note:    digests["note"],
		Details: digests["details"],
	}
	for i, r := range e.Related {
		c.Related = append(c.Related, canonicalResource{Type: r.Type, ID: r.ID, Role: r.Role, Name: digests["related."+strconv.Itoa(i)+".name"]})
	}
	for i, ch := range e.Changes {
		n := strconv.Itoa(i)
		c.Changes = append(c.Changes, canonicalChange{Field: ch.Field, Redacted: ch.Redacted,
			Before: digests["changes."+n+".before"], After: digests["changes."+n+".after"]})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(c)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// TestCanonicalIsWhatEncodingJSONWrites holds the canonical form, written
// without reflection, to what encoding/json writes for the canonical
// struct, byte for byte, so that no hash of an existing chain changes:
// synthetic events under their digests, and events whose every string
// field holds quotes, backslashes, control characters, HTML, line and
// paragraph separators, non-ASCII letters, DEL and invalid UTF-8.
func TestCanonicalIsWhatEncodingJSONWrites(t *testing.T) {
	key := []byte("canonical test key")
	gen := synthetic.New(3, 5, 4, time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC), 1500*time.Millisecond)
	var events []activity.Event
	for range 2000 {
		events = append(events, gen.Next())
	}
	for _, odd := range []string{"\"quoted\"", `back\slash`, "tab\tnew\nline\r\x01\x1f", "<b>&amp;</b>", "\u2028\u2029", "Zoë 日本 \U0001F600", "del\x7f", "bad\xffutf8", ""} {
		e := gen.Next()
		e.WorkspaceID, e.ID, e.Action, e.Category, e.Outcome = odd, odd, odd, odd, odd
		e.Actor.ID, e.Actor.Type, e.Actor.Role, e.Actor.Email, e.Actor.Name = odd, odd, odd, odd+"@x", odd
		e.Resource = activity.Resource{Type: odd, ID: odd, Role: odd, Name: odd}
		e.Related = []activity.Resource{{Type: odd, ID: odd, Role: odd, Name: odd}, {Type: "asset"}}
		e.Changes = []activity.Change{{Field: odd, Redacted: true, Before: odd, After: odd}, {Field: "status"}}
		e.Context = activity.Context{IP: "192.0.2.1", UserAgent: odd, SessionID: odd, RequestID: odd, Method: odd, TimeZone: odd}
		e.Note = odd
		e.Details = map[string]any{"k": odd}
		events = append(events, e)
	}
	l := NewLinker(key)
	for i := range events {
		e := &events[i]
		digests := l.digests(e)
		for _, seq := range []int64{1, int64(i) + 1, 1 << 40} {
			want := referenceCanonical(e, seq, digests)
			if got := appendCanonical(&l.form, e, seq, digests); !bytes.Equal(got, want) {
				t.Fatalf("event %d at %d: canonical form\n%s\nwant\n%s", i, seq, got, want)
			}
		}
	}
	if !strings.Contains(string(referenceCanonical(&events[len(events)-2], 1, nil)), `"user_agent":"bad\ufffdutf8"`) {
		t.Error("the reference does not write invalid UTF-8 as encoding/json does")
	}
}
