package postgres

import (
	"context"
	"fmt"
	"time"
)

// ArchiveLocks serialise, across every process, the work that rewrites a
// workspace's archive: the retention job archiving or expiring its months
// and indexing its restores, an owner's deletion past retention, and an
// anonymization. Each lock is a session-level PostgreSQL advisory lock
// held on a connection of its own, so it is released when its holder
// lets it go or its connection ends.
type ArchiveLocks struct {
	db *DB
}

// NewArchiveLocks returns the archive locks of db's schema.
func NewArchiveLocks(db *DB) *ArchiveLocks { return &ArchiveLocks{db: db} }

const archiveLock = "hashtextextended(current_schema() || '.archive.' || ?, 0)"

// LockArchive waits until it holds the lock of workspace's archive, or
// until ctx ends, and returns the function that releases it.
func (l *ArchiveLocks) LockArchive(ctx context.Context, workspace string) (func(), error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open archive lock connection: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+archiveLock+")", workspace); err != nil {
		conn.Close()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The driver may time the read out at ctx's deadline a moment
		// before ctx says so itself.
		if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
			return nil, context.DeadlineExceeded
		}
		return nil, fmt.Errorf("lock the archive of workspace %s: %w", workspace, err)
	}
	return func() {
		// Closing the connection releases the lock whatever happens to
		// the unlock; the unlock returns the connection clean to the pool.
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock("+archiveLock+")", workspace)
		conn.Close()
	}, nil
}
