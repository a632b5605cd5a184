// Package http serves the integrations' routes on the platform's
// authenticated API router: activity webhooks and the live activity
// stream.
package http

import (
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/integration"
	"github.com/fluxera/activity/internal/httpapi"
)

// RegisterWebhooks mounts the activity webhook routes on api, a router
// whose requests already carry their principal.
func RegisterWebhooks(api fiber.Router, s integration.WebhookService) {
	if s == nil {
		panic("integration/http: RegisterWebhooks needs a webhook service")
	}
	h := &webhookHandlers{service: s}
	api.Get("/integrations/webhooks", h.list)
	api.Post("/integrations/webhooks", h.create)
	api.Get("/integrations/webhooks/:id", h.find)
	api.Patch("/integrations/webhooks/:id", h.update)
	api.Delete("/integrations/webhooks/:id", h.delete)
	api.Post("/integrations/webhooks/:id/replay", h.replay)
}

type webhookHandlers struct {
	service integration.WebhookService
}

func principal(c *fiber.Ctx) activity.Principal {
	p, _ := activity.PrincipalFrom(c.UserContext())
	return p
}

// noQuery refuses every query parameter, naming it.
func noQuery(c *fiber.Ctx) error {
	return httpapi.ReadQuery(c, "parameter", nil, func(string, string) error { return nil })
}

func (h *webhookHandlers) list(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	ws, err := h.service.ListWebhooks(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"webhooks": ws})
}

// create keeps a webhook and answers it, with its secret, with 201.
func (h *webhookHandlers) create(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var in integration.WebhookCreate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	w, err := h.service.CreateWebhook(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/integrations/webhooks/"+w.ID)
	return c.Status(fiber.StatusCreated).JSON(w)
}

func (h *webhookHandlers) find(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	w, err := h.service.FindWebhook(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(w)
}

func (h *webhookHandlers) update(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var in integration.WebhookUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	w, err := h.service.UpdateWebhook(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(w)
}

// noteBody is the optional body of a deletion.
type noteBody struct {
	Note string `json:"note"`
}

func (h *webhookHandlers) delete(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var in noteBody
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	if err := h.service.DeleteWebhook(c.UserContext(), principal(c), c.Params("id"), in.Note); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// replay queues a replay from the time in ?from= and answers it with 202.
func (h *webhookHandlers) replay(c *fiber.Ctx) error {
	var from time.Time
	err := httpapi.ReadQuery(c, "parameter", map[string]httpapi.QueryParam{"from": {}}, func(key, val string) error {
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return activity.Errorf(activity.EINVALID, "from", "from must be an RFC 3339 time such as 2026-12-01T00:00:00Z, not %q", val)
		}
		from = t
		return nil
	})
	if err != nil {
		return err
	}
	if err := httpapi.DecodeOptionalJSON(c, &struct{}{}); err != nil {
		return err
	}
	r, err := h.service.ReplayWebhook(c.UserContext(), principal(c), c.Params("id"), from)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(r)
}
