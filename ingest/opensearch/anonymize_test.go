package opensearch_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/opensearch/ostest"
	"github.com/fluxera/activity/privacy"
)

// TestAnonymizeReplacesAPersonAndKeepsTheChain indexes a chained log in
// which Ada acts, is acted on, is assigned, and is mentioned in a note and
// in the details, beside Bob's unrelated work; anonymizing Ada replaces her
// name, email and address everywhere with her pseudonym, leaves Bob's
// entries, the license's name and every count as they were, and the log
// still verifies with the workspace's digest key.
func TestAnonymizeReplacesAPersonAndKeepsTheChain(t *testing.T) {
	client, cfg := ostest.MustIndices(t, "anon")
	ctx := t.Context()

	const ws = "0190f5a4-0000-7000-8000-0000000000a1"
	ada := activity.Actor{ID: "0190f5a4-0000-7000-8000-0000000000a2", Type: activity.ActorUser, Role: activity.RoleMember, Name: "Ada Lovelace", Email: "ada@example.com"}
	bob := activity.Actor{ID: "0190f5a4-0000-7000-8000-0000000000a3", Type: activity.ActorUser, Role: activity.RoleOwner, Name: "Bob Stone", Email: "bob@example.com"}
	adaAsResource := activity.Resource{Type: "user", ID: ada.ID, Name: ada.Name}
	start := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	var events []activity.Event
	add := func(actor activity.Actor, action string, ip string, fill func(e *activity.Event)) {
		e := activity.NewEvent(ws, action, start.Add(time.Duration(len(events))*time.Minute))
		e.Category, e.Outcome, e.Actor, e.Context = strings.Split(action, ".")[0], activity.OutcomeSuccess, actor, activity.Context{IP: ip, Method: "web", Location: &activity.Location{Country: "NL", City: "Delft"}}
		fill(&e)
		events = append(events, e)
	}
	add(ada, "asset.updated", "203.0.113.7", func(e *activity.Event) {
		e.Resource = activity.Resource{Type: "asset", ID: "a1", Name: "Laptop 7"}
		e.Changes = []activity.Change{{Field: "status", Before: "in stock", After: "in use"}}
		e.Note = "Ada Lovelace took it home"
		e.Details = map[string]any{"requested_by": "ada@example.com", "count": 2}
	})
	add(bob, "user.role_changed", "198.51.100.2", func(e *activity.Event) {
		e.Resource = adaAsResource
		e.Changes = []activity.Change{{Field: "role", Before: "viewer", After: "member"}}
	})
	add(bob, "asset.assigned", "198.51.100.2", func(e *activity.Event) {
		e.Resource = activity.Resource{Type: "asset", ID: "a1", Name: "Laptop 7"}
		e.Related = []activity.Resource{{Type: "user", ID: ada.ID, Name: ada.Name, Role: "assignee"}, {Type: "license", ID: "l1", Name: "Office"}}
		e.Changes = []activity.Change{{Field: "assignee", Before: "", After: "Ada Lovelace (" + ada.ID + ")"}}
	})
	add(bob, "asset.created", "198.51.100.2", func(e *activity.Event) {
		e.Resource = activity.Resource{Type: "asset", ID: "a2", Name: "Monitor"}
		e.Note = "for the new desk"
	})
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	prev := audit.GenesisHash
	for i := range events {
		prev = audit.Link(&events[i], int64(i+1), prev, key)
	}
	ostest.MustIndex(t, client, cfg, events)

	an := ingestos.NewAnonymizer(client, cfg.IndexPrefix)
	subject, err := an.Recorded(ctx, ws, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(subject.Names, ada.Name) || !slices.Contains(subject.Emails, ada.Email) || !slices.Equal(subject.IPs, []string{"203.0.113.7"}) {
		t.Fatalf("recorded for Ada: %+v", subject)
	}
	pseudo := privacy.PseudonymOf(privacy.WorkspaceKey([]byte("secret"), ws), ada.ID)
	n, err := an.Anonymize(ctx, ws, privacy.Replacement{Subject: subject, Pseudonym: pseudo})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("entries updated = %d, want 3", n)
	}
	// Twice is the same as once.
	if n, err := an.Anonymize(ctx, ws, privacy.Replacement{Subject: subject, Pseudonym: pseudo}); err != nil || n != 0 {
		t.Errorf("second anonymization: %d, %v", n, err)
	}

	raw := searchAll(t, cfg.URLs[0], cfg.IndexPrefix)
	if len(raw) != len(events) {
		t.Fatalf("%d entries after anonymization, want %d", len(raw), len(events))
	}
	var got audit.SliceEntries
	for i, b := range raw {
		for _, personal := range []string{"Ada", "ada@example.com", "203.0.113.7"} {
			if bytes.Contains(b, []byte(personal)) {
				t.Errorf("entry %d still holds %q: %s", i+1, personal, b)
			}
		}
		var e activity.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if e := got[0]; e.Actor.Name != pseudo.Name || e.Actor.Email != pseudo.Email || e.Context.IP != pseudo.IP || e.Context.Location != nil ||
		e.Note != pseudo.Name+" took it home" || e.Details["requested_by"] != pseudo.Email || e.Details["count"] != float64(2) || len(e.Changes) != 1 {
		t.Errorf("Ada's own entry: %+v %+v %v", e.Actor, e.Context, e.Details)
	}
	if e := got[2]; e.Related[0].Name != pseudo.Name || e.Related[1].Name != "Office" || e.Changes[0].After != pseudo.Name+" ("+ada.ID+")" || e.Actor.Name != bob.Name || e.Context.IP != "198.51.100.2" {
		t.Errorf("the assignment: %+v %+v %+v", e.Actor, e.Related, e.Changes)
	}
	if e := got[3]; e.Chain.Anonymized != nil || e.Context.Location == nil {
		t.Errorf("Bob's entry was touched: %+v", e.Chain)
	}
	if !bytes.Contains(raw[0], []byte(`"summary":"`+pseudo.Name)) {
		t.Errorf("summary of Ada's entry: %s", raw[0])
	}
	v := audit.Verifier{DigestKey: key, Whole: true}
	res, err := v.Verify(ctx, ws, &got)
	if err != nil || !res.OK || res.Entries != int64(len(events)) {
		t.Fatalf("verify after anonymization: %+v %+v %v", res, res.Problem, err)
	}
}

// searchAll returns the sources of every entry under prefix in chain order.
func searchAll(t *testing.T, url, prefix string) [][]byte {
	t.Helper()
	body := `{"size":100,"sort":[{"chain.seq":"asc"}]}`
	res, err := http.Post(url+"/"+activity.IndexAlias(prefix)+"/_search", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out struct {
		Hits struct {
			Hits []struct {
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("search: %v: %s", err, b)
	}
	var docs [][]byte
	for _, h := range out.Hits.Hits {
		docs = append(docs, h.Source)
	}
	return docs
}
