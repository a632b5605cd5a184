package enrich

import (
	"net/netip"
	"sync"

	"github.com/fluxera/activity/ingest"
)

// Enricher fills in a document's location and client.
type Enricher struct {
	Locator Locator
}

// Enrich sets the document's location from its address, unless the event
// already carries one, and its client from its user agent.
func (en Enricher) Enrich(doc *ingest.SearchDocument) {
	if doc.Context.Location == nil && en.Locator != nil && doc.Context.IP != "" {
		if ip, err := netip.ParseAddr(doc.Context.IP); err == nil {
			if loc, ok := en.Locator.Locate(ip); ok {
				doc.Context.Location = &loc
			}
		}
	}
	doc.Client = clients.parse(doc.Context.UserAgent)
}

// clients holds what the user agents seen lately say: a workspace's people
// send the same few user agents over and over, and reading one takes
// several regular expressions.
var clients = userAgents{parseFn: ParseUserAgent, limit: 4096}

// userAgents is a bounded cache of parsed user agents. Once it holds limit
// of them it starts afresh, so an unbounded variety of user agents costs
// memory in proportion to limit only.
type userAgents struct {
	parseFn func(string) ingest.Client
	limit   int

	mu   sync.RWMutex
	seen map[string]ingest.Client
}

func (u *userAgents) parse(ua string) ingest.Client {
	if ua == "" {
		return ingest.Client{}
	}
	u.mu.RLock()
	c, ok := u.seen[ua]
	u.mu.RUnlock()
	if ok {
		return c
	}
	c = u.parseFn(ua)
	u.mu.Lock()
	if u.seen == nil || len(u.seen) >= u.limit {
		u.seen = make(map[string]ingest.Client, u.limit)
	}
	u.seen[ua] = c
	u.mu.Unlock()
	return c
}
