package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/domain"
)

func (s *Server) createAsset(c *fiber.Ctx) error {
	var in domain.AssetCreate
	if err := DecodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Assets.CreateAsset(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}
