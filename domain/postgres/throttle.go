package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/fluxera/activity/domain"
)

// passwordThrottle counts password checks against keys — an account, a
// member's password changes, an address — and refuses a check once a key
// has its limit of them within the window. A check is counted before it
// runs and forgotten when it succeeds, so that checks sent at once cannot
// all pass the count: at most the limit of them run.
type passwordThrottle struct {
	db  *DB
	cfg AuthConfig
}

// limit is the number of checks key may have within the window.
func (t passwordThrottle) limit(key string) int {
	if strings.HasPrefix(key, "ip:") {
		return t.cfg.MaxFailuresPerIP
	}
	return t.cfg.MaxFailuresPerAccount
}

// claim counts one check against every key and returns its attempt id. When
// any key already has its limit it counts nothing and returns tooMany. The
// checks of one key take their turn on a transaction-scoped advisory lock,
// so that each counts every check before it; keys are locked in order, so
// two claims never wait on each other.
func (t passwordThrottle) claim(ctx context.Context, keys []string, tooMany error) (string, error) {
	keys = slices.Sorted(slices.Values(keys))
	attempt := uuid.NewString()
	err := t.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		since := now.Add(-t.cfg.ThrottleWindow)
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "password_attempts:"+t.db.cfg.Schema+":"+k); err != nil {
				return fmt.Errorf("wait for the password checks of %s: %w", k, err)
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM password_attempts WHERE key = ? AND attempted_at <= ?", k, since); err != nil {
				return fmt.Errorf("forget old password checks: %w", err)
			}
			var n int
			if err := tx.NewSelect().TableExpr("password_attempts").ColumnExpr("count(*)").Where("key = ?", k).Scan(ctx, &n); err != nil {
				return fmt.Errorf("count password checks: %w", err)
			}
			if n >= t.limit(k) {
				return tooMany
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO password_attempts (attempt, key, attempted_at) VALUES (?, ?, ?)", attempt, k, now); err != nil {
				return fmt.Errorf("count password check: %w", err)
			}
		}
		return nil
	})
	return attempt, err
}

// forget uncounts a check that succeeded, or never ran, and clears every
// earlier failure of the keys in clear (the account a login succeeded on).
func (t passwordThrottle) forget(ctx context.Context, tx bun.IDB, attempt string, clear ...string) error {
	q := tx.NewDelete().TableExpr("password_attempts").Where("attempt = ?", attempt)
	if len(clear) > 0 {
		q = q.WhereOr("key IN (?)", bun.In(clear))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("forget password checks: %w", err)
	}
	return nil
}

// throttleNetwork is the address a check counts against: the address
// itself, or for IPv6 its /64, which one client can hold whole.
func throttleNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// throttleKeys are the keys a check from req counts against: key, and
// the request's address when it has one.
func throttleKeys(req domain.Request, key string) []string {
	keys := []string{key}
	if req.IP != "" {
		keys = append(keys, "ip:"+throttleNetwork(req.IP))
	}
	return keys
}
