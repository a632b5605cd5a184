package enrich

import (
	"net/netip"

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
	doc.Client = ParseUserAgent(doc.Context.UserAgent)
}
