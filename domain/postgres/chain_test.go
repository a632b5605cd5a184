package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/stacktest"
)

// mustQueue writes n events of workspace into the outbox, as a domain
// action does.
func mustQueue(t *testing.T, db *postgres.DB, workspace string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		e := activity.NewEvent(workspace, "asset.updated", time.Now())
		e.Actor = activity.Actor{ID: "u1", Type: activity.ActorUser, Name: "Ada Lovelace", Email: "ada@example.com"}
		e.Resource = activity.Resource{Type: "asset", ID: "a1", Name: "Laptop"}
		e.Context.IP = "203.0.113.7"
		b, _ := json.Marshal(e)
		if _, err := db.ExecContext(context.Background(), "INSERT INTO outbox (event_id, workspace_id, payload) VALUES (?, ?, ?)", e.ID, workspace, string(b)); err != nil {
			t.Fatal(err)
		}
	}
}

func mustChain(t *testing.T, db *postgres.DB, cfg postgres.ChainConfig) *postgres.Chain {
	t.Helper()
	c, err := postgres.NewChain(db, postgrestest.MustKeyBox(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func decode(t *testing.T, msgs []domain.OutboxMessage) []activity.Event {
	t.Helper()
	out := make([]activity.Event, len(msgs))
	for i, m := range msgs {
		e, err := activity.DecodeEvent(m.Payload)
		if err != nil || e.Chain == nil {
			t.Fatalf("message %d: %v, chain %v", i, err, e.Chain)
		}
		out[i] = e
	}
	return out
}

// TestOutboxFixesAGapFreeChainPerWorkspaceThatRepublishingKeeps checks that
// the relay's view of the outbox numbers each workspace's events 1, 2, 3,
// ... with linked hashes, and that a batch published again — by the same
// relay after a failed mark, or by the next lead after a crash — carries
// the same places, while later events continue the chain.
func TestOutboxFixesAGapFreeChainPerWorkspaceThatRepublishingKeeps(t *testing.T) {
	dbs := postgrestest.MustDBs(t, 2)
	ctx := context.Background()
	box := postgrestest.MustKeyBox(t)
	chainA, _ := postgres.NewChain(dbs[0], box, postgres.ChainConfig{})
	chainB, _ := postgres.NewChain(dbs[1], box, postgres.ChainConfig{})
	first, second := postgres.NewOutbox(dbs[0]), postgres.NewOutbox(dbs[1])
	first.Chain, second.Chain = chainA, chainB
	wsA, wsB := activity.NewEventID(), activity.NewEventID()
	mustQueue(t, dbs[0], wsA, 3)
	mustQueue(t, dbs[0], wsB, 2)
	mustQueue(t, dbs[0], wsA, 2)

	msgs, err := first.Pending(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	events := decode(t, msgs)
	next := map[string]int64{wsA: 1, wsB: 1}
	prev := map[string]string{wsA: audit.GenesisHash, wsB: audit.GenesisHash}
	for _, e := range events {
		ws := e.WorkspaceID
		if e.Chain.Seq != next[ws] || e.Chain.PrevHash != prev[ws] || audit.Recompute(&e) != e.Chain.Hash {
			t.Fatalf("workspace %s: got place %d after %s, want %d after %s", ws, e.Chain.Seq, e.Chain.PrevHash, next[ws], prev[ws])
		}
		if e.Chain.Digests["actor.email"] == "" || e.Chain.Digests["context.ip"] == "" {
			t.Fatalf("personal fields without digests: %v", e.Chain.Digests)
		}
		next[ws]++
		prev[ws] = e.Chain.Hash
	}
	if next[wsA] != 6 || next[wsB] != 3 {
		t.Fatalf("chains reached %v", next)
	}

	// Not marked: the same relay and another one read the same places.
	for name, o := range map[string]*postgres.Outbox{"same relay": first, "next lead": second} {
		again, err := o.Pending(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(msgs) {
			t.Fatalf("%s: %d messages, want %d", name, len(again), len(msgs))
		}
		byID := map[string]*activity.Chain{}
		for _, e := range events {
			byID[e.ID] = e.Chain
		}
		last := map[string]int64{}
		for _, e := range decode(t, again) {
			was := byID[e.ID]
			if was == nil || e.Chain.Seq != was.Seq || e.Chain.Hash != was.Hash {
				t.Fatalf("%s: %s at %d, first published at %v", name, e.ID, e.Chain.Seq, was)
			}
			if e.Chain.Seq != last[e.WorkspaceID]+1 {
				t.Fatalf("%s: %s at %d comes after %d", name, e.ID, e.Chain.Seq, last[e.WorkspaceID])
			}
			last[e.WorkspaceID] = e.Chain.Seq
		}
	}

	// Part marked; new events continue the chain after the stamped ones.
	if err := first.MarkPublished(ctx, []int64{msgs[0].Seq, msgs[1].Seq}); err != nil {
		t.Fatal(err)
	}
	mustQueue(t, dbs[0], wsA, 2)
	rest, err := second.Pending(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, rest)
	if len(got) != 7 {
		t.Fatalf("%d pending, want 7", len(got))
	}
	// Stamped events come in chain order per workspace, new ones last.
	tail := got[len(got)-2:]
	if tail[0].Chain.Seq != 6 || tail[1].Chain.Seq != 7 || tail[0].Chain.PrevHash != prev[wsA] {
		t.Fatalf("new events at %d and %d after %s, want 6 and 7 after %s", tail[0].Chain.Seq, tail[1].Chain.Seq, tail[0].Chain.PrevHash, prev[wsA])
	}
	seq, hash, err := chainA.Head(ctx, wsA)
	if err != nil || seq != 7 || hash != tail[1].Chain.Hash {
		t.Fatalf("head %d %s %v, want 7 %s", seq, hash, err, tail[1].Chain.Hash)
	}
}

// TestChainSignsCheckpointsWithRotatableKeys checks that a checkpoint is
// signed every N entries and after a quiet interval, that each verifies
// under its published key, and that a rotated key stays published while
// the new one signs.
func TestChainSignsCheckpointsWithRotatableKeys(t *testing.T) {
	db := postgrestest.MustDB(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 21, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	chain := mustChain(t, db, postgres.ChainConfig{CheckpointEvery: 3, CheckpointInterval: time.Minute})
	o := postgres.NewOutbox(db)
	o.Chain = chain
	ws := activity.NewEventID()
	publish := func() {
		t.Helper()
		msgs, err := o.Pending(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		seqs := make([]int64, len(msgs))
		for i, m := range msgs {
			seqs[i] = m.Seq
		}
		if err := o.MarkPublished(ctx, seqs); err != nil {
			t.Fatal(err)
		}
	}
	mustQueue(t, db, ws, 7)
	publish()
	cps, err := chain.Checkpoints(ctx, ws, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 2 || cps[0].Seq != 3 || cps[1].Seq != 6 {
		t.Fatalf("checkpoints %+v, want at 3 and 6", cps)
	}
	// Quiet for longer than the interval, while another workspace keeps
	// the relay busy: entry 7 gets its checkpoint.
	now = now.Add(2 * time.Minute)
	mustQueue(t, db, activity.NewEventID(), 2)
	publish()
	keys, err := chain.Keys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v %v", keys, err)
	}
	rotated, err := chain.RotateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	mustQueue(t, db, ws, 3)
	publish()
	cps, err = chain.Checkpoints(ctx, ws, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 4 || cps[2].Seq != 7 || cps[3].Seq != 10 {
		t.Fatalf("checkpoints %+v, want at 3, 6, 7 and 10", cps)
	}
	keys, err = chain.Keys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != rotated.ID || keys[0].RetiredAt != nil || keys[1].RetiredAt == nil {
		t.Fatalf("keys after rotation: %+v %v", keys, err)
	}
	byID := map[string]audit.PublicKey{}
	for _, k := range keys {
		pub, err := audit.ParsePublicKey(k.PEM)
		if err != nil {
			t.Fatal(err)
		}
		k.Key = pub
		byID[k.ID] = k
	}
	for _, cp := range cps {
		if !cp.VerifySignature(byID[cp.KeyID].Key) {
			t.Fatalf("checkpoint at %d does not verify under key %s", cp.Seq, cp.KeyID)
		}
	}
	if cps[2].KeyID == rotated.ID || cps[3].KeyID != rotated.ID {
		t.Fatalf("checkpoint 7 signed by %s and 10 by %s; the rotated key is %s", cps[2].KeyID, cps[3].KeyID, rotated.ID)
	}
	// The checkpoints hold the hashes the chain gave.
	seq, hash, _ := chain.Head(ctx, ws)
	if seq != 10 || hash != cps[3].Hash {
		t.Fatalf("head %d %s, last checkpoint %d %s", seq, hash, cps[3].Seq, cps[3].Hash)
	}
}

// sent is the beginnings of the statements s kept since it was last
// taken, BEGIN and COMMIT left out.
func sent(s *postgrestest.Statements) []string {
	var out []string
	for _, q := range s.Take() {
		if q != "BEGIN" && q != "COMMIT" {
			out = append(out, q[:min(len(q), 100)])
		}
	}
	return out
}

// TestOutboxHandsOutABatchInFewStatements checks the relay's round trips
// per batch: one statement reads the stamped and the fresh rows together
// on the lead's session (which also proves the session), one locks the
// chain heads, one stores the links and moves the heads; marking a batch
// published is one statement, however large the batch.
func TestOutboxHandsOutABatchInFewStatements(t *testing.T) {
	db := postgrestest.MustDB(t)
	ctx := context.Background()
	o := postgres.NewOutbox(db)
	o.Chain = mustChain(t, db, postgres.ChainConfig{})
	release, err := o.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	count := &postgrestest.Statements{}
	db.AddQueryHook(count)
	wsA, wsB := activity.NewEventID(), activity.NewEventID()
	mustQueue(t, db, wsA, 1)
	mustQueue(t, db, wsB, 1)
	// The first batch starts both chains and looks for quiet ones.
	first, err := o.Pending(ctx, 10)
	if err != nil || len(first) != 2 {
		t.Fatalf("%d pending, %v", len(first), err)
	}
	if err := o.MarkPublished(ctx, []int64{first[0].Seq, first[1].Seq}); err != nil {
		t.Fatal(err)
	}
	mustQueue(t, db, wsA, 3)
	mustQueue(t, db, wsB, 600)
	sent(count)

	tests := []struct {
		name string
		run  func() error
		want int
	}{
		{"a fresh batch", func() error { _, err := o.Pending(ctx, 1000); return err }, 3},
		{"the same batch again, stamped", func() error { _, err := o.Pending(ctx, 1000); return err }, 1},
		{"marking 603 events published", func() error {
			msgs, err := o.Pending(ctx, 1000)
			if err != nil || len(msgs) != 603 {
				return fmt.Errorf("%d pending, %v", len(msgs), err)
			}
			sent(count)
			seqs := make([]int64, len(msgs))
			for i, m := range msgs {
				seqs[i] = m.Seq
			}
			return o.MarkPublished(ctx, seqs)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err != nil {
				t.Fatal(err)
			}
			if got := sent(count); len(got) != tt.want {
				t.Fatalf("%d statements, want %d:\n%s", len(got), tt.want, strings.Join(got, "\n"))
			}
		})
	}
	if msgs, err := o.Pending(ctx, 1000); err != nil || len(msgs) != 0 {
		t.Fatalf("%d still pending after marking, %v", len(msgs), err)
	}
}

// TestOutboxHandsOutStampedEventsBeforeFreshOnes checks the one read that
// serves both kinds: while more events wait stamped than a batch holds,
// the batch holds stamped events only, in chain order, and no fresh event
// is given a place before them.
func TestOutboxHandsOutStampedEventsBeforeFreshOnes(t *testing.T) {
	db := postgrestest.MustDB(t)
	ctx := context.Background()
	o := postgres.NewOutbox(db)
	o.Chain = mustChain(t, db, postgres.ChainConfig{})
	ws := activity.NewEventID()
	mustQueue(t, db, ws, 3)
	if _, err := o.Pending(ctx, 3); err != nil {
		t.Fatal(err)
	}
	mustQueue(t, db, ws, 2)
	tests := []struct {
		n    int
		want []int64
	}{
		{1, []int64{1}},
		{2, []int64{1, 2}},
		{3, []int64{1, 2, 3}},
		{4, []int64{1, 2, 3, 4}},
		{10, []int64{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			msgs, err := o.Pending(ctx, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range decode(t, msgs) {
				got = append(got, e.Chain.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("places %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOutboxRepublishesStampedEventsFromTheirPlaces checks that an event
// published again gets its link made again from its stored place, that a
// place whose hash the event no longer gives is refused rather than
// published, and that a row stamped before places were stored alone keeps
// the whole link it was given.
func TestOutboxRepublishesStampedEventsFromTheirPlaces(t *testing.T) {
	tests := []struct {
		name    string
		change  string // run on outbox_chain after the first read
		wantErr string
		// wantHash is the hash published again; "" for the first one,
		// with the very bytes first published.
		wantHash string
	}{
		{"from its place", "", "", ""},
		{"a place whose hash the event does not give", "UPDATE outbox_chain SET hash = repeat('f', 64)", "no longer gives the hash", ""},
		{"a whole link stored before", `UPDATE outbox_chain SET chain = '{"seq":1,"prev_hash":"p","hash":"stored"}', prev_hash = NULL, hash = NULL`, "", "stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := postgrestest.MustDB(t)
			ctx := context.Background()
			o := postgres.NewOutbox(db)
			o.Chain = mustChain(t, db, postgres.ChainConfig{})
			mustQueue(t, db, activity.NewEventID(), 1)
			msgs, err := o.Pending(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			first := decode(t, msgs)[0]
			if tt.change != "" {
				if _, err := db.ExecContext(ctx, tt.change); err != nil {
					t.Fatal(err)
				}
			}
			// As the next lead reads them, which has not kept the payloads.
			next := postgres.NewOutbox(db)
			next.Chain = o.Chain
			again, err := next.Pending(ctx, 10)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %d messages and %v, want an error saying %q", len(again), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := decode(t, again)[0]
			if tt.wantHash == "" && string(again[0].Payload) != string(msgs[0].Payload) {
				t.Fatalf("published again as %s, first as %s", again[0].Payload, msgs[0].Payload)
			}
			if tt.wantHash != "" && got.Chain.Hash != tt.wantHash {
				t.Fatalf("published again with hash %s, want %s (first %s)", got.Chain.Hash, tt.wantHash, first.Chain.Hash)
			}
		})
	}
}

// TestOutboxStampsTheNextBatchWhileTheLastIsPublished checks that, while
// it leads, the outbox stamps the next full batch ahead, with its places
// after the last batch's: once the last batch is marked published, the
// next is handed out without a statement of its own; while it is not,
// the last comes first again, read with the next, stamped already, in
// one statement.
func TestOutboxStampsTheNextBatchWhileTheLastIsPublished(t *testing.T) {
	for _, markFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("first batch marked %t", markFirst), func(t *testing.T) {
			db := postgrestest.MustDB(t)
			ctx := context.Background()
			o := postgres.NewOutbox(db)
			o.Chain = mustChain(t, db, postgres.ChainConfig{})
			ws := activity.NewEventID()
			mustQueue(t, db, ws, 20) // two batches, so nothing is left to stamp after
			release, err := o.Lead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			first, err := o.Pending(ctx, 10)
			if err != nil || len(first) != 10 {
				t.Fatalf("%d pending, %v", len(first), err)
			}
			stacktest.Eventually(t, "the next batch is stamped ahead", func() bool {
				var n int
				return db.NewRaw("SELECT count(*) FROM outbox_chain").Scan(ctx, &n) == nil && n == 20
			})
			count := &postgrestest.Statements{}
			if markFirst {
				seqs := make([]int64, len(first))
				for i, m := range first {
					seqs[i] = m.Seq
				}
				if err := o.MarkPublished(ctx, seqs); err != nil {
					t.Fatal(err)
				}
			}
			db.AddQueryHook(count)
			sent(count)
			second, err := o.Pending(ctx, 10)
			if err != nil || len(second) != 10 {
				t.Fatalf("%d pending, %v", len(second), err)
			}
			// Another look ahead may have begun by now, finding nothing
			// to stamp.
			got := sent(count)
			read := slices.ContainsFunc(got, func(q string) bool { return strings.Contains(q, "WITH stamped") })
			if read == markFirst ||
				slices.ContainsFunc(got, func(q string) bool { return strings.Contains(q, "FOR UPDATE") || strings.Contains(q, "INSERT") }) {
				t.Errorf("the next batch was handed out with a read %t, want %t, or stamped again (%d statements):\n%s", read, !markFirst, len(got), strings.Join(got, "\n"))
			}
			want := int64(11)
			if !markFirst {
				want = 1
			}
			for i, e := range decode(t, second) {
				if e.Chain.Seq != want+int64(i) || audit.Recompute(&e) != e.Chain.Hash {
					t.Fatalf("entry %d at place %d, want %d", i, e.Chain.Seq, want+int64(i))
				}
			}
		})
	}
}

// TestOutboxStampsNoFurtherWhileABatchIsHandedOutAgain checks that while
// the broker refuses every publish, so that the same batch is handed out
// again and again, the outbox stamps one batch ahead and no more.
func TestOutboxStampsNoFurtherWhileABatchIsHandedOutAgain(t *testing.T) {
	db := postgrestest.MustDB(t)
	ctx := context.Background()
	o := postgres.NewOutbox(db)
	o.Chain = mustChain(t, db, postgres.ChainConfig{})
	mustQueue(t, db, activity.NewEventID(), 35)
	release, err := o.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for try := range 4 {
		msgs, err := o.Pending(ctx, 10)
		if err != nil || len(msgs) != 10 {
			t.Fatalf("try %d: %d pending, %v", try+1, len(msgs), err)
		}
		if e := decode(t, msgs); e[0].Chain.Seq != 1 || e[9].Chain.Seq != 10 {
			t.Fatalf("try %d: places %d to %d, want 1 to 10", try+1, e[0].Chain.Seq, e[9].Chain.Seq)
		}
	}
	release() // waits for any stamping ahead
	var stamped int
	if err := db.NewRaw("SELECT count(*) FROM outbox_chain").Scan(ctx, &stamped); err != nil {
		t.Fatal(err)
	}
	if stamped != 20 {
		t.Fatalf("%d events stamped, want the batch and one ahead, 20", stamped)
	}
}

// TestOutboxDrainsABacklogStampedAheadOnceEach checks a backlog of several
// batches drained while leading, each batch stamped ahead (its rows read
// while the batch before was stamped) and handed out without a read once
// the one before is marked: every event is handed out once, and each
// workspace's entries link one after the other from place 1, also with
// events written while the backlog drains and a batch not marked once.
func TestOutboxDrainsABacklogStampedAheadOnceEach(t *testing.T) {
	db := postgrestest.MustDB(t)
	ctx := context.Background()
	o := postgres.NewOutbox(db)
	o.Chain = mustChain(t, db, postgres.ChainConfig{})
	wsA, wsB := activity.NewEventID(), activity.NewEventID()
	mustQueue(t, db, wsA, 33)
	mustQueue(t, db, wsB, 24)
	release, err := o.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	seen := map[string]bool{}
	heads := map[string]activity.Chain{wsA: {Hash: audit.GenesisHash}, wsB: {Hash: audit.GenesisHash}}
	for round := 0; ; round++ {
		msgs, err := o.Pending(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		if round == 2 {
			mustQueue(t, db, wsA, 5) // written while the backlog drains
		}
		if round == 3 {
			continue // not marked: handed out again next
		}
		for _, e := range decode(t, msgs) {
			if seen[e.ID] {
				t.Fatalf("round %d: event %s handed out again after it was marked", round, e.ID)
			}
			seen[e.ID] = true
			head := heads[e.WorkspaceID]
			if e.Chain.Seq != head.Seq+1 || e.Chain.PrevHash != head.Hash || audit.Recompute(&e) != e.Chain.Hash {
				t.Fatalf("round %d: entry %d after %d of workspace %s does not link to it", round, e.Chain.Seq, head.Seq, e.WorkspaceID)
			}
			heads[e.WorkspaceID] = *e.Chain
		}
		seqs := make([]int64, len(msgs))
		for i, m := range msgs {
			seqs[i] = m.Seq
		}
		if err := o.MarkPublished(ctx, seqs); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 62 || heads[wsA].Seq != 38 || heads[wsB].Seq != 24 {
		t.Fatalf("%d events handed out, chains at %d and %d, want 62, 38 and 24", len(seen), heads[wsA].Seq, heads[wsB].Seq)
	}
}
