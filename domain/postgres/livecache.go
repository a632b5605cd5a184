package postgres

import (
	"container/list"
	"sync"
)

// liveCache is what the caches kept in step with the database by a
// listener (see followChanges) have in common: at most size entries, the
// least recently used out first; served only while the listener is
// connected; and a generation that every removal moves on, so that a read
// that began before a change is not stored after it.
type liveCache[K comparable, V any] struct {
	size    int
	mu      sync.Mutex
	entries map[K]*list.Element
	order   *list.List // of *liveItem[K, V], most recently used first
	// live is whether the listener is connected and listening.
	live bool
	gen  uint64
}

type liveItem[K comparable, V any] struct {
	key   K
	value V
}

// init readies c to keep up to size entries.
func (c *liveCache[K, V]) init(size int) {
	c.size, c.entries, c.order = size, make(map[K]*list.Element), list.New()
}

// lookup returns the value kept under key if check says it may be served,
// and the generation a read that misses must present to store. A value
// check says not to keep is removed.
func (c *liveCache[K, V]) lookup(key K, check func(*V) (serve, keep bool)) (V, bool, uint64) {
	var zero V
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return zero, false, c.gen
	}
	el, ok := c.entries[key]
	if !ok {
		return zero, false, c.gen
	}
	it := el.Value.(*liveItem[K, V])
	serve, keep := check(&it.value)
	if !keep {
		c.order.Remove(el)
		delete(c.entries, key)
	}
	if !serve {
		return zero, false, c.gen
	}
	c.order.MoveToFront(el)
	return it.value, true, c.gen
}

// store keeps v under key unless the cache removed anything since gen.
func (c *liveCache[K, V]) store(key K, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen {
		return
	}
	if el, ok := c.entries[key]; ok {
		el.Value = &liveItem[K, V]{key, v}
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*liveItem[K, V]).key)
	}
	c.entries[key] = c.order.PushFront(&liveItem[K, V]{key, v})
}

// update changes the value kept under key, if any, in place.
func (c *liveCache[K, V]) update(key K, f func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		f(&el.Value.(*liveItem[K, V]).value)
	}
}

// remove removes the value kept under key, if any.
func (c *liveCache[K, V]) remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.entries[key]; ok {
		c.order.Remove(el)
		delete(c.entries, key)
	}
}

// removeWhere removes every value match holds to.
func (c *liveCache[K, V]) removeWhere(match func(*V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if it := el.Value.(*liveItem[K, V]); match(&it.value) {
			c.order.Remove(el)
			delete(c.entries, it.key)
		}
		el = next
	}
}

// reset drops every entry and says whether the cache may serve.
func (c *liveCache[K, V]) reset(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	clear(c.entries)
	c.order.Init()
}

func (c *liveCache[K, V]) isLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}
