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
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: res.Token, Path: "/", Expires: res.ExpiresAt,
		HTTPOnly: true, Secure: s.cfg.CookieSecure, SameSite: fiber.CookieSameSiteLaxMode,
	})
	return c.JSON(fiber.Map{"user": res.User, "session_id": res.SessionID, "expires_at": res.ExpiresAt})
}

// logout ends the session of the cookie. Another site cannot end it: a
// logout it sent is refused, and recorded for the session's user.
func (s *Server) logout(c *fiber.Ctx) error {
	token := c.Cookies(SessionCookie)
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
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), HTTPOnly: true, Secure: s.cfg.CookieSecure, SameSite: fiber.CookieSameSiteLaxMode})
	return c.SendStatus(fiber.StatusNoContent)
}
