package postgres

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// authChannelPrefix leads the LISTEN/NOTIFY channel on which the
// migration's triggers announce every change to what a session or API
// token resolves to; the schema's name follows it.
const authChannelPrefix = "fluxera_auth_"

// DefaultAuthCacheSize bounds the callers an API process keeps resolved.
const DefaultAuthCacheSize = 10000

// authCache keeps the callers that session and API tokens resolved to for
// a short time, so that a request does not wait on PostgreSQL for them. It
// serves only while its listener is connected: every change announced on
// the channel drops the entries it concerns, and the whole cache is
// dropped whenever the listener connects, since changes may have been
// missed while it was not. An entry is never served past the session's or
// token's own expiry.
type authCache struct {
	ttl time.Duration
	liveCache[[sha256.Size]byte, authEntry]
}

type authEntry struct {
	key       [sha256.Size]byte
	principal activity.Principal
	// until is when the entry goes stale: its TTL, or the session's or
	// token's expiry when that comes first.
	until time.Time
	// lastUsed is the API token's last use as stored, kept to the minute.
	lastUsed time.Time
}

func newAuthCache(ttl time.Duration, size int) *authCache {
	c := &authCache{ttl: ttl}
	c.init(size)
	return c
}

// get returns the live entry of key, if any, and the generation a look-up
// that misses must present to put. A stale entry is dropped.
func (c *authCache) get(key [sha256.Size]byte, now time.Time) (authEntry, bool, uint64) {
	return c.lookup(key, func(e *authEntry) (bool, bool) {
		fresh := now.Before(e.until)
		return fresh, fresh
	})
}

// put stores e unless the cache dropped anything since gen, evicting the
// least recently used entry when full.
func (c *authCache) put(e authEntry, gen uint64) { c.store(e.key, e, gen) }

// used notes the API token's use at now in its entry.
func (c *authCache) used(key [sha256.Size]byte, now time.Time) {
	c.update(key, func(e *authEntry) { e.lastUsed = now })
}

// drop removes the entries a notification's payload, "<kind>:<id>", names;
// a payload it does not know drops nothing.
func (c *authCache) drop(payload string) {
	kind, id, ok := strings.Cut(payload, ":")
	if !ok || id == "" {
		return
	}
	match := map[string]func(activity.Principal) bool{
		"session":   func(p activity.Principal) bool { return p.SessionID == id },
		"token":     func(p activity.Principal) bool { return p.TokenID == id },
		"user":      func(p activity.Principal) bool { return p.UserID == id },
		"workspace": func(p activity.Principal) bool { return p.WorkspaceID == id },
	}[kind]
	if match == nil {
		return
	}
	c.removeWhere(func(e *authEntry) bool { return match(e.principal) })
}

// forgetCallers drops from this process's caches the callers that what,
// "<kind>:<id>" as the triggers announce it, names. The services that
// change a session, token, user or workspace call it once their change
// committed, so that the process that made the change never answers from
// before it, whenever the notification reaches its listener.
func (db *DB) forgetCallers(what string) {
	db.callers.Lock()
	caches := db.callers.caches
	db.callers.Unlock()
	for _, c := range caches {
		c.drop(what)
	}
}

// CacheInUse reports whether resolved callers are being cached: the cache
// is on (AuthConfig.CacheTTL) and its listener is connected.
func (s *AuthService) CacheInUse() bool {
	return s.cache != nil && s.cache.isLive()
}

// ListenForChanges keeps the cache of resolved callers in step with the
// database until ctx ends: it listens for the changes the triggers
// announce and drops what they concern. When its connection is lost it
// stops serving from the cache, calls lost with the reason, and connects
// again, dropping every entry once listening. Without a cache it returns
// at once.
func (s *AuthService) ListenForChanges(ctx context.Context, lost func(error)) {
	if s.cache == nil {
		return
	}
	s.db.followChanges(ctx, authChannelPrefix, "auth", s.cache, lost)
}

// authenticateCached answers from the cache when it can, and otherwise
// looks token up and caches the answer.
func (s *AuthService) authenticateCached(ctx context.Context, token string) (activity.Principal, error) {
	key := sha256.Sum256([]byte(token))
	now := s.db.Now().UTC()
	e, ok, gen := s.cache.get(key, now)
	if ok {
		if e.principal.TokenID != "" && now.Sub(e.lastUsed) > time.Minute {
			if err := s.noteTokenUse(ctx, e.principal.TokenID, now); err != nil {
				return activity.Principal{}, err
			}
			s.cache.used(key, now)
		}
		p := e.principal
		p.Scopes = slices.Clone(p.Scopes)
		return p, nil
	}
	r, err := s.lookup(ctx, token, key, now)
	if err != nil {
		return activity.Principal{}, err
	}
	until := now.Add(s.cfg.CacheTTL)
	if !r.expiresAt.IsZero() && r.expiresAt.Before(until) {
		until = r.expiresAt
	}
	s.cache.put(authEntry{key: key, principal: r.principal, until: until, lastUsed: r.lastUsed}, gen)
	p := r.principal
	p.Scopes = slices.Clone(p.Scopes)
	return p, nil
}
