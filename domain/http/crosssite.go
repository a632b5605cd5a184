package http

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
)

// errCrossSite refuses a change signed in with the session cookie that a
// browser sent on behalf of another site.
var errCrossSite = activity.Errorf(activity.EFORBIDDEN, "",
	"this change was sent from another site; changes signed in with the session cookie are taken only from Fluxera's own pages (programs use an API token)")

// refuseCrossSite returns EFORBIDDEN for a request that may change
// something (any method but GET, HEAD, OPTIONS and TRACE) unless the
// browser says it comes from the API's own origin: Sec-Fetch-Site
// same-origin or none, or, without Sec-Fetch-Site, an Origin equal to the
// request's own scheme and host. A request that says neither is refused
// too. Call it for requests signed in with the session cookie, which a
// browser adds to requests of any site; a bearer token it never adds.
func (s *Server) refuseCrossSite(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return nil
	}
	if site := c.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return nil
		}
		return errCrossSite
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && SameOrigin(origin, s.requestOrigin(c)) {
		return nil
	}
	return errCrossSite
}

// requestOrigin returns the scheme and host the client addressed: those of
// the connection and its Host header, or, from a trusted proxy, those its
// X-Forwarded-Proto and X-Forwarded-Host name.
func (s *Server) requestOrigin(c *fiber.Ctx) string {
	scheme, host := "http", string(c.Request().Host())
	if c.Context().IsTLS() {
		scheme = "https"
	}
	peer, err := netip.ParseAddr(c.Context().RemoteIP().String())
	if err == nil && trusted(peer.Unmap(), s.cfg.TrustedProxies) {
		if p := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderXForwardedProto))); p == "http" || p == "https" {
			scheme = p
		}
		if h, _, _ := strings.Cut(c.Get(fiber.HeaderXForwardedHost), ","); strings.TrimSpace(h) != "" {
			host = strings.TrimSpace(h)
		}
	}
	return scheme + "://" + host
}

// SameOrigin reports whether origin, as a browser sends it in the Origin
// header, names the same scheme, host and port as self
// ("https://fluxera.example"). Case and default ports do not matter; an
// origin with a path, a user or another scheme than http and https never
// matches, nor does "null".
func SameOrigin(origin, self string) bool {
	a, ok := parseOrigin(origin)
	b, ok2 := parseOrigin(self)
	return ok && ok2 && a == b
}

// parseOrigin returns origin as scheme://host:port in lower case, with the
// scheme's default port filled in.
func parseOrigin(origin string) (string, bool) {
	u, err := url.Parse(origin)
	if err != nil || u.User != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme == "http" && port == "":
		port = "80"
	case scheme == "https" && port == "":
		port = "443"
	case scheme != "http" && scheme != "https":
		return "", false
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port, true
}
