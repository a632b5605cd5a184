package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// feedPage is an answer of GET /api/v1/activity/feed.
type feedPage struct {
	Entries []activity.Event `json:"entries"`
	Next    string           `json:"next"`
	More    bool             `json:"more"`
}

// readFeed reads the feed from after until it says there is no more, and
// returns what it gave and the cursor to read on from.
func readFeed(t *testing.T, c member, after string, limit int) ([]activity.Event, string) {
	t.Helper()
	var got []activity.Event
	for {
		// A monthly index still being made answers 503 for a moment.
		var a answer
		stacktest.Eventually(t, "the feed answers", func() bool {
			a = c.call("GET", fmt.Sprintf("/api/v1/activity/feed?limit=%d&after=%s", limit, url.QueryEscape(after)), nil, nil)
			return a.status != http.StatusServiceUnavailable
		})
		if a.status != http.StatusOK {
			t.Fatalf("feed: %d %s", a.status, a.body)
		}
		var p feedPage
		a.decode(t, &p)
		got = append(got, p.Entries...)
		after = p.Next
		if !p.More {
			return got, after
		}
	}
}

// indexed is one stored document of the test's index.
type indexed struct {
	Index  string         `json:"_index"`
	ID     string         `json:"_id"`
	Source map[string]any `json:"_source"`
}

// osDo sends one request to the local OpenSearch and decodes its answer.
func osDo(t *testing.T, cfg app.Config, method, path string, body any, out any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, cfg.OpenSearch.URLs[0]+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d", method, path, res.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// docAt returns the document of the workspace at sequence number seq.
func docAt(t *testing.T, cfg app.Config, workspace string, seq int64) indexed {
	t.Helper()
	var res struct {
		Hits struct {
			Hits []indexed `json:"hits"`
		} `json:"hits"`
	}
	osDo(t, cfg, "POST", "/"+activity.IndexAlias(cfg.OpenSearch.IndexPrefix)+"/_search", map[string]any{
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"workspace_id": workspace}},
			map[string]any{"term": map[string]any{"chain.seq": seq}},
		}}},
	}, &res)
	if len(res.Hits.Hits) != 1 {
		t.Fatalf("%d documents at %d", len(res.Hits.Hits), seq)
	}
	return res.Hits.Hits[0]
}

func putDoc(t *testing.T, cfg app.Config, d indexed) {
	t.Helper()
	osDo(t, cfg, "PUT", "/"+d.Index+"/_doc/"+d.ID+"?refresh=true", d.Source, nil)
}

func deleteDoc(t *testing.T, cfg app.Config, d indexed) {
	t.Helper()
	osDo(t, cfg, "DELETE", "/"+d.Index+"/_doc/"+d.ID+"?refresh=true", nil, nil)
}

// clone copies a document's source deeply, so that a change to the copy
// leaves the original to put back.
func clone(t *testing.T, d indexed) indexed {
	t.Helper()
	b, _ := json.Marshal(d.Source)
	var src map[string]any
	if err := json.Unmarshal(b, &src); err != nil {
		t.Fatal(err)
	}
	return indexed{Index: d.Index, ID: d.ID, Source: src}
}

func verifyAnswer(t *testing.T, c member) audit.Result {
	t.Helper()
	var a answer
	stacktest.Eventually(t, "verify answers", func() bool {
		a = c.call("GET", "/api/v1/audit/verify", nil, nil)
		return a.status != http.StatusServiceUnavailable
	})
	if a.status != http.StatusOK {
		t.Fatalf("verify: %d %s", a.status, a.body)
	}
	var res audit.Result
	a.decode(t, &res)
	return res
}

// TestTheChainProvesTheLogAndTheFeedReadsItInOrder runs the API, the relay
// and the indexer, records some actions, and checks that the feed gives
// every entry once in publication order, that the log verifies, and that
// verify names the first broken sequence number and what is wrong after a
// document is edited, deleted, moved or inserted straight in OpenSearch.
func TestTheChainProvesTheLogAndTheFeedReadsItInOrder(t *testing.T) {
	cfg := MustStack(t)
	cfg.Chain.CheckpointEvery = 4
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Chained")
	for i := 0; i < 8; i++ {
		mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": fmt.Sprintf("Laptop %d", i)}, nil), "asset")
	}

	// The feed, three at a time, gives each entry once, in chain order.
	var entries []activity.Event
	after := ""
	stacktest.Eventually(t, "the feed gives the eight new assets", func() bool {
		got, next := readFeed(t, owner, after, 3)
		entries, after = append(entries, got...), next
		n := 0
		for _, e := range entries {
			if e.Action == "asset.created" {
				n++
			}
		}
		return n == 8
	})
	for i, e := range entries {
		if e.Chain == nil || e.Chain.Seq != int64(i+1) {
			t.Fatalf("feed entry %d is %s at %+v", i, e.Action, e.Chain)
		}
	}
	last := int64(len(entries))
	if more, _ := readFeed(t, owner, after, 3); len(more) != 0 {
		t.Fatalf("the feed repeated or added %d entries", len(more))
	}

	res := verifyAnswer(t, owner)
	if !res.OK || res.Entries != last || res.Checkpoints != int(last/4) {
		t.Fatalf("untouched log: %+v, problem %+v", res, res.Problem)
	}
	var keys struct{ Keys []audit.PublicKey }
	owner.call("GET", "/api/v1/audit/keys", nil, nil).decode(t, &keys)
	var cps struct{ Checkpoints []audit.Checkpoint }
	owner.call("GET", "/api/v1/audit/checkpoints", nil, nil).decode(t, &cps)
	if len(keys.Keys) != 1 || len(cps.Checkpoints) != int(last/4) {
		t.Fatalf("%d keys and %d checkpoints, want 1 and %d", len(keys.Keys), len(cps.Checkpoints), last/4)
	}
	pub, err := audit.ParsePublicKey(keys.Keys[0].PEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps.Checkpoints {
		if !cp.VerifySignature(pub) {
			t.Fatalf("checkpoint %d does not verify under the published key", cp.Seq)
		}
	}

	ws := owner.workspace
	tests := []struct {
		name   string
		tamper func() (undo func())
		seq    int64
		kind   string
	}{
		{"action edited", func() func() {
			d := docAt(t, cfg, ws, 3)
			c := clone(t, d)
			c.Source["action"] = "asset.deleted"
			putDoc(t, cfg, c)
			return func() { putDoc(t, cfg, d) }
		}, 3, audit.Altered},
		{"name edited", func() func() {
			d := docAt(t, cfg, ws, 2)
			c := clone(t, d)
			c.Source["actor"].(map[string]any)["name"] = "Someone Else"
			putDoc(t, cfg, c)
			return func() { putDoc(t, cfg, d) }
		}, 2, audit.Altered},
		{"deleted", func() func() {
			d := docAt(t, cfg, ws, 5)
			deleteDoc(t, cfg, d)
			return func() { putDoc(t, cfg, d) }
		}, 5, audit.Missing},
		{"swapped", func() func() {
			a, b := docAt(t, cfg, ws, 6), docAt(t, cfg, ws, 7)
			ca, cb := clone(t, a), clone(t, b)
			ca.Source["chain"].(map[string]any)["seq"] = 7
			cb.Source["chain"].(map[string]any)["seq"] = 6
			putDoc(t, cfg, ca)
			putDoc(t, cfg, cb)
			return func() { putDoc(t, cfg, a); putDoc(t, cfg, b) }
		}, 6, audit.Reordered},
		{"inserted", func() func() {
			d := clone(t, docAt(t, cfg, ws, 7))
			d.ID = activity.NewEventID()
			d.Source["id"] = d.ID
			d.Source["action"] = "asset.created"
			putDoc(t, cfg, d)
			return func() { deleteDoc(t, cfg, d) }
		}, 7, audit.Inserted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			undo := tt.tamper()
			res := verifyAnswer(t, owner)
			if res.OK || res.Problem == nil || res.Problem.Seq != tt.seq || res.Problem.Kind != tt.kind {
				undo()
				t.Fatalf("verify found %+v, want %s at %d", res.Problem, tt.kind, tt.seq)
			}
			if tt.name == "deleted" {
				// The command finds the same, and the feed holds before the
				// gap rather than skip it.
				var out, errs bytes.Buffer
				err := m.VerifyCommand(context.Background(), []string{"--workspace", ws}, &out, &errs)
				if err != app.ErrNotVerified || !strings.Contains(out.String(), `"kind": "missing"`) || !strings.Contains(out.String(), `"seq": 5`) {
					t.Errorf("fluxera verify: %v\n%s%s", err, out.String(), errs.String())
				}
				got, _ := readFeed(t, owner, "", 2)
				if len(got) != 4 || got[3].Chain.Seq != 4 {
					t.Errorf("with entry 5 not searchable the feed gave %d entries", len(got))
				}
			}
			undo()
		})
	}
	if res := verifyAnswer(t, owner); !res.OK {
		t.Fatalf("restored log: %+v", res.Problem)
	}
	// Once entry 5 is back, the feed goes on past it from where it held.
	got, _ := readFeed(t, owner, "", 100)
	if int64(len(got)) != last {
		t.Fatalf("the feed gave %d entries, want %d", len(got), last)
	}

	// Offline: the feed's entries, the keys and the checkpoints saved to
	// files verify without the platform, and an entry changed in the file
	// is named.
	dir := t.TempDir()
	save := func(name string, b []byte) string {
		path := dir + "/" + name
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	lines := func(es []activity.Event) []byte {
		var b bytes.Buffer
		for _, e := range es {
			line, _ := json.Marshal(e)
			b.Write(append(line, '\n'))
		}
		return b.Bytes()
	}
	keysPath := save("keys.json", owner.call("GET", "/api/v1/audit/keys", nil, nil).body)
	cpsPath := save("checkpoints.json", owner.call("GET", "/api/v1/audit/checkpoints", nil, nil).body)
	offline := func(entries []activity.Event) (string, error) {
		var out, errs bytes.Buffer
		err := m.VerifyCommand(context.Background(), []string{"--workspace", ws, "--file", save("entries.ndjson", lines(entries)),
			"--keys", keysPath, "--checkpoints", cpsPath}, &out, &errs)
		return out.String() + errs.String(), err
	}
	if out, err := offline(got); err != nil || !strings.Contains(out, `"ok": true`) {
		t.Fatalf("offline verify of the saved feed: %v\n%s", err, out)
	}
	got[2].Action = "asset.deleted"
	if out, err := offline(got); err != app.ErrNotVerified || !strings.Contains(out, `"seq": 3`) || !strings.Contains(out, `"kind": "altered"`) {
		t.Fatalf("offline verify of an altered file: %v\n%s", err, out)
	}
}

// TestFeedAndVerifyRefuseBadInput checks the 400s and their fields.
func TestFeedAndVerifyRefuseBadInput(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Careful")
	other := mustOwner(t, m, cfg, "Other")
	var p feedPage
	other.call("GET", "/api/v1/activity/feed", nil, nil).decode(t, &p)
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/activity/feed?after=bm90LWEtY3Vyc29y.AAAA", "after"},
		{"/api/v1/activity/feed?after=" + url.QueryEscape(p.Next), "after"},
		{"/api/v1/activity/feed?after=" + url.QueryEscape(strings.Replace(p.Next, "0", "1", 1)+"x"), "after"},
		{"/api/v1/activity/feed?limit=0", "limit"},
		{"/api/v1/activity/feed?limit=1001", "limit"},
		{"/api/v1/activity/feed?since=1", "since"},
		{"/api/v1/audit/verify?from=yesterday", "from"},
		{"/api/v1/audit/verify?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to"},
		{"/api/v1/audit/checkpoints?after=-1", "after"},
		{"/api/v1/audit/checkpoints?limit=5000", "limit"},
	} {
		a := owner.call("GET", tc.path, nil, nil)
		var body struct {
			Error struct{ Code, Field string }
		}
		a.decode(t, &body)
		if a.status != http.StatusBadRequest || body.Error.Field != tc.field {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.path, a.status, a.body, tc.field)
		}
	}
}

// TestRepublishedEventsKeepTheirPlaceInTheChain runs a relay whose first
// mark fails, as when it stops between publishing a batch and marking it,
// and checks that every copy of a republished event on the topic carries
// the same place and hash, and that the places run 1, 2, 3 without gaps.
func TestRepublishedEventsKeepTheirPlaceInTheChain(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	db := mustDB(t, cfg)
	email, password := MustWorkspace(t, cfg, "Twice chained")
	c := newClient(t, m)
	c.mustLogin(email, password)
	var ws string
	for i := 1; i <= 5; i++ {
		ws = mustCreateAsset(t, c, fmt.Sprintf("Dock %d", i), fmt.Sprintf("D-%d", i)).WorkspaceID
	}
	chain, err := m.Chain()
	if err != nil {
		t.Fatal(err)
	}
	ob := &markFailsOnce{Outbox: postgres.NewOutbox(db)}
	ob.Outbox.Chain = chain
	pub := domainkafka.NewPublisher(cfg.Publisher)
	r := &relay.Relay{Config: cfg.Relay, Outbox: ob, Publisher: pub, Log: m.Log.WithField("component", "relay")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay stopped with %v", err)
		}
		pub.Close()
	})
	stacktest.Eventually(t, "the relay marks every event published", func() bool { return pendingCount(t, db) == 0 })
	msgs := readTopicUntil(t, cfg, "both copies of the republished batch", func(got []streamed) bool {
		_, times := firstSeen(got, ws)
		for _, n := range times {
			if n < 2 {
				return false
			}
		}
		return len(times) > 0
	})
	places := map[string]activity.Chain{}
	for _, s := range msgs {
		if s.Event.WorkspaceID != ws {
			continue
		}
		if s.Event.Chain == nil {
			t.Fatalf("event %s reached the topic without its place in the chain", s.Event.ID)
		}
		if was, ok := places[s.Event.ID]; ok && (was.Seq != s.Event.Chain.Seq || was.Hash != s.Event.Chain.Hash) {
			t.Fatalf("event %s was published at %d and again at %d", s.Event.ID, was.Seq, s.Event.Chain.Seq)
		}
		places[s.Event.ID] = *s.Event.Chain
	}
	seqs := make([]int64, 0, len(places))
	for _, p := range places {
		seqs = append(seqs, p.Seq)
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("places %v, want 1 to %d", seqs, len(seqs))
		}
	}
}

// TestTheFeedGivesMembersTheirOwnEntries checks that a member reads only
// their own entries from the feed, as from the log, while the owner reads
// the whole workspace's.
func TestTheFeedGivesMembersTheirOwnEntries(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Scoped feed")
	mate := mustRoleMember(t, m, owner.client, activity.RoleMember)
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Owner's laptop"}, nil), "asset")
	mine := mustID(t, mate.call("POST", "/api/v1/assets", map[string]string{"name": "Member's laptop"}, nil), "asset")
	var all []activity.Event
	stacktest.Eventually(t, "the owner's feed has both assets", func() bool {
		all, _ = readFeed(t, owner, "", 50)
		n := 0
		for _, e := range all {
			if e.Action == "asset.created" {
				n++
			}
		}
		return n == 2
	})
	own, _ := readFeed(t, mate, "", 50)
	found := false
	for _, e := range own {
		if e.Actor.ID != mate.id {
			t.Fatalf("the member's feed holds %s by %s", e.Action, e.Actor.ID)
		}
		found = found || e.Resource.ID == mine
	}
	if !found || len(own) >= len(all) {
		t.Fatalf("the member's feed holds %d entries (own asset %v) of the workspace's %d", len(own), found, len(all))
	}
}
