package http

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("request_id").(string)
	return id
}

// requestContext records where the request came from in the user context.
func (s *Server) requestContext(c *fiber.Ctx) error {
	id := c.Get("X-Request-ID")
	if id == "" || len(id) > 128 {
		id = uuid.NewString()
	}
	c.Locals("request_id", id)
	c.Set("X-Request-ID", id)
	method := activity.MethodWeb
	if strings.HasPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ") {
		method = activity.MethodAPI
	}
	ua := c.Get(fiber.HeaderUserAgent)
	if len(ua) > 512 {
		ua = ua[:512]
	}
	c.SetUserContext(domain.WithRequest(c.UserContext(), domain.Request{
		IP:        ClientIP(c.Context().RemoteIP().String(), c.Get(fiber.HeaderXForwardedFor), s.cfg.TrustedProxies),
		UserAgent: ua,
		RequestID: id,
		Method:    method,
	}))
	return c.Next()
}

// ClientIP returns the address of the client: the connection's peer, or,
// when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not itself a trusted proxy.
func ClientIP(remote, forwardedFor string, trusted []netip.Prefix) string {
	addr, err := netip.ParseAddr(remote)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(addr) || forwardedFor == "" {
		return addr.String()
	}
	hops := strings.Split(forwardedFor, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		hop = hop.Unmap()
		addr = hop
		if !isTrusted(hop) {
			break
		}
	}
	return addr.String()
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
