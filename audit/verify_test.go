package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
)

const workspace = "0190f5a4-0000-7000-8000-000000000001"

// chain returns n linked entries of workspace and a checkpoint at every
// fourth, signed with a fresh key.
func chain(t *testing.T, n int, key []byte) ([]activity.Event, audit.Verifier) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v := audit.Verifier{Keys: map[string]ed25519.PublicKey{audit.KeyID(pub): pub}, Whole: true}
	prev := audit.GenesisHash
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var out []activity.Event
	for i := 1; i <= n; i++ {
		e := activity.NewEvent(workspace, "asset.updated", start.Add(time.Duration(i)*time.Minute))
		e.Actor = activity.Actor{ID: "u1", Type: activity.ActorUser, Name: "Ada Lovelace", Email: "ada@example.com"}
		e.Resource = activity.Resource{Type: "asset", ID: fmt.Sprint(i), Name: "Laptop <" + fmt.Sprint(i) + ">"}
		e.Changes = []activity.Change{{Field: "status", Before: "in stock", After: "assigned"}}
		e.Context.IP = "203.0.113.7"
		e.Details = map[string]any{"count": 3, "tag": "a&b"}
		prev = audit.Link(&e, int64(i), prev, key)
		// Through JSON, as the entry comes back from the index.
		b, _ := json.Marshal(e)
		var back activity.Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		out = append(out, back)
		if i%4 == 0 {
			cp := audit.Checkpoint{WorkspaceID: workspace, Seq: int64(i), Hash: prev, CreatedAt: start}
			cp.Sign(priv, audit.KeyID(pub))
			v.Checkpoints = append(v.Checkpoints, cp)
		}
	}
	return out, v
}

func TestVerifyNamesTheFirstBrokenSequenceNumber(t *testing.T) {
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	tests := []struct {
		name   string
		tamper func(es []activity.Event) []activity.Event
		seq    int64
		kind   string
	}{
		{"untouched", func(es []activity.Event) []activity.Event { return es }, 0, ""},
		{"action edited", func(es []activity.Event) []activity.Event {
			es[4].Action = "asset.deleted"
			return es
		}, 5, audit.Altered},
		{"anonymized, with the fields listed", func(es []activity.Event) []activity.Event {
			for i := range es {
				es[i].Actor.Name, es[i].Actor.Email, es[i].Context.IP = "Former user 7f3a", "former-user-7f3a@anonymized.invalid", "2001:db8::7f3a"
				es[i].Chain.Anonymized = []string{"actor.name", "actor.email", "context.ip"}
			}
			return es
		}, 0, ""},
		{"anonymized without saying so", func(es []activity.Event) []activity.Event {
			es[3].Actor.Name = "Former user 7f3a"
			es[3].Chain.Anonymized = []string{"actor.email"}
			return es
		}, 4, audit.Altered},
		{"name edited", func(es []activity.Event) []activity.Event {
			es[2].Actor.Name = "Someone Else"
			return es
		}, 3, audit.Altered},
		{"edited and hash made again", func(es []activity.Event) []activity.Event {
			es[5].Outcome = activity.OutcomeFailure
			es[5].Chain.Hash = audit.Recompute(&es[5])
			return es
		}, 6, audit.Altered},
		{"deleted", func(es []activity.Event) []activity.Event {
			return append(es[:6:6], es[7:]...)
		}, 7, audit.Missing},
		{"last deleted under a checkpoint", func(es []activity.Event) []activity.Event {
			return es[:7]
		}, 8, audit.Missing},
		{"swapped", func(es []activity.Event) []activity.Event {
			es[2].Chain.Seq, es[3].Chain.Seq = 4, 3
			es[2], es[3] = es[3], es[2]
			return es
		}, 3, audit.Reordered},
		{"inserted at a taken number", func(es []activity.Event) []activity.Event {
			fake := es[4]
			fake.ID = activity.NewEventID()
			fake.Action = "asset.created"
			c := *fake.Chain
			c.Hash = audit.Recompute(&fake)
			fake.Chain = &c
			return append(es[:4:4], append([]activity.Event{fake}, es[4:]...)...)
		}, 5, audit.Inserted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, v := chain(t, 10, key)
			v.DigestKey = key
			src := audit.SliceEntries(tt.tamper(es))
			res, err := v.Verify(context.Background(), workspace, &src)
			if err != nil {
				t.Fatal(err)
			}
			if tt.kind == "" {
				if !res.OK || res.Entries != 10 || res.Checkpoints != 2 {
					t.Fatalf("untouched chain: %+v %+v", res, res.Problem)
				}
				return
			}
			if res.OK || res.Problem == nil {
				t.Fatalf("tampering went unseen: %+v", res)
			}
			if res.Problem.Seq != tt.seq || res.Problem.Kind != tt.kind {
				t.Fatalf("found %s at %d (%s), want %s at %d", res.Problem.Kind, res.Problem.Seq, res.Problem.Detail, tt.kind, tt.seq)
			}
		})
	}
}

func TestVerifyWithoutTheDigestKeyChecksTheChainOverDigests(t *testing.T) {
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	es, v := chain(t, 5, key)
	// Anonymization replaces the values and keeps the digests.
	for i := range es {
		es[i].Actor.Name, es[i].Actor.Email, es[i].Context.IP = "Person 7f3a", "person-7f3a@invalid", ""
	}
	src := audit.SliceEntries(es)
	res, err := v.Verify(context.Background(), workspace, &src)
	if err != nil || !res.OK {
		t.Fatalf("anonymized chain: %+v %+v %v", res, res.Problem, err)
	}
}

func TestVerifyRefusesAForgedCheckpoint(t *testing.T) {
	key := make([]byte, audit.DigestKeySize)
	es, v := chain(t, 8, key)
	v.Checkpoints[1].Hash = es[6].Chain.Hash
	src := audit.SliceEntries(es)
	res, _ := v.Verify(context.Background(), workspace, &src)
	if res.Problem == nil || res.Problem.Kind != audit.ForgedCheckpoint || res.Problem.Seq != 8 {
		t.Fatalf("forged checkpoint: %+v", res.Problem)
	}
}
