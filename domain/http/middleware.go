package http

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/servertiming"
)

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("request_id").(string)
	return id
}

// requestContext records where the request came from in the user context.
// A request id the client sends is kept when it is 1 to 128 printable ASCII
// characters, and replaced by a new one otherwise; the user agent is kept
// as printable UTF-8 of at most 512 bytes. The answer to a signed-in
// caller says in its Server-Timing header how long the API took over it,
// and how much of that went to OpenSearch (internal/servertiming); a
// panic's 500 too.
func (s *Server) requestContext(c *fiber.Ctx) error {
	start := time.Now()
	id := c.Get("X-Request-ID")
	if !validRequestID(id) {
		id = uuid.NewString()
	}
	c.Locals("request_id", id)
	c.Set("X-Request-ID", id)
	method := activity.MethodWeb
	if strings.HasPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ") {
		method = activity.MethodAPI
	}
	ua := printable(c.Get(fiber.HeaderUserAgent), 512)
	timing := &servertiming.Timing{}
	c.SetUserContext(servertiming.With(domain.WithRequest(c.UserContext(), domain.Request{
		IP:        ClientIP(c.Context().RemoteIP().String(), forwardedFor(c), s.cfg.TrustedProxies),
		UserAgent: ua,
		RequestID: id,
		Method:    method,
	}), timing))
	// Only a signed-in caller is told where the time went: an anonymous
	// one (a login, say) could read in it more than the answer says.
	defer func() {
		if _, ok := activity.PrincipalFrom(c.UserContext()); ok {
			c.Set(servertiming.HeaderName, timing.Header(time.Since(start)))
		}
	}()
	return c.Next()
}

// validRequestID reports whether id is 1 to 128 printable ASCII characters.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// printable returns s with what is not UTF-8 replaced by U+FFFD and its
// control characters dropped, cut to at most max bytes between runes.
func printable(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// ClientIP returns the address of the client: the connection's peer, or,
// when the peer is a trusted proxy, the address X-Forwarded-For names for
// the hop before the trusted ones. forwardedFor holds every
// X-Forwarded-For line of the request in order, read as one list (RFC 9110
// joins repeated lines with commas); the list is walked from the right,
// past the trusted proxies, to the first address that is not one, so a
// client cannot choose its address by sending a list or a line of its own
// ahead of the proxy's. An entry may carry a port; the walk stops at an
// entry that is no address, at the last address it reached.
func ClientIP(remote string, forwardedFor []string, trustedProxies []netip.Prefix) string {
	addr, err := netip.ParseAddr(remote)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	if !trusted(addr, trustedProxies) {
		return addr.String()
	}
	var hops []string
	for _, line := range forwardedFor {
		hops = append(hops, strings.Split(line, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		hop, err := parseHop(h)
		if err != nil {
			break
		}
		addr = hop
		if !trusted(hop, trustedProxies) {
			break
		}
	}
	return addr.String()
}

// parseHop reads one entry of X-Forwarded-For: an address, or an address
// and port ("203.0.113.9:41234", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, err
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), nil
}

// trusted reports whether addr is in one of the prefixes.
func trusted(addr netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// forwardedFor returns every X-Forwarded-For line of the request, in order.
func forwardedFor(c *fiber.Ctx) []string {
	var lines []string
	c.Request().Header.VisitAll(func(key, value []byte) {
		if strings.EqualFold(string(key), fiber.HeaderXForwardedFor) {
			lines = append(lines, string(value))
		}
	})
	return lines
}

// requireAuth resolves the bearer token or, without one, the session
// cookie to a principal. A change signed in with the cookie is refused
// when a browser sent it on behalf of another site (see refuseCrossSite);
// the refusal is recorded with the principal like any other.
func (s *Server) requireAuth(c *fiber.Ctx) error {
	token, fromCookie := c.Cookies(s.cfg.SessionCookieName()), true
	if h := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
		token, fromCookie = strings.TrimPrefix(h, "Bearer "), false
	}
	if token == "" {
		return activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	p, err := s.services.Authenticator.Authenticate(c.UserContext(), token)
	if err != nil {
		return err
	}
	c.SetUserContext(activity.WithPrincipal(c.UserContext(), p))
	if fromCookie {
		if err := s.refuseCrossSite(c); err != nil {
			return err
		}
	}
	return c.Next()
}

// needs refuses a caller who may not use perm (domain.Require) before the
// handler runs. It guards the routes whose services check no permission of
// their own because every role may use them, so that an API token's scopes
// hold on every route.
func needs(perm domain.Permission) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := domain.Require(principal(c), perm); err != nil {
			return err
		}
		return c.Next()
	}
}

// principal returns the caller; requireAuth guarantees there is one.
func principal(c *fiber.Ctx) activity.Principal {
	p, _ := activity.PrincipalFrom(c.UserContext())
	return p
}

func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}
