package enrich

import (
	"fmt"
	"testing"

	"github.com/fluxera/activity/ingest"
)

// TestUserAgentsParseEachOnce checks that a user agent seen again is not
// read again, and that the cache holds at most its limit.
func TestUserAgentsParseEachOnce(t *testing.T) {
	parsed := map[string]int{}
	u := userAgents{limit: 3, parseFn: func(ua string) ingest.Client {
		parsed[ua]++
		return ingest.Client{Browser: ua}
	}}
	for range 100 {
		for _, ua := range []string{"a", "b", ""} {
			if got := u.parse(ua); got.Browser != ua {
				t.Fatalf("parse(%q) = %+v", ua, got)
			}
		}
	}
	if parsed["a"] != 1 || parsed["b"] != 1 || parsed[""] != 0 {
		t.Errorf("parsed %v, want a and b once each and the empty user agent never", parsed)
	}
	for i := range 10 {
		u.parse(fmt.Sprint(i))
		if len(u.seen) > u.limit {
			t.Fatalf("the cache holds %d user agents, more than its limit %d", len(u.seen), u.limit)
		}
	}
}
