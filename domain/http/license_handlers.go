package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeLicenses registers the license routes on the authenticated API.
func (s *Server) routeLicenses(api fiber.Router) {
	api.Get("/licenses", needs(domain.ViewInventory), s.listLicenses)
	api.Post("/licenses", s.createLicense)
	api.Get("/licenses/:id", needs(domain.ViewInventory), s.findLicense)
	api.Patch("/licenses/:id", s.updateLicense)
	api.Delete("/licenses/:id", s.deleteLicense)
	api.Post("/licenses/:id/assign", s.assignLicense)
	api.Post("/licenses/:id/unassign", s.unassignLicense)
	api.Post("/licenses/:id/renew", s.renewLicense)
	api.Put("/licenses/:id/expiration", s.setLicenseExpiration)
	api.Get("/licenses/:id/key", s.licenseKey)
}

func (s *Server) listLicenses(c *fiber.Ctx) error {
	ls, err := s.services.Licenses.ListLicenses(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"licenses": ls})
}

func (s *Server) createLicense(c *fiber.Ctx) error {
	var in domain.LicenseCreate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := s.services.Licenses.CreateLicense(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}

func (s *Server) findLicense(c *fiber.Ctx) error {
	l, err := s.services.Licenses.FindLicense(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) updateLicense(c *fiber.Ctx) error {
	var in domain.LicenseUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := s.services.Licenses.UpdateLicense(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

// deleteLicense takes an optional JSON body with a note.
func (s *Server) deleteLicense(c *fiber.Ctx) error {
	var in domain.LicenseDelete
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	if err := s.services.Licenses.DeleteLicense(c.UserContext(), principal(c), c.Params("id"), in); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) assignLicense(c *fiber.Ctx) error {
	var in domain.SeatChange
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := s.services.Licenses.AssignSeat(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) unassignLicense(c *fiber.Ctx) error {
	var in domain.SeatChange
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := s.services.Licenses.UnassignSeat(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) renewLicense(c *fiber.Ctx) error {
	var in domain.ExpiryChange
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := s.services.Licenses.RenewLicense(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) setLicenseExpiration(c *fiber.Ctx) error {
	var in domain.ExpiryChange
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := s.services.Licenses.SetExpiration(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

// licenseKey answers the key itself; no cache may keep it.
func (s *Server) licenseKey(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	key, err := s.services.Licenses.RevealKey(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"key": key})
}
