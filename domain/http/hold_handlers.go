package http

import (
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeHolds registers the workspace's legal holds, which its owners
// place, list and release.
func (s *Server) routeHolds(api fiber.Router) {
	api.Get("/audit/holds", needs(domain.ManageRetention), s.listHolds)
	api.Post("/audit/holds", needs(domain.ManageRetention), s.createHold)
	api.Post("/audit/holds/:id/release", needs(domain.ManageRetention), s.releaseHold)
}

func (s *Server) listHolds(c *fiber.Ctx) error {
	if err := onlyQuery(c); err != nil {
		return err
	}
	holds, err := s.services.Holds.ListHolds(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	if holds == nil {
		holds = []domain.LegalHold{}
	}
	return c.JSON(fiber.Map{"holds": holds})
}

// holdRequest is a hold as a request gives it, its times as text so that
// a bad one is refused naming its field.
type holdRequest struct {
	From   *string `json:"from"`
	To     *string `json:"to"`
	UserID string  `json:"user_id"`
	Reason string  `json:"reason"`
}

func (s *Server) createHold(c *fiber.Ctx) error {
	var req holdRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := domain.NewHold{UserID: req.UserID, Reason: req.Reason}
	for _, f := range []struct {
		name string
		text *string
		to   **time.Time
	}{{"from", req.From, &in.From}, {"to", req.To, &in.To}} {
		if f.text == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, *f.text)
		if err != nil {
			return activity.Errorf(activity.EINVALID, f.name, "%s must be a time such as 2026-01-01T00:00:00Z", f.name)
		}
		*f.to = &t
	}
	h, err := s.services.Holds.CreateHold(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h)
}

func (s *Server) releaseHold(c *fiber.Ctx) error {
	h, err := s.services.Holds.ReleaseHold(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(h)
}
