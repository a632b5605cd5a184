package postgres

import (
	"container/list"
	"context"
	"sync"
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
	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // of *choiceEntry, most recently used first
	// live is whether the listener is connected and listening.
	live bool
	// gen changes with every drop, so that a read that began before a
	// change is not stored after it.
	gen uint64
	// last is the workspace the latest drop named.
	last string
}

type choiceEntry struct {
	workspace string
	max       int
	choices   domain.FilterChoices
	// read is when the choices were read, before the statement was sent.
	read time.Time
}

func newChoiceCache() *choiceCache {
	return &choiceCache{entries: make(map[string]*list.Element), order: list.New()}
}

// get returns the workspace's choices read with max, if kept, and the
// generation a read that misses must present to put.
func (c *choiceCache) get(workspace string, max int) (domain.FilterChoices, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return domain.FilterChoices{}, false, c.gen
	}
	el, ok := c.entries[workspace]
	if !ok || el.Value.(*choiceEntry).max != max || time.Since(el.Value.(*choiceEntry).read) >= ChoicesMaxAge {
		return domain.FilterChoices{}, false, c.gen
	}
	c.order.MoveToFront(el)
	return el.Value.(*choiceEntry).choices, true, c.gen
}

// put keeps e unless the cache dropped anything since gen, evicting the
// least recently used workspace when full.
func (c *choiceCache) put(e choiceEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen {
		return
	}
	if el, ok := c.entries[e.workspace]; ok {
		el.Value = &e
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= maxCachedChoices {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*choiceEntry).workspace)
	}
	c.entries[e.workspace] = c.order.PushFront(&e)
}

// drop removes the choices of the workspace a notification's payload
// names.
func (c *choiceCache) drop(workspace string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.last = workspace
	if el, ok := c.entries[workspace]; ok {
		c.order.Remove(el)
		delete(c.entries, workspace)
	}
}

// reset drops every entry and says whether the cache may serve.
func (c *choiceCache) reset(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	clear(c.entries)
	c.order.Init()
}

func (c *choiceCache) isLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
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
