package http_test

import (
	"io"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/domain"
	domainhttp "github.com/fluxera/activity/domain/http"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name, remote string
		xff          []string // the X-Forwarded-For lines
		trusted      []netip.Prefix
		want         string
	}{
		{"no proxies configured", "127.0.0.1", []string{"203.0.113.9"}, nil, "127.0.0.1"},
		{"peer is not a trusted proxy", "198.51.100.4", []string{"203.0.113.9"}, proxies, "198.51.100.4"},
		{"trusted proxy", "10.1.2.3", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"chain of trusted proxies", "127.0.0.1", []string{"203.0.113.9, 10.0.0.7"}, proxies, "203.0.113.9"},
		{"forged left-most hop is ignored", "10.1.2.3", []string{"1.1.1.1, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"forged line ahead of the proxy's is ignored", "10.1.2.3", []string{"1.1.1.1", "203.0.113.9"}, proxies, "203.0.113.9"},
		{"forged list in its own line is ignored", "10.1.2.3", []string{"1.1.1.1, 10.0.0.9", "203.0.113.9"}, proxies, "203.0.113.9"},
		{"chain of proxies over several lines", "10.1.2.3", []string{"1.1.1.1", "203.0.113.9, 10.0.0.7", "10.0.0.8"}, proxies, "203.0.113.9"},
		{"forged trusted address behind the client", "10.1.2.3", []string{"10.0.0.5", "203.0.113.9"}, proxies, "203.0.113.9"},
		{"empty entries are skipped", "10.1.2.3", []string{"203.0.113.9,, ", ""}, proxies, "203.0.113.9"},
		{"addresses with ports", "10.1.2.3", []string{"[2001:db8::1]:443, 10.0.0.7:8080"}, proxies, "2001:db8::1"},
		{"IPv4 address with a port", "10.1.2.3", []string{"203.0.113.9:41234"}, proxies, "203.0.113.9"},
		{"garbage hop stops the walk", "10.1.2.3", []string{"203.0.113.9, not-an-ip"}, proxies, "10.1.2.3"},
		{"garbage behind a trusted hop stops at that hop", "10.1.2.3", []string{"not-an-ip, 10.0.0.7"}, proxies, "10.0.0.7"},
		{"every hop trusted", "10.1.2.3", []string{"10.0.0.8"}, proxies, "10.0.0.8"},
		{"IPv4-mapped IPv6 peer", "::ffff:10.1.2.3", []string{"2001:db8::1"}, proxies, "2001:db8::1"},
		{"IPv4-mapped IPv6 hop", "10.1.2.3", []string{"::ffff:203.0.113.9"}, proxies, "203.0.113.9"},
		{"trusted proxy without header", "10.1.2.3", nil, proxies, "10.1.2.3"},
		{"unparsable peer", "nonsense", []string{"203.0.113.9"}, proxies, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domainhttp.ClientIP(tt.remote, tt.xff, tt.trusted); got != tt.want {
				t.Errorf("ClientIP(%q, %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}

// TestForwardedForIsReadAcrossHeaderLines checks that the client address
// of a request through a trusted proxy comes from every X-Forwarded-For
// line, read as one list: a line the client sent itself ahead of the
// proxy's cannot choose the address.
func TestForwardedForIsReadAcrossHeaderLines(t *testing.T) {
	// app.Test connects from 0.0.0.0.
	trusted := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"one line", []string{"203.0.113.9"}, "203.0.113.9"},
		{"the client's own line before the proxy's", []string{"1.1.1.1", "203.0.113.9"}, "203.0.113.9"},
		{"the client's own list before the proxy's", []string{"1.1.1.1, 2.2.2.2", "203.0.113.9"}, "203.0.113.9"},
		{"a chain of proxies over lines", []string{"1.1.1.1", "203.0.113.9, 10.0.0.7", "10.0.0.8"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := domainhttp.NewServer(domainhttp.Config{TrustedProxies: trusted}, domainhttp.Services{}, logrus.New())
			s.App.Get("/ip", func(c *fiber.Ctx) error { return c.SendString(domain.RequestFrom(c.UserContext()).IP) })
			req := httptest.NewRequest("GET", "/ip", nil)
			for _, l := range tt.lines {
				req.Header.Add("X-Forwarded-For", l)
			}
			res, err := s.App.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			if string(got) != tt.want {
				t.Errorf("X-Forwarded-For %q gave %q, want %q", tt.lines, got, tt.want)
			}
		})
	}
}
