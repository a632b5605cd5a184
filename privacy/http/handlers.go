// Package http serves the privacy routes — anonymizing a member on
// request — on the platform's authenticated API router.
package http

import (
	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/privacy"
)

// Register mounts POST /users/:id/anonymize on api, a router whose
// requests already carry their principal.
func Register(api fiber.Router, svc *privacy.Service) {
	h := &handlers{svc: svc}
	api.Post("/users/:id/anonymize", h.anonymize)
}

type handlers struct {
	svc *privacy.Service
}

// anonymize replaces the member's personal data in the log and the
// reports with their pseudonym and answers what changed. The body, if
// any, must be an empty object, and it takes no query parameters.
func (h *handlers) anonymize(c *fiber.Ctx) error {
	if err := httpapi.ReadQuery(c, "parameter", nil, func(string, string) error { return nil }); err != nil {
		return err
	}
	var in struct{}
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(c.UserContext())
	res, err := h.svc.Anonymize(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(res)
}
