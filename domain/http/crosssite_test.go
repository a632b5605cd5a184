package http

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
)

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		origin, self string
		want         bool
	}{
		{"https://fluxera.example", "https://fluxera.example", true},
		{"https://FLUXERA.example", "https://fluxera.example", true},
		{"HTTPS://fluxera.example", "https://fluxera.example:443", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"https://fluxera.example/", "https://fluxera.example", true},
		{"http://fluxera.example", "https://fluxera.example", false},
		{"https://fluxera.example:8443", "https://fluxera.example", false},
		{"https://evil.example", "https://fluxera.example", false},
		{"https://fluxera.example.evil.example", "https://fluxera.example", false},
		{"https://user@fluxera.example", "https://fluxera.example", false},
		{"https://fluxera.example/path", "https://fluxera.example", false},
		{"null", "https://fluxera.example", false},
		{"", "https://fluxera.example", false},
		{"ftp://fluxera.example", "ftp://fluxera.example", false},
		{"fluxera.example", "https://fluxera.example", false},
	}
	for _, tt := range tests {
		if got := SameOrigin(tt.origin, tt.self); got != tt.want {
			t.Errorf("SameOrigin(%q, %q) = %v, want %v", tt.origin, tt.self, got, tt.want)
		}
	}
}

// TestCrossSiteChangesAreRefused checks which requests signed in with the
// session cookie go through, by method and by what the browser says of
// their origin; that a bearer token is never refused for it; that behind
// a trusted proxy the origin is the one the proxy was addressed at; and
// that a refusal is recorded.
func TestCrossSiteChangesAreRefused(t *testing.T) {
	owner := activity.Principal{WorkspaceID: "w", UserID: "u", Role: activity.RoleOwner, Type: activity.ActorUser}
	// app.Test connects from 0.0.0.0 to the host example.com.
	proxy := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}
	tests := []struct {
		name    string
		method  string
		header  map[string]string
		proxies []netip.Prefix
		refused bool
	}{
		{"a read from another site", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, nil, false},
		{"HEAD from another site", "HEAD", map[string]string{"Sec-Fetch-Site": "cross-site"}, nil, false},
		{"a post from the same origin", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, nil, false},
		{"a post the user typed", "POST", map[string]string{"Sec-Fetch-Site": "none"}, nil, false},
		{"a post from another site", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, nil, true},
		{"a post from a sibling site", "POST", map[string]string{"Sec-Fetch-Site": "same-site"}, nil, true},
		{"Sec-Fetch-Site wins over Origin", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://example.com"}, nil, true},
		{"a put with our Origin", "PUT", map[string]string{"Origin": "http://example.com"}, nil, false},
		{"a patch with another Origin", "PATCH", map[string]string{"Origin": "http://evil.example"}, nil, true},
		{"a delete with a null Origin", "DELETE", map[string]string{"Origin": "null"}, nil, true},
		{"a post saying nothing", "POST", nil, nil, true},
		{"a bearer token from another site", "POST", map[string]string{"Authorization": "Bearer flx_t", "Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, nil, false},
		{"the proxy's origin from a trusted proxy", "POST", map[string]string{"Origin": "https://fluxera.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "fluxera.example"}, proxy, false},
		{"the connection's origin from a trusted proxy", "POST", map[string]string{"Origin": "http://example.com", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "fluxera.example"}, proxy, true},
		{"forwarded names from an untrusted peer", "POST", map[string]string{"Origin": "https://evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &denials{}
			log := logrus.New()
			log.SetOutput(io.Discard)
			s := NewServer(Config{TrustedProxies: tt.proxies}, Services{Authenticator: principalAuth{owner}, Denials: rec}, log)
			s.API.All("/probe", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })
			req := httptest.NewRequest(tt.method, "/api/v1/probe", nil)
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: "session"})
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, err := s.App.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			want := fiber.StatusNoContent
			if tt.refused {
				want = fiber.StatusForbidden
			}
			if res.StatusCode != want {
				t.Errorf("status %d, want %d", res.StatusCode, want)
			}
			if tt.refused && (len(rec.got) != 1 || rec.got[0].Method != tt.method || rec.got[0].Reason != errCrossSite.Message) {
				t.Errorf("recorded %+v, want the one refusal", rec.got)
			}
		})
	}
}
