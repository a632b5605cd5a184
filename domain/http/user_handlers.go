package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeUsers registers members and invitations.
func (s *Server) routeUsers(api fiber.Router) {
	api.Get("/users", needs(domain.ViewInventory), s.listUsers)
	api.Get("/users/:id", needs(domain.ViewInventory), s.findUser)
	api.Put("/users/:id/role", s.changeRole)
	api.Post("/users/:id/activate", s.setActive(true))
	api.Post("/users/:id/deactivate", s.setActive(false))
	api.Delete("/users/:id", s.deleteUser)
	api.Get("/invitations", s.listInvitations)
	api.Post("/invitations", s.invite)
	api.Delete("/invitations/:id", s.revokeInvitation)
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	us, err := s.services.Users.ListUsers(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"users": us})
}

func (s *Server) findUser(c *fiber.Ctx) error {
	u, err := s.services.Users.FindUser(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// deleteUser deletes a member; the body, if any, must be an empty object.
func (s *Server) deleteUser(c *fiber.Ctx) error {
	var in struct{}
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	d, err := s.services.Users.DeleteUser(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) changeRole(c *fiber.Ctx) error {
	var in domain.RoleChange
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.services.Users.ChangeRole(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) setActive(active bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		in := domain.MemberStatus{Active: active}
		if !active {
			if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
				return err
			}
		}
		u, err := s.services.Users.SetActive(c.UserContext(), principal(c), c.Params("id"), in)
		if err != nil {
			return err
		}
		return c.JSON(u)
	}
}

func (s *Server) listInvitations(c *fiber.Ctx) error {
	is, err := s.services.Invitations.ListInvitations(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"invitations": is})
}

func (s *Server) invite(c *fiber.Ctx) error {
	var in domain.InvitationCreate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	inv, err := s.services.Invitations.Invite(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(inv)
}

func (s *Server) revokeInvitation(c *fiber.Ctx) error {
	if err := s.services.Invitations.RevokeInvitation(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) acceptInvitation(c *fiber.Ctx) error {
	var in domain.InvitationAnswer
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.services.Invitations.Accept(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

func (s *Server) declineInvitation(c *fiber.Ctx) error {
	var in domain.InvitationAnswer
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.services.Invitations.Decline(c.UserContext(), in); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
