package audit_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
)

// linkerEvents are entries with every kind of personal field, empty and
// filled, and values that JSON escapes.
func linkerEvents() []activity.Event {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	bare := activity.NewEvent(workspace, "user.login_failed", at)
	full := activity.NewEvent(workspace, "asset.updated", at.Add(time.Minute))
	full.Actor = activity.Actor{ID: "u1", Type: activity.ActorUser, Name: "Ada \"Countess\" Lovelace", Email: "ada@example.com"}
	full.Resource = activity.Resource{Type: "asset", ID: "a1", Name: "Laptop <1> & dock"}
	full.Related = []activity.Resource{{Type: "user", ID: "u2", Name: "Grace Hopper"}, {Type: "license", ID: "l1"}}
	full.Changes = []activity.Change{{Field: "status", Before: "in stock", After: "assigned"}, {Field: "note", Before: "", After: "line\nbreak é"}}
	full.Context.IP = "2001:db8::1"
	full.Note = "handed over by Ada"
	full.Details = map[string]any{"count": 3, "tag": "a&b"}
	return []activity.Event{bare, full, full, bare}
}

func TestLinkerLinksAsLinkDoes(t *testing.T) {
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	l := audit.NewLinker(key)
	prevLink, prevLinker := audit.GenesisHash, audit.GenesisHash
	for i, e := range linkerEvents() {
		byLink, byLinker := e, e
		prevLink = audit.Link(&byLink, int64(i+1), prevLink, key)
		prevLinker = l.Link(&byLinker, int64(i+1), prevLinker)
		a, _ := json.Marshal(byLink.Chain)
		b, _ := json.Marshal(byLinker.Chain)
		if prevLink != prevLinker || !bytes.Equal(a, b) {
			t.Fatalf("entry %d: Link gave %s, a reused Linker %s", i+1, a, b)
		}
		if got := audit.Recompute(&byLinker); got != prevLinker {
			t.Fatalf("entry %d: recomputed %s, linked %s", i+1, got, prevLinker)
		}
	}
}

func TestAppendLinkWritesWhatJSONMarshalWrites(t *testing.T) {
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	events := linkerEvents()
	audit.Link(&events[1], 7, audit.GenesisHash, key)
	tests := []struct {
		name  string
		chain activity.Chain
	}{
		{"no digests", activity.Chain{Seq: 1, PrevHash: audit.GenesisHash, Hash: "ab"}},
		{"digests", *events[1].Chain},
		{"anonymized", activity.Chain{Seq: 9, PrevHash: "00", Hash: "ff", Digests: map[string]string{"b": "2", "a": "1"}, Anonymized: []string{"actor.name", "odd \"path\" <x>"}}},
		{"escaped hashes", activity.Chain{Seq: -3, PrevHash: "é\n", Hash: "<&>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(&tt.chain)
			if err != nil {
				t.Fatal(err)
			}
			if got := audit.AppendLink([]byte("x"), &tt.chain); string(got) != "x"+string(want) {
				t.Fatalf("got  %s\nwant x%s", got, want)
			}
		})
	}
}

func TestPreparedEntriesLinkAsLinkDoesInWhateverOrderPrepared(t *testing.T) {
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	byLink := linkerEvents()
	byPrepared := slices.Clone(byLink)
	l := audit.NewLinker(key)
	prepared := make([]audit.Prepared, len(byPrepared))
	for i := len(byPrepared) - 1; i >= 0; i-- {
		prepared[i] = l.Prepare(&byPrepared[i], int64(i+1))
	}
	prevLink, prevPrepared := audit.GenesisHash, audit.GenesisHash
	for i := range byLink {
		prevLink = audit.Link(&byLink[i], int64(i+1), prevLink, key)
		prevPrepared = prepared[i].Link(prevPrepared)
		a, _ := json.Marshal(byLink[i].Chain)
		b, _ := json.Marshal(byPrepared[i].Chain)
		if prevLink != prevPrepared || !bytes.Equal(a, b) {
			t.Fatalf("entry %d: Link gave %s, prepared in reverse %s", i+1, a, b)
		}
	}
}

// TestLinkerDigestsAsDigestDoesPastWhatItKeeps checks that a Linker, which
// keeps the digests of values it saw lately, gives each value the digest
// Digest gives, for values seen again and for more values than it keeps,
// and for many changes, whose paths it makes for the first ones only once.
func TestLinkerDigestsAsDigestDoesPastWhatItKeeps(t *testing.T) {
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	l := audit.NewLinker(key)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range 3000 {
		e := activity.NewEvent(workspace, "asset.updated", at)
		e.Actor = activity.Actor{ID: "u1", Type: activity.ActorUser, Name: "Ada Lovelace", Email: fmt.Sprintf("ada%d@example.com", i%7)}
		e.Resource = activity.Resource{Type: "asset", ID: "a1", Name: fmt.Sprintf("Laptop %d", i)}
		for c := range 1 + i%70 {
			e.Changes = append(e.Changes, activity.Change{Field: fmt.Sprintf("f%d", c), Before: fmt.Sprintf("v%d", i), After: fmt.Sprintf("w%d", c)})
		}
		l.Link(&e, int64(i+1), audit.GenesisHash)
		if got, want := e.Chain.Digests, audit.Digests(key, &e); !maps.Equal(got, want) || len(got) != 3+2*len(e.Changes) {
			t.Fatalf("entry %d: a reused Linker gave %d digests %v, Digests %d", i+1, len(got), got, len(want))
		}
		want := map[string]string{"actor.email": e.Actor.Email, "actor.name": e.Actor.Name, "resource.name": e.Resource.Name}
		for c, ch := range e.Changes {
			want[fmt.Sprintf("changes.%d.before", c)], want[fmt.Sprintf("changes.%d.after", c)] = ch.Before, ch.After
		}
		for path, value := range want {
			if e.Chain.Digests[path] != audit.Digest(key, value) {
				t.Fatalf("entry %d: digest of %s %s, want %s", i+1, path, e.Chain.Digests[path], audit.Digest(key, value))
			}
		}
		if got := audit.Recompute(&e); got != e.Chain.Hash {
			t.Fatalf("entry %d: recomputed %s, linked %s", i+1, got, e.Chain.Hash)
		}
	}
}
