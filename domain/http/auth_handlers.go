package http

import (
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

func (s *Server) login(c *fiber.Ctx) error {
	var in domain.Credentials
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	res, err := s.services.Auth.Login(c.UserContext(), in)
	if err != nil {
		return err
	}
	c.Cookie(s.sessionCookie(res.Token, res.ExpiresAt))
	return c.JSON(fiber.Map{"user": res.User, "session_id": res.SessionID, "expires_at": res.ExpiresAt})
}

// logout ends the session of the cookie. Another site cannot end it: a
// logout it sent is refused, and recorded for the session's user.
func (s *Server) logout(c *fiber.Ctx) error {
	token := c.Cookies(s.cfg.SessionCookieName())
	if token != "" {
		if err := s.refuseCrossSite(c); err != nil {
			if p, authErr := s.services.Authenticator.Authenticate(c.UserContext(), token); authErr == nil {
				c.SetUserContext(activity.WithPrincipal(c.UserContext(), p))
			}
			return err
		}
	}
	if err := s.services.Auth.Logout(c.UserContext(), token); err != nil {
		return err
	}
	c.Cookie(s.sessionCookie("", time.Unix(0, 0)))
	return c.SendStatus(fiber.StatusNoContent)
}

// sessionCookie is the session cookie carrying token until expires: for
// the whole host and no other (no Domain, path /), out of reach of
// scripts, sent along with navigations from other sites but not with their
// posts, and Secure as configured.
func (s *Server) sessionCookie(token string, expires time.Time) *fiber.Cookie {
	return &fiber.Cookie{
		Name: s.cfg.SessionCookieName(), Value: token, Path: "/", Expires: expires,
		HTTPOnly: true, Secure: s.cfg.CookieSecure, SameSite: fiber.CookieSameSiteLaxMode,
	}
}

// SessionCookie returns the session cookie carrying token until expires,
// as the API's login sets it, for the console's sign-in page; an empty
// token and a past time end it.
func (s *Server) SessionCookie(token string, expires time.Time) *fiber.Cookie {
	return s.sessionCookie(token, expires)
}

// SessionCookieName is the name the session cookie is read under.
func (s *Server) SessionCookieName() string { return s.cfg.SessionCookieName() }
