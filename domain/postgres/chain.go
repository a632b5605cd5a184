package postgres

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain/keybox"
)

// ChainConfig says how the outbox fixes each workspace's hash chain as it
// hands events to the relay, and how often it signs a checkpoint.
type ChainConfig struct {
	// Disabled publishes events without a chain link. It exists to measure
	// what the chain costs; a platform that runs without it cannot prove
	// its log and has no feed.
	Disabled bool
	// CheckpointEvery is how many entries a workspace's chain grows by
	// between two checkpoints; CheckpointInterval how long at most a
	// grown chain waits for its next checkpoint.
	CheckpointEvery    int
	CheckpointInterval time.Duration
}

// Defaults of the ChainConfig.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = 10 * time.Minute
)

// Validate fills in defaults and checks the values.
func (c *ChainConfig) Validate() error {
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = DefaultCheckpointEvery
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.CheckpointEvery < 1 || c.CheckpointInterval < time.Second {
		return fmt.Errorf("chain: checkpoints must come every 1 or more entries and every second or more")
	}
	return nil
}

// Chain keeps the workspaces' hash chains in PostgreSQL: their heads and
// digest keys, the signed checkpoints and the signing keys.
type Chain struct {
	db  *DB
	box *keybox.Box
	cfg ChainConfig

	mu      sync.Mutex
	digests map[string][]byte             // workspace → digest key
	signers map[string]ed25519.PrivateKey // key id → private key
}

// NewChain returns the chains of db, whose secret keys box seals.
func NewChain(db *DB, box *keybox.Box, cfg ChainConfig) (*Chain, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if box == nil {
		return nil, fmt.Errorf("chain: a key box is needed to keep the digest and signing keys")
	}
	return &Chain{db: db, box: box, cfg: cfg, digests: map[string][]byte{}, signers: map[string]ed25519.PrivateKey{}}, nil
}

type chainHead struct {
	WorkspaceID   string    `bun:"workspace_id"`
	Seq           int64     `bun:"seq"`
	Hash          string    `bun:"hash"`
	DigestKey     []byte    `bun:"digest_key"`
	DigestKeyBox  string    `bun:"digest_key_box"`
	CheckpointSeq int64     `bun:"checkpoint_seq"`
	CheckpointAt  time.Time `bun:"checkpoint_at"`
}

func digestBinding(workspace string) []byte { return keybox.Binding("chain digest key", workspace) }
func checkpointKeyBinding(id string) []byte { return keybox.Binding("checkpoint signing key", id) }

// heads locks and returns the heads of the workspaces, creating those the
// chain does not have yet with a fresh digest key.
func (c *Chain) heads(ctx context.Context, tx bun.Tx, workspaces []string, now time.Time) (map[string]*chainHead, error) {
	var rows []chainHead
	sel := func() error {
		rows = rows[:0]
		return tx.NewRaw("SELECT workspace_id, seq, hash, digest_key, digest_key_box, checkpoint_seq, checkpoint_at FROM chain_heads WHERE workspace_id IN (?) ORDER BY workspace_id FOR UPDATE",
			bun.In(workspaces)).Scan(ctx, &rows)
	}
	if err := sel(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("lock chain heads: %w", err)
	}
	if len(rows) < len(workspaces) {
		have := map[string]bool{}
		for _, r := range rows {
			have[r.WorkspaceID] = true
		}
		for _, ws := range workspaces {
			if have[ws] {
				continue
			}
			key := make([]byte, audit.DigestKeySize)
			if _, err := rand.Read(key); err != nil {
				return nil, fmt.Errorf("make digest key: %w", err)
			}
			sealed, boxID, err := c.box.Seal(key, digestBinding(ws))
			if err != nil {
				return nil, fmt.Errorf("seal digest key: %w", err)
			}
			if _, err := tx.NewRaw(`INSERT INTO chain_heads (workspace_id, seq, hash, digest_key, digest_key_box, checkpoint_at, updated_at)
				VALUES (?, 0, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, ws, audit.GenesisHash, sealed, boxID, now, now).Exec(ctx); err != nil {
				return nil, fmt.Errorf("start chain: %w", err)
			}
		}
		if err := sel(); err != nil {
			return nil, fmt.Errorf("lock chain heads: %w", err)
		}
	}
	out := make(map[string]*chainHead, len(rows))
	for i := range rows {
		out[rows[i].WorkspaceID] = &rows[i]
	}
	return out, nil
}

// digestKey opens the head's digest key, once per process.
func (c *Chain) digestKey(h *chainHead) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.digests[h.WorkspaceID]; ok {
		return k, nil
	}
	k, err := c.box.Open(h.DigestKey, h.DigestKeyBox, digestBinding(h.WorkspaceID))
	if err != nil {
		return nil, fmt.Errorf("open digest key of workspace %s: %w", h.WorkspaceID, err)
	}
	c.digests[h.WorkspaceID] = k
	return k, nil
}

// DigestKey returns the workspace's digest key, or nil when its chain has
// not started.
func (c *Chain) DigestKey(ctx context.Context, workspace string) ([]byte, error) {
	// A workspace's digest key never changes once its chain started.
	c.mu.Lock()
	k, ok := c.digests[workspace]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	var rows []chainHead
	if err := c.db.NewRaw("SELECT workspace_id, digest_key, digest_key_box FROM chain_heads WHERE workspace_id = ?", workspace).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read digest key: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return c.digestKey(&rows[0])
}

// Head returns the sequence number and hash of the workspace's last entry
// (0 and the genesis hash before the first).
func (c *Chain) Head(ctx context.Context, workspace string) (int64, string, error) {
	var rows []chainHead
	if err := c.db.NewRaw("SELECT workspace_id, seq, hash FROM chain_heads WHERE workspace_id = ?", workspace).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("read chain head: %w", err)
	}
	if len(rows) == 0 {
		return 0, audit.GenesisHash, nil
	}
	return rows[0].Seq, rows[0].Hash, nil
}

// stamp gives each row its place in its workspace's chain, in the order
// given, stores the places (sequence number, previous hash, hash) beside
// the rows and moves the heads, in tx. It signs a checkpoint whenever a
// chain grew by CheckpointEvery entries since the last, or when the last
// is older than CheckpointInterval. It adds each row's link to its
// payload, and returns each row's hash.
func (c *Chain) stamp(ctx context.Context, tx bun.Tx, rows []outboxRow, now time.Time) ([]string, error) {
	var workspaces []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.WorkspaceID] {
			seen[r.WorkspaceID] = true
			workspaces = append(workspaces, r.WorkspaceID)
		}
	}
	heads, err := c.heads(ctx, tx, workspaces, now)
	if err != nil {
		return nil, err
	}
	// Each event's place is known before any hash is: the next sequence
	// number of its workspace. So the costly part of linking (decoding,
	// the digests, the canonical form) runs on every core, and only the
	// hashes are chained one after the other.
	chainSeqs := make([]int64, len(rows))
	keys := make(map[string][]byte, len(heads))
	next := make(map[string]int64, len(heads))
	for i := range rows {
		h := heads[rows[i].WorkspaceID]
		if _, ok := keys[h.WorkspaceID]; !ok {
			key, err := c.digestKey(h)
			if err != nil {
				return nil, err
			}
			keys[h.WorkspaceID], next[h.WorkspaceID] = key, h.Seq
		}
		next[h.WorkspaceID]++
		chainSeqs[i] = next[h.WorkspaceID]
	}
	events := make([]activity.Event, len(rows))
	prepared, err := prepare(rows, events, chainSeqs, keys)
	if err != nil {
		return nil, err
	}
	var cps []audit.Checkpoint
	seqs := make([]int64, len(rows))
	prevs := make([]string, len(rows))
	hashes := make([]string, len(rows))
	var link []byte
	for i := range rows {
		h := heads[rows[i].WorkspaceID]
		prevs[i] = h.Hash
		h.Seq = chainSeqs[i]
		h.Hash = prepared[i].Link(h.Hash)
		link = audit.AppendLink(link[:0], events[i].Chain)
		if rows[i].Payload, err = withChain(rows[i].Payload, link); err != nil {
			return nil, fmt.Errorf("outbox event %s: %w", rows[i].EventID, err)
		}
		seqs[i], hashes[i] = rows[i].Seq, h.Hash
		if h.Seq-h.CheckpointSeq >= int64(c.cfg.CheckpointEvery) {
			cps = append(cps, audit.Checkpoint{WorkspaceID: h.WorkspaceID, Seq: h.Seq, Hash: h.Hash, CreatedAt: now})
			h.CheckpointSeq, h.CheckpointAt = h.Seq, now
		}
	}
	ws := make([]string, 0, len(heads))
	hs := make([]int64, 0, len(heads))
	headHashes := make([]string, 0, len(heads))
	for _, h := range heads {
		if h.Seq > h.CheckpointSeq && now.Sub(h.CheckpointAt) >= c.cfg.CheckpointInterval {
			cps = append(cps, audit.Checkpoint{WorkspaceID: h.WorkspaceID, Seq: h.Seq, Hash: h.Hash, CreatedAt: now})
			h.CheckpointSeq, h.CheckpointAt = h.Seq, now
		}
		ws, hs, headHashes = append(ws, h.WorkspaceID), append(hs, h.Seq), append(headHashes, h.Hash)
	}
	if _, err := tx.NewRaw(`WITH links AS (
			INSERT INTO outbox_chain (outbox_seq, chain_seq, prev_hash, hash)
			SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[])
		)
		UPDATE chain_heads AS h SET seq = u.seq, hash = u.hash, updated_at = ?
		FROM unnest(?::uuid[], ?::bigint[], ?::text[]) AS u(workspace_id, seq, hash) WHERE h.workspace_id = u.workspace_id`,
		pgdialect.Array(seqs), pgdialect.Array(chainSeqs), pgdialect.Array(prevs), pgdialect.Array(hashes),
		now, pgdialect.Array(ws), pgdialect.Array(hs), pgdialect.Array(headHashes)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store chain places and move chain heads: %w", err)
	}
	if err := c.sign(ctx, tx, cps, now); err != nil {
		return nil, err
	}
	return hashes, nil
}

// prepareShare is the fewest events a goroutine of prepare is given.
const prepareShare = 64

// prepare decodes the rows' events into events and prepares each at its
// place under its workspace's key, in shares on as many goroutines as
// there are cores.
func prepare(rows []outboxRow, events []activity.Event, places []int64, keys map[string][]byte) ([]audit.Prepared, error) {
	out := make([]audit.Prepared, len(rows))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(rows)/prepareShare))
	share := (len(rows) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			linkers := map[string]*audit.Linker{}
			for i := w * share; i < min(len(rows), (w+1)*share); i++ {
				ws := rows[i].WorkspaceID
				l := linkers[ws]
				if l == nil {
					l = audit.NewLinker(keys[ws])
					linkers[ws] = l
				}
				if err := activity.UnmarshalEvent(rows[i].Payload, &events[i]); err != nil {
					errs[w] = fmt.Errorf("decode outbox event %s: %w", rows[i].EventID, err)
					return
				}
				out[i] = l.Prepare(&events[i], places[i])
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// sign signs the checkpoints with the current key and stores them with
// the heads' record of their last checkpoint.
func (c *Chain) sign(ctx context.Context, tx bun.Tx, cps []audit.Checkpoint, now time.Time) error {
	if len(cps) == 0 {
		return nil
	}
	id, priv, err := c.signer(ctx, tx, now)
	if err != nil {
		return err
	}
	for i := range cps {
		cps[i].Sign(priv, id)
		cp := cps[i]
		if _, err := tx.NewRaw(`INSERT INTO chain_checkpoints (workspace_id, seq, hash, created_at, key_id, signature)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, cp.WorkspaceID, cp.Seq, cp.Hash, cp.CreatedAt, cp.KeyID, cp.Signature).Exec(ctx); err != nil {
			return fmt.Errorf("store checkpoint: %w", err)
		}
		if _, err := tx.NewRaw(`UPDATE chain_heads SET checkpoint_seq = ?, checkpoint_at = ? WHERE workspace_id = ? AND checkpoint_seq < ?`,
			cp.Seq, cp.CreatedAt, cp.WorkspaceID, cp.Seq).Exec(ctx); err != nil {
			return fmt.Errorf("record checkpoint: %w", err)
		}
	}
	return nil
}

type auditKeyRow struct {
	ID         string     `bun:"id"`
	PublicKey  []byte     `bun:"public_key"`
	PrivateKey []byte     `bun:"private_key"`
	KeyBox     string     `bun:"key_box"`
	CreatedAt  time.Time  `bun:"created_at"`
	RetiredAt  *time.Time `bun:"retired_at"`
}

// signer returns the current signing key, making the first one when there
// is none.
func (c *Chain) signer(ctx context.Context, db bun.IDB, now time.Time) (string, ed25519.PrivateKey, error) {
	var rows []auditKeyRow
	if err := db.NewRaw("SELECT id, public_key, private_key, key_box, created_at, retired_at FROM audit_keys WHERE retired_at IS NULL ORDER BY created_at DESC, id LIMIT 1").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("read signing key: %w", err)
	}
	if len(rows) == 0 {
		if _, err := c.newKey(ctx, db, now); err != nil {
			return "", nil, err
		}
		return c.signer(ctx, db, now)
	}
	r := rows[0]
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.signers[r.ID]; ok {
		return r.ID, k, nil
	}
	seed, err := c.box.Open(r.PrivateKey, r.KeyBox, checkpointKeyBinding(r.ID))
	if err != nil {
		return "", nil, fmt.Errorf("open signing key %s: %w", r.ID, err)
	}
	k := ed25519.NewKeyFromSeed(seed)
	c.signers[r.ID] = k
	return r.ID, k, nil
}

// newKey makes and stores a signing key, sealed by the key box.
func (c *Chain) newKey(ctx context.Context, db bun.IDB, now time.Time) (audit.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return audit.PublicKey{}, fmt.Errorf("make signing key: %w", err)
	}
	id := audit.KeyID(pub)
	sealed, boxID, err := c.box.Seal(priv.Seed(), checkpointKeyBinding(id))
	if err != nil {
		return audit.PublicKey{}, fmt.Errorf("seal signing key: %w", err)
	}
	if _, err := db.NewRaw("INSERT INTO audit_keys (id, public_key, private_key, key_box, created_at) VALUES (?, ?, ?, ?, ?)",
		id, []byte(pub), sealed, boxID, now).Exec(ctx); err != nil {
		return audit.PublicKey{}, fmt.Errorf("store signing key: %w", err)
	}
	return audit.NewPublicKey(pub, now, nil)
}

// RotateKey makes a new checkpoint signing key and retires the others:
// they sign no more, and stay published so that their checkpoints still
// verify. It returns the new key.
func (c *Chain) RotateKey(ctx context.Context) (audit.PublicKey, error) {
	now := c.db.Now().UTC().Truncate(time.Millisecond)
	var pub audit.PublicKey
	err := c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("UPDATE audit_keys SET retired_at = ? WHERE retired_at IS NULL", now).Exec(ctx); err != nil {
			return fmt.Errorf("retire signing keys: %w", err)
		}
		var err error
		pub, err = c.newKey(ctx, tx, now)
		return err
	})
	return pub, err
}

// Keys returns every checkpoint signing key, current and retired, newest
// first.
func (c *Chain) Keys(ctx context.Context) ([]audit.PublicKey, error) {
	var rows []auditKeyRow
	if err := c.db.NewRaw("SELECT id, public_key, created_at, retired_at FROM audit_keys ORDER BY created_at DESC, id").Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	keys := make([]audit.PublicKey, 0, len(rows))
	for _, r := range rows {
		var retired *time.Time
		if r.RetiredAt != nil {
			t := r.RetiredAt.UTC()
			retired = &t
		}
		k, err := audit.NewPublicKey(ed25519.PublicKey(r.PublicKey), r.CreatedAt, retired)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

type checkpointRow struct {
	WorkspaceID string    `bun:"workspace_id"`
	Seq         int64     `bun:"seq"`
	Hash        string    `bun:"hash"`
	CreatedAt   time.Time `bun:"created_at"`
	KeyID       string    `bun:"key_id"`
	Signature   string    `bun:"signature"`
}

// Checkpoints returns up to limit of the workspace's checkpoints with a
// sequence number above after, in sequence order.
func (c *Chain) Checkpoints(ctx context.Context, workspace string, after int64, limit int) ([]audit.Checkpoint, error) {
	var rows []checkpointRow
	if err := c.db.NewRaw(`SELECT workspace_id, seq, hash, created_at, key_id, signature FROM chain_checkpoints
		WHERE workspace_id = ? AND seq > ? ORDER BY seq LIMIT ?`, workspace, after, limit).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	out := make([]audit.Checkpoint, len(rows))
	for i, r := range rows {
		out[i] = audit.Checkpoint{WorkspaceID: r.WorkspaceID, Seq: r.Seq, Hash: r.Hash, CreatedAt: r.CreatedAt.UTC(), KeyID: r.KeyID, Signature: r.Signature}
	}
	return out, nil
}

// CheckpointCovering returns the workspace's latest checkpoint with a
// sequence number at or below upTo, nil when there is none.
func (c *Chain) CheckpointCovering(ctx context.Context, workspace string, upTo int64) (*audit.Checkpoint, error) {
	var rows []checkpointRow
	if err := c.db.NewRaw(`SELECT workspace_id, seq, hash, created_at, key_id, signature FROM chain_checkpoints
		WHERE workspace_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1`, workspace, upTo).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find the checkpoint covering %d: %w", upTo, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &audit.Checkpoint{WorkspaceID: r.WorkspaceID, Seq: r.Seq, Hash: r.Hash, CreatedAt: r.CreatedAt.UTC(), KeyID: r.KeyID, Signature: r.Signature}, nil
}

// checkpointStale signs a checkpoint for every chain that grew since its
// last one more than CheckpointInterval ago, so that a quiet workspace's
// last entries are vouched for too.
func (c *Chain) checkpointStale(ctx context.Context, db bun.IDB) error {
	now := c.db.Now().UTC().Truncate(time.Millisecond)
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var rows []chainHead
		if err := tx.NewRaw(`SELECT workspace_id, seq, hash FROM chain_heads
			WHERE seq > checkpoint_seq AND checkpoint_at <= ? ORDER BY workspace_id LIMIT 1000 FOR UPDATE SKIP LOCKED`,
			now.Add(-c.cfg.CheckpointInterval)).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find chains due a checkpoint: %w", err)
		}
		cps := make([]audit.Checkpoint, len(rows))
		for i, h := range rows {
			cps[i] = audit.Checkpoint{WorkspaceID: h.WorkspaceID, Seq: h.Seq, Hash: h.Hash, CreatedAt: now}
		}
		return c.sign(ctx, tx, cps, now)
	})
}
