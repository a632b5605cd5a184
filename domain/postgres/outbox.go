package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
)

type outboxRow struct {
	bun.BaseModel `bun:"table:outbox"`
	Seq           int64           `bun:"seq,pk,autoincrement"`
	EventID       string          `bun:"event_id,type:uuid"`
	WorkspaceID   string          `bun:"workspace_id,type:uuid"`
	Payload       json.RawMessage `bun:"payload,type:json"`
}

// recordEvents writes events to the outbox inside tx, as the last write of
// the transaction; inTx wakes the relay when the transaction commits (see
// Pending for the order this gives).
func (db *DB) recordEvents(ctx context.Context, tx bun.Tx, events ...activity.Event) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]outboxRow, len(events))
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return fmt.Errorf("event %s is not valid: %w", events[i].Action, err)
		}
		b, err := json.Marshal(events[i])
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		rows[i] = outboxRow{EventID: events[i].ID, WorkspaceID: events[i].WorkspaceID, Payload: b}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert outbox rows: %w", err)
	}
	if recorded, ok := ctx.Value(recordedKey{}).(*bool); ok {
		*recorded = true
	}
	return nil
}

// Outbox is the relay's view of the outbox table.
type Outbox struct {
	db *DB
	// Chain, when set, gives each event its place in its workspace's hash
	// chain before the relay publishes it.
	Chain *Chain
	// lastStale is when quiet chains were last looked at for a checkpoint.
	lastStale time.Time

	mu       sync.Mutex
	lead     *bun.Conn // holds the session lock while this process leads
	wake     chan struct{}
	listener *pgdriver.Listener
	// stamped holds the payloads, link included, of the events this lead
	// stamped and has not seen marked published, so that handing them out
	// again costs no decoding.
	stamped map[int64]stampedPayload
	// ahead is closed when the stamping of the next batch, run while the
	// relay publishes the last one, is over; nil when none runs.
	ahead chan struct{}
	// aheadBatch is the batch stamped ahead, payloads with their links, in
	// chain order; nil when the last stamping ahead stamped nothing or
	// failed, or the batch was handed out.
	aheadBatch []domain.OutboxMessage
	// next holds the rows read for the batch after the one stamped ahead,
	// if any.
	next *nextRows
	// unmarked holds the sequence numbers of the events of the batch this
	// lead handed out last that it has not seen marked published.
	unmarked map[int64]struct{}
}

// maxKeptStamped bounds how many stamped payloads the outbox keeps: a
// few of the relay's largest batches.
const maxKeptStamped = 4000

// stampedPayload is an event's payload with its chain link, and the hash
// that link holds.
type stampedPayload struct {
	hash    string
	payload []byte
}

// NewOutbox returns the outbox of db.
func NewOutbox(db *DB) *Outbox { return &Outbox{db: db} }

// Pending returns up to n events in sequence order. It returns
// domain.ErrLeadLost when the session that holds the relay lock is gone,
// since another relay may have taken over.
//
// Sequence order is the order in which events were written, and a
// transaction writes its events last, after taking the row locks of what
// it changes. So of two transactions that change the same resource, the
// second writes its events only after the first committed, and they are
// published in that order. Transactions that touch nothing in common may
// commit out of sequence order; their events are published as they become
// visible, which can put a later sequence number first.
//
// While this process leads, the rows are read on the lead's own session,
// so that the read also proves the session, and the lock, are still there;
// a batch stamped ahead is handed out without a read, its stamping on
// that session having proved them.
func (o *Outbox) Pending(ctx context.Context, n int) ([]domain.OutboxMessage, error) {
	o.mu.Lock()
	lead := o.lead
	o.mu.Unlock()
	var db bun.IDB = o.db.DB
	if lead != nil {
		db = *lead
	}
	if o.Chain != nil && !o.Chain.cfg.Disabled {
		return o.pendingChained(ctx, db, n)
	}
	var rows []outboxRow
	err := db.NewSelect().Model(&rows).
		Column("seq", "event_id", "workspace_id", "payload").
		OrderExpr("seq").
		Limit(n).
		Scan(ctx)
	if err != nil {
		return nil, o.readFailed(ctx, lead, fmt.Errorf("select pending outbox rows: %w", err))
	}
	return messages(rows), nil
}

// readFailed returns err, or domain.ErrLeadLost when the lead's session
// no longer answers.
func (o *Outbox) readFailed(ctx context.Context, lead *bun.Conn, err error) error {
	if lead != nil {
		if perr := lead.PingContext(ctx); perr != nil {
			return fmt.Errorf("%w: %v (%v)", domain.ErrLeadLost, perr, err)
		}
	}
	return err
}

// pendingChained returns up to n events as Pending does, each with its
// place in its workspace's chain. Events already given a place (by a
// publish that failed, or by a relay that stopped before it marked them)
// come first, in chain order, with the place they were given; the others
// are given theirs now, in the order read, in one transaction on the
// lead's own session that also moves the chain heads. So an event is
// published with one place only, however often it is published, and a
// relay that lost its session cannot stamp anything.
//
// Both kinds are read in one statement: the stamped rows by their chain
// order, then the rows after them by sequence number. While a backlog
// drains, the next batch is stamped ahead (stampAhead) and, once every
// event handed out before it is marked published, handed out as it was
// stamped, without that read.
func (o *Outbox) pendingChained(ctx context.Context, db bun.IDB, n int) ([]domain.OutboxMessage, error) {
	o.waitAhead()
	_, leading := db.(bun.Conn)
	o.mu.Lock()
	batch := o.aheadBatch
	o.aheadBatch = nil
	clean := len(o.unmarked) == 0
	o.mu.Unlock()
	if leading && clean && len(batch) > 0 && len(batch) <= n {
		// Every event handed out before was marked published, so the
		// batch stamped ahead is all the outbox holds stamped: it comes
		// next, as the chain has it, without reading it again. Its
		// stamping, on the lead's session, proved the session.
		return o.handOut(ctx, db, batch, len(batch) == n)
	}
	var rows []pendingRow
	// One row more than the batch says what follows it: stamped rows
	// already, fresh ones to stamp ahead, or nothing. Fresh rows are read
	// only as far as the batch, and that row, need them.
	err := db.NewRaw(`WITH stamped AS (
			SELECT outbox_seq, chain_seq, chain, prev_hash, hash FROM outbox_chain ORDER BY chain_seq LIMIT ?0
		)
		SELECT * FROM (
			(SELECT o.seq, o.event_id, o.workspace_id, o.payload, s.chain_seq, s.chain, s.prev_hash, s.hash
				FROM stamped AS s JOIN outbox AS o ON o.seq = s.outbox_seq)
			UNION ALL
			(SELECT o.seq, o.event_id, o.workspace_id, o.payload, NULL, NULL, NULL, NULL FROM outbox AS o
				WHERE o.seq NOT IN (SELECT outbox_seq FROM stamped) ORDER BY o.seq LIMIT ?0 - (SELECT count(*) FROM stamped))
		) AS p ORDER BY chain_seq NULLS LAST, seq LIMIT ?0`, n+1).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		var lead *bun.Conn
		if c, ok := db.(bun.Conn); ok {
			lead = &c
		}
		return nil, o.readFailed(ctx, lead, fmt.Errorf("select pending outbox rows: %w", err))
	}
	freshAfter := len(rows) > n && rows[n].ChainSeq == nil
	rows = rows[:min(n, len(rows))]
	msgs := make([]domain.OutboxMessage, 0, len(rows))
	var fresh []outboxRow
	linkers := map[string]*audit.Linker{}
	for _, r := range rows {
		if r.ChainSeq == nil {
			fresh = append(fresh, outboxRow{Seq: r.Seq, EventID: r.EventID, WorkspaceID: r.WorkspaceID, Payload: r.Payload})
			continue
		}
		payload, err := o.stampedPayload(ctx, linkers, r)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, domain.OutboxMessage{Seq: r.Seq, EventID: r.EventID, WorkspaceID: r.WorkspaceID, Payload: payload})
	}
	if len(fresh) > 0 {
		if err := o.stamp(ctx, db, fresh); err != nil {
			return nil, err
		}
		msgs = append(msgs, messages(fresh)...)
	}
	return o.handOut(ctx, db, msgs, leading && freshAfter)
}

// handOut records msgs as handed out and not yet marked, signs now and
// then the checkpoints of chains that went quiet, and, if ahead, starts
// stamping the next batch.
func (o *Outbox) handOut(ctx context.Context, db bun.IDB, msgs []domain.OutboxMessage, ahead bool) ([]domain.OutboxMessage, error) {
	o.mu.Lock()
	// Only the last batch is tracked: a batch is stamped ahead only when
	// the one handed out holds every stamped row, so that once it is all
	// marked, the batch stamped ahead is all that is stamped.
	o.unmarked = make(map[int64]struct{}, len(msgs))
	for _, m := range msgs {
		o.unmarked[m.Seq] = struct{}{}
	}
	o.mu.Unlock()
	// Now and then, vouch for chains that grew and then went quiet, busy
	// as other workspaces may be.
	if now := o.db.Now(); now.Sub(o.lastStale) >= o.Chain.cfg.CheckpointInterval/10 {
		o.lastStale = now
		if err := o.Chain.checkpointStale(ctx, db); err != nil {
			return nil, err
		}
	}
	if ahead {
		handed := make([]int64, len(msgs))
		for i, m := range msgs {
			handed[i] = m.Seq
		}
		o.stampAhead(ctx, db, handed)
	}
	return msgs, nil
}

// stamp gives the fresh rows their places in one transaction and keeps
// their payloads, link included, until they are marked published.
func (o *Outbox) stamp(ctx context.Context, db bun.IDB, fresh []outboxRow) error {
	now := o.db.Now().UTC().Truncate(time.Millisecond)
	var hashes []string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		hashes, err = o.Chain.stamp(ctx, tx, fresh, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("fix the chain of %d events: %w", len(fresh), err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stamped == nil || len(o.stamped) > maxKeptStamped {
		o.stamped = make(map[int64]stampedPayload, 2*len(fresh)) // forget what failed marks left
	}
	for i, r := range fresh {
		o.stamped[r.Seq] = stampedPayload{hash: hashes[i], payload: r.Payload}
	}
	return nil
}

// stampAhead gives the next fresh rows, as many as handed holds, their
// places while the relay publishes the batch just handed out, on the
// lead's session, which nothing else uses meanwhile: the next Pending
// waits for it, and finds them stamped. Stamping is done in chain order
// whatever happens to the batch before: if it must be published again, it
// comes first, as the chain has it; and while it is handed out again,
// stamped rows follow it, so nothing more is stamped ahead. A failure
// here is left to the next Pending, which does the same work and reports
// it.
//
// The batch handed out, handed, holds every stamped row: stamping ahead
// starts only when the batch ended before the first fresh row. So the
// fresh rows are those not in handed, which spares reading outbox_chain,
// whose dead rows pile up while a backlog drains; and were a stamped row
// taken for fresh, its place could not be stored twice.
func (o *Outbox) stampAhead(ctx context.Context, db bun.IDB, handed []int64) {
	done := make(chan struct{})
	o.mu.Lock()
	o.ahead = done
	next := o.next
	o.next = nil
	o.mu.Unlock()
	go func() {
		defer close(done)
		var fresh []outboxRow
		var err error
		if next != nil && slices.Equal(next.after, handed) {
			<-next.done
			fresh, err = next.rows, next.err
		} else {
			fresh, err = o.freshBut(ctx, db, handed, len(handed))
		}
		if err != nil || len(fresh) == 0 {
			return
		}
		if len(fresh) == len(handed) {
			o.readNext(ctx, handed, fresh)
		}
		if o.stamp(ctx, db, fresh) == nil {
			o.mu.Lock()
			o.aheadBatch = messages(fresh)
			o.mu.Unlock()
		}
	}()
}

// freshBut reads up to n rows in sequence order but those in stamped,
// which holds every stamped row.
func (o *Outbox) freshBut(ctx context.Context, db bun.IDB, stamped []int64, n int) ([]outboxRow, error) {
	var fresh []outboxRow
	err := db.NewRaw(`SELECT seq, event_id, workspace_id, payload FROM outbox
		WHERE seq <> ALL(?::bigint[]) ORDER BY seq LIMIT ?`, pgdialect.Array(stamped), n).Scan(ctx, &fresh)
	return fresh, err
}

// nextRows are the fresh rows read, on a session of the pool, for the
// batch after the one being stamped ahead: the rows but those of the
// batch handed out and those being stamped (after).
type nextRows struct {
	after []int64
	done  chan struct{}
	rows  []outboxRow
	err   error
}

// readNext starts reading, on a session of the pool, the rows the next
// stamping ahead will stamp if the batch stamped now, fresh, is the next
// handed out: so that reading them overlaps this batch's stamping. The
// rows read are none of handed's and fresh's, which hold every row
// stamped by then, and stay fresh until this lead stamps them: only it
// stamps, and only stamped rows are deleted.
func (o *Outbox) readNext(ctx context.Context, handed []int64, fresh []outboxRow) {
	n := &nextRows{after: make([]int64, len(fresh)), done: make(chan struct{})}
	for i, r := range fresh {
		n.after[i] = r.Seq
	}
	o.mu.Lock()
	o.next = n
	o.mu.Unlock()
	go func() {
		defer close(n.done)
		n.rows, n.err = o.freshBut(ctx, o.db.DB, slices.Concat(handed, n.after), len(fresh))
	}()
}

// waitAhead returns when no stamping ahead runs.
func (o *Outbox) waitAhead() {
	o.mu.Lock()
	ahead := o.ahead
	o.ahead = nil
	o.mu.Unlock()
	if ahead != nil {
		<-ahead
	}
}

// stampedPayload returns the payload, link included, of an event stamped
// earlier: as this lead kept it, or with the whole link stored before
// places were kept alone, or with its link made again from its place.
func (o *Outbox) stampedPayload(ctx context.Context, linkers map[string]*audit.Linker, r pendingRow) ([]byte, error) {
	if r.Chain != nil {
		payload, err := withChain(r.Payload, []byte(*r.Chain))
		if err != nil {
			return nil, fmt.Errorf("outbox event %s: %w", r.EventID, err)
		}
		return payload, nil
	}
	o.mu.Lock()
	kept, ok := o.stamped[r.Seq]
	o.mu.Unlock()
	if ok && r.Hash != nil && kept.hash == *r.Hash {
		return kept.payload, nil
	}
	link, err := o.relink(ctx, linkers, r)
	if err != nil {
		return nil, err
	}
	payload, err := withChain(r.Payload, link)
	if err != nil {
		return nil, fmt.Errorf("outbox event %s: %w", r.EventID, err)
	}
	return payload, nil
}

// pendingRow is an outbox row with the place in the chain it was given,
// if any: the whole link for rows stamped before the places were kept
// alone, or the place's sequence number and hashes.
type pendingRow struct {
	Seq         int64           `bun:"seq"`
	EventID     string          `bun:"event_id"`
	WorkspaceID string          `bun:"workspace_id"`
	Payload     json.RawMessage `bun:"payload"`
	ChainSeq    *int64          `bun:"chain_seq"`
	Chain       *string         `bun:"chain"`
	PrevHash    *string         `bun:"prev_hash"`
	Hash        *string         `bun:"hash"`
}

// relink makes again the chain link of an event stamped earlier, at the
// place it was given, and checks that it gives the hash it was given.
func (o *Outbox) relink(ctx context.Context, linkers map[string]*audit.Linker, r pendingRow) ([]byte, error) {
	if r.PrevHash == nil || r.Hash == nil {
		return nil, fmt.Errorf("outbox event %s has a place in the chain without its hashes", r.EventID)
	}
	l := linkers[r.WorkspaceID]
	if l == nil {
		key, err := o.Chain.DigestKey(ctx, r.WorkspaceID)
		if err != nil {
			return nil, err
		}
		if key == nil {
			return nil, fmt.Errorf("outbox event %s has a place in a chain that has not started", r.EventID)
		}
		l = audit.NewLinker(key)
		linkers[r.WorkspaceID] = l
	}
	var e activity.Event
	if err := activity.UnmarshalEvent(r.Payload, &e); err != nil {
		return nil, fmt.Errorf("decode outbox event %s: %w", r.EventID, err)
	}
	if hash := l.Prepare(&e, *r.ChainSeq).Link(*r.PrevHash); hash != *r.Hash {
		return nil, fmt.Errorf("outbox event %s no longer gives the hash it was linked with at %d", r.EventID, *r.ChainSeq)
	}
	return audit.AppendLink(nil, e.Chain), nil
}

// withChain returns the event payload with the chain link added as its
// last field, leaving the event's own bytes as they were written.
func withChain(payload, chain []byte) ([]byte, error) {
	payload = bytes.TrimRight(payload, " \t\r\n")
	if len(payload) < 2 || payload[len(payload)-1] != '}' {
		return nil, fmt.Errorf("the payload is not a JSON object")
	}
	out := make([]byte, 0, len(payload)+len(chain)+10)
	out = append(out, payload[:len(payload)-1]...)
	if len(bytes.TrimSpace(payload[1:len(payload)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"chain":`...)
	out = append(out, chain...)
	return append(out, '}'), nil
}

func messages(rows []outboxRow) []domain.OutboxMessage {
	msgs := make([]domain.OutboxMessage, len(rows))
	for i, r := range rows {
		msgs[i] = domain.OutboxMessage{Seq: r.Seq, EventID: r.EventID, WorkspaceID: r.WorkspaceID, Payload: r.Payload}
	}
	return msgs
}

// MarkPublished removes the given rows, and their chain links, in one
// statement: the broker has them. Deleting a row costs far less than
// writing a new version of it.
func (o *Outbox) MarkPublished(ctx context.Context, seqs []int64) error {
	o.mu.Lock()
	for _, seq := range seqs {
		delete(o.stamped, seq)
	}
	o.mu.Unlock()
	if o.Chain != nil {
		_, err := o.db.NewRaw(`WITH links AS (DELETE FROM outbox_chain WHERE outbox_seq = ANY(?0::bigint[]))
			DELETE FROM outbox WHERE seq = ANY(?0::bigint[])`, pgdialect.Array(seqs)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark outbox rows published: %w", err)
		}
		o.mu.Lock()
		for _, seq := range seqs {
			delete(o.unmarked, seq)
		}
		o.mu.Unlock()
		return nil
	}
	_, err := o.db.NewRaw(`DELETE FROM outbox WHERE seq = ANY(?::bigint[])`, pgdialect.Array(seqs)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark outbox rows published: %w", err)
	}
	return nil
}

// Wait returns when a transaction with events commits or d has passed.
func (o *Outbox) Wait(ctx context.Context, d time.Duration) error {
	o.mu.Lock()
	wake := o.wake
	o.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake: // nil until Lead: then only the timer wakes
	case <-t.C:
	}
	return nil
}

const relayLock = "hashtextextended(current_schema() || '.outbox_relay', 0)"

// Lead takes a session-level advisory lock so that only one relay per
// schema publishes, which keeps the stream in sequence order, and starts
// listening for commits. It polls until the lock is free or ctx ends.
func (o *Outbox) Lead(ctx context.Context) (func(), error) {
	conn, err := o.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open relay lock connection: %w", err)
	}
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+relayLock+")").Scan(&ok); err != nil {
			conn.Close()
			return nil, fmt.Errorf("take relay lock: %w", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	listener := pgdriver.NewListener(o.db.DB)
	// Overflow is expected under load: one wake-up covers many commits.
	notes := listener.Channel(pgdriver.WithChannelSize(256), pgdriver.WithChannelOverflowHandler(func(pgdriver.Notification) {}))
	wake := make(chan struct{}, 1)
	go func() {
		for range notes {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	// A failed listen surfaces as missing wake-ups; the poll interval still
	// bounds the delay.
	_ = listener.Listen(ctx, o.db.cfg.NotifyChannel)
	o.mu.Lock()
	o.lead, o.wake, o.listener, o.stamped, o.aheadBatch, o.unmarked, o.next = &conn, wake, listener, nil, nil, nil, nil
	o.mu.Unlock()
	return func() {
		o.waitAhead() // it runs on the lead's session
		o.mu.Lock()
		o.lead, o.wake, o.listener, o.stamped, o.aheadBatch, o.unmarked, o.next = nil, nil, nil, nil, nil, nil, nil
		o.mu.Unlock()
		listener.Close()
		unlockCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// The connection goes back to the pool, so the lock is given up
		// explicitly; if the session is gone, so is the lock.
		_, _ = conn.ExecContext(unlockCtx, "SELECT pg_advisory_unlock("+relayLock+")")
		conn.Close()
	}, nil
}
