package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/fluxera/activity/internal/retry"
)

// listenIdle is how long a listener waits for a notification before it
// checks, with a notification of its own, that its connection still
// carries them.
const listenIdle = 10 * time.Second

// changeCache is a cache of this process kept in step with the database
// by the notifications the triggers send on one channel.
type changeCache interface {
	// reset drops every entry and says whether the cache may serve.
	reset(live bool)
	// drop removes the entries a notification's payload concerns.
	drop(payload string)
}

// schemaChannel is the LISTEN/NOTIFY channel of prefix for schema: the
// prefix and the schema's name, cut to the 63 bytes of a PostgreSQL name
// as the migrations' triggers cut it.
func schemaChannel(prefix, schema string) string {
	c := prefix + schema
	if len(c) > 63 {
		c = c[:63]
	}
	return c
}

// followChanges keeps c in step with the schema's channel of prefix (see
// schemaChannel) until ctx ends: it listens and drops what each
// notification concerns. When its connection is lost it stops c serving,
// calls lost with the reason, and connects again, dropping every entry
// once listening. what names the changes in errors.
func (db *DB) followChanges(ctx context.Context, prefix, what string, c changeCache, lost func(error)) {
	channel := schemaChannel(prefix, db.cfg.Schema)
	backoff := retry.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Jitter: retry.DefaultJitter}
	for failures := 0; ; {
		listened, err := db.listenOnce(ctx, channel, what, c)
		c.reset(false)
		if ctx.Err() != nil {
			return
		}
		if listened {
			failures = 0
		}
		failures++
		if lost != nil {
			lost(err)
		}
		t := time.NewTimer(backoff.Delay(failures))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// listenOnce listens on one connection until it fails or ctx ends, and
// reports whether it got as far as listening.
func (db *DB) listenOnce(ctx context.Context, channel, what string, c changeCache) (bool, error) {
	ln := pgdriver.NewListener(db.DB)
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	if err := ln.Listen(ctx, channel); err != nil {
		return false, fmt.Errorf("listen for %s changes: %w", what, err)
	}
	// Whatever changed before now was missed or is already committed:
	// start from nothing.
	c.reset(true)
	pinged := false
	for {
		_, payload, err := ln.ReceiveTimeout(ctx, listenIdle)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && !pinged {
			// A silent connection may be a dead one: a notification of its
			// own must come back before the next wait ends.
			pinged = true
			pingCtx, cancel := context.WithTimeout(ctx, listenIdle)
			_, err = db.ExecContext(pingCtx, "SELECT pg_notify(?, 'ping')", channel)
			cancel()
			if err != nil {
				return true, fmt.Errorf("check %s listener: %w", what, err)
			}
			continue
		}
		if err != nil {
			return true, fmt.Errorf("receive %s change: %w", what, err)
		}
		pinged = false
		c.drop(payload)
	}
}
