// Package postgres stores the domain in PostgreSQL through bun: workspaces,
// users, sessions, assets and the transactional outbox of activity events.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/fluxera/activity/domain"
	"regexp"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"

	"github.com/fluxera/activity/domain/postgres/migrations"
)

// Config says where the domain database is.
type Config struct {
	URL string
	// Schema is the PostgreSQL schema the domain lives in; tests use one
	// schema each.
	Schema string
	// MaxConns bounds the connection pool.
	MaxConns int
	// NotifyChannel is the LISTEN/NOTIFY channel that wakes the relay.
	NotifyChannel string
	// AlertNotifyChannel is the LISTEN/NOTIFY channel that wakes the
	// notifier when alerts with deliveries are stored.
	AlertNotifyChannel string
	// ConnectTimeout bounds opening a connection. StatementTimeout bounds
	// one statement: PostgreSQL cancels it past that, and the connection
	// gives up waiting for an answer a little later.
	ConnectTimeout   time.Duration
	StatementTimeout time.Duration
	// Retention are the platform's defaults for new workspaces' retention
	// settings and the limits any change of them must keep;
	// domain.DefaultRetentionLimits when zero.
	Retention domain.RetentionLimits
}

// Defaults of the Config's timeouts.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultStatementTimeout = 10 * time.Second
)

// answerGrace is how much longer than the statement timeout a connection
// waits for an answer, so that PostgreSQL's own cancellation arrives first.
const answerGrace = 5 * time.Second

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.URL == "" {
		return fmt.Errorf("postgres: database URL is empty")
	}
	if c.Schema == "" {
		c.Schema = "public"
	}
	if !schemaPattern.MatchString(c.Schema) {
		return fmt.Errorf("postgres: schema %q must be lower-case letters, digits and underscores", c.Schema)
	}
	if c.MaxConns == 0 {
		c.MaxConns = 20
	}
	if c.NotifyChannel == "" {
		c.NotifyChannel = "fluxera_outbox_" + c.Schema
	}
	if c.AlertNotifyChannel == "" {
		c.AlertNotifyChannel = "fluxera_alert_deliveries_" + c.Schema
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.StatementTimeout == 0 {
		c.StatementTimeout = DefaultStatementTimeout
	}
	if c.ConnectTimeout < 0 || c.StatementTimeout < time.Millisecond {
		return fmt.Errorf("postgres: the connect timeout must be positive and the statement timeout at least 1ms")
	}
	return c.Retention.Validate()
}

// DB is the domain database.
type DB struct {
	*bun.DB
	cfg Config
	// Now is the clock; tests may replace it.
	Now func() time.Time

	outboxWaker *waker
	// alertWaker wakes the notifier's queue after alerts are stored.
	alertWaker *waker

	// callers are the caches of resolved callers of this process's
	// session services (see forgetCallers).
	callers struct {
		sync.Mutex
		caches []*authCache
	}
	// choices are the caches of this process's choice services (see
	// forgetChoices).
	choices struct {
		sync.Mutex
		caches []*choiceCache
	}
}

// Open connects to the database; it does not migrate. Every connection
// has cfg's connect timeout, PostgreSQL's statement_timeout set to cfg's
// statement timeout, and waits for an answer at most a little longer.
func Open(cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn := pgdriver.NewConnector(
		pgdriver.WithDSN(cfg.URL),
		pgdriver.WithConnParams(map[string]any{
			"search_path":       cfg.Schema,
			"statement_timeout": cfg.StatementTimeout.Milliseconds(),
		}),
		pgdriver.WithDialTimeout(cfg.ConnectTimeout),
		pgdriver.WithReadTimeout(cfg.StatementTimeout+answerGrace),
	)
	sqldb := sql.OpenDB(conn)
	sqldb.SetMaxOpenConns(cfg.MaxConns)
	sqldb.SetMaxIdleConns(cfg.MaxConns)
	db := &DB{DB: bun.NewDB(sqldb, pgdialect.New()), cfg: cfg, Now: time.Now}
	db.outboxWaker = newWaker(db.DB, cfg.NotifyChannel)
	db.alertWaker = newWaker(db.DB, cfg.AlertNotifyChannel)
	return db, nil
}

// Close stops waking the relay and the notifier and closes the
// connections.
func (db *DB) Close() error {
	db.outboxWaker.close()
	db.alertWaker.close()
	return db.DB.Close()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.DB.PingContext(ctx)
}

// Migrate creates the schema if needed and applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS ?", bun.Ident(db.cfg.Schema)); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	m := migrate.NewMigrator(db.DB, migrations.Migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("init migrations: %w", err)
	}
	if err := m.Lock(ctx); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	defer m.Unlock(ctx) //nolint:errcheck
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// DropSchema removes the schema and everything in it. Tests use it to
// clean up after themselves.
func (db *DB) DropSchema(ctx context.Context) error {
	_, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS ? CASCADE", bun.Ident(db.cfg.Schema))
	return err
}

type recordedKey struct{}

// inTx runs fn in one transaction with one clock reading for all of it,
// and wakes the relay once it committed events.
func (db *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, now time.Time) error) error {
	now := db.Now().UTC().Truncate(time.Millisecond)
	var recorded bool
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(context.WithValue(ctx, recordedKey{}, &recorded), tx, now)
	})
	if err == nil && recorded {
		db.outboxWaker.wake()
	}
	if err == nil {
		db.forgetChoices(ctx)
	}
	return err
}
