package http_test

import (
	"net/netip"
	"testing"

	domainhttp "github.com/fluxera/activity/domain/http"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"no proxies configured", "127.0.0.1", "203.0.113.9", nil, "127.0.0.1"},
		{"peer is not a trusted proxy", "198.51.100.4", "203.0.113.9", proxies, "198.51.100.4"},
		{"trusted proxy", "10.1.2.3", "203.0.113.9", proxies, "203.0.113.9"},
		{"chain of trusted proxies", "127.0.0.1", "203.0.113.9, 10.0.0.7", proxies, "203.0.113.9"},
		{"forged left-most hop is ignored", "10.1.2.3", "1.1.1.1, 203.0.113.9", proxies, "203.0.113.9"},
		{"garbage hop stops the walk", "10.1.2.3", "203.0.113.9, not-an-ip", proxies, "10.1.2.3"},
		{"every hop trusted", "10.1.2.3", "10.0.0.8", proxies, "10.0.0.8"},
		{"IPv4-mapped IPv6 peer", "::ffff:10.1.2.3", "2001:db8::1", proxies, "2001:db8::1"},
		{"trusted proxy without header", "10.1.2.3", "", proxies, "10.1.2.3"},
		{"unparsable peer", "nonsense", "203.0.113.9", proxies, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domainhttp.ClientIP(tt.remote, tt.xff, tt.trusted); got != tt.want {
				t.Errorf("ClientIP(%q, %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}
