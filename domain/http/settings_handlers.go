package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeSettings registers the workspace settings.
func (s *Server) routeSettings(api fiber.Router) {
	api.Get("/settings", needs(domain.ViewInventory), s.getSettings)
	api.Patch("/settings", s.updateSettings)
}

func (s *Server) getSettings(c *fiber.Ctx) error {
	st, err := s.services.Settings.GetSettings(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) updateSettings(c *fiber.Ctx) error {
	var in domain.SettingsUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	st, err := s.services.Settings.UpdateSettings(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.JSON(st)
}
