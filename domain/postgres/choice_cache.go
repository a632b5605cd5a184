package postgres

import (
	"context"
	"sync/atomic"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// choiceChannelPrefix leads the LISTEN/NOTIFY channel on which the
// migration's triggers announce every change to what the filters offer;
// the schema's name follows it.
const choiceChannelPrefix = "fluxera_choices_"

// maxCachedChoices bounds the workspaces whose choices a process keeps.
const maxCachedChoices = 1000

// ChoicesMaxAge is how long a process serves a workspace's choices it
// read: members and licenses are announced when they change, but assets,
// written far more often, are not (a NOTIFY on every asset write made
// concurrent writers commit one at a time), so an asset added, renamed or
// removed through another process is offered once the choices read
// before it are this old. Through the same process it is offered at once.
const ChoicesMaxAge = 5 * time.Second

// choiceCache keeps each workspace's filter choices, as ListChoices read
// them, until a change to them is announced or they are ChoicesMaxAge
// old. It serves only while its
// listener is connected: the whole cache is dropped whenever the listener
// connects, since changes may have been missed while it was not.
type choiceCache struct {
	liveCache[string, choiceEntry]
	// last is the workspace the latest drop named.
	last atomic.Pointer[string]
}

type choiceEntry struct {
	max     int
	choices domain.FilterChoices
	// read is when the choices were read, before the statement was sent.
	read time.Time
}

func newChoiceCache() *choiceCache {
	c := &choiceCache{}
	c.init(maxCachedChoices)
	return c
}

// get returns the workspace's choices read with max, if kept, and the
// generation a read that misses must present to put.
func (c *choiceCache) get(workspace string, max int) (domain.FilterChoices, bool, uint64) {
	e, ok, gen := c.lookup(workspace, func(e *choiceEntry) (bool, bool) {
		return e.max == max && time.Since(e.read) < ChoicesMaxAge, true
	})
	return e.choices, ok, gen
}

// put keeps the workspace's choices unless the cache dropped anything
// since gen, evicting the least recently used workspace when full.
func (c *choiceCache) put(workspace string, e choiceEntry, gen uint64) {
	c.store(workspace, e, gen)
}

// drop removes the choices of the workspace a notification's payload
// names.
func (c *choiceCache) drop(workspace string) {
	c.remove(workspace)
	c.last.Store(&workspace)
}

// forgetChoices drops from this process's caches the choices of the
// workspace of the caller ctx carries, if any. Every transaction calls it
// once committed, so that callers see their own changes to members,
// assets and licenses at once, whenever the notification reaches the
// listener; the changes of others are seen when it does.
func (db *DB) forgetChoices(ctx context.Context) {
	p, ok := activity.PrincipalFrom(ctx)
	if !ok || p.WorkspaceID == "" {
		return
	}
	db.choices.Lock()
	caches := db.choices.caches
	db.choices.Unlock()
	for _, c := range caches {
		c.drop(p.WorkspaceID)
	}
}

// CacheInUse reports whether the choices are being cached: the listener
// of ListenForChanges is connected.
func (s *ChoiceService) CacheInUse() bool { return s.cache.isLive() }

// ListenForChanges keeps the cache of the workspaces' choices in step
// with the database until ctx ends: it listens for the changes the
// triggers announce and drops the choices of the workspaces they name.
// Until it listens, and whenever its connection is lost, every
// ListChoices reads the database; lost is called with the reason of each
// loss.
func (s *ChoiceService) ListenForChanges(ctx context.Context, lost func(error)) {
	s.db.followChanges(ctx, choiceChannelPrefix, "choice", s.cache, lost)
}
