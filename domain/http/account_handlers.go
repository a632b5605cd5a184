package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeAccount registers the caller's own account: profile, email,
// password and API tokens.
func (s *Server) routeAccount(api fiber.Router) {
	api.Get("/me", s.me)
	api.Patch("/me", s.updateProfile)
	api.Post("/me/email/confirm", s.confirmEmail)
	api.Post("/me/password", s.changePassword)
	api.Get("/tokens", s.listTokens)
	api.Post("/tokens", s.createToken)
	api.Delete("/tokens/:id", s.revokeToken)
	api.Post("/tokens/:id/rotate", s.rotateToken)
}

func (s *Server) me(c *fiber.Ctx) error {
	p := principal(c)
	return c.JSON(fiber.Map{"id": p.UserID, "workspace_id": p.WorkspaceID, "email": p.Email, "name": p.Name, "role": p.Role, "actor_type": p.Type})
}

func (s *Server) updateProfile(c *fiber.Ctx) error {
	var in domain.ProfileUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	profile, err := s.services.Users.UpdateProfile(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	if profile.EmailChange != nil {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return c.JSON(profile)
}

func (s *Server) confirmEmail(c *fiber.Ctx) error {
	var in domain.EmailConfirmation
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.services.Users.ConfirmEmail(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	var in domain.PasswordChange
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.services.Users.ChangePassword(c.UserContext(), principal(c), in); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	ts, err := s.services.Tokens.ListTokens(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tokens": ts})
}

func (s *Server) createToken(c *fiber.Ctx) error {
	var in domain.APITokenCreate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := s.services.Tokens.CreateToken(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	if err := s.services.Tokens.RevokeToken(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) rotateToken(c *fiber.Ctx) error {
	t, err := s.services.Tokens.RotateToken(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(t)
}
