package http

import (
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi/retention"
)

// RegisterRestores mounts the owners' restores of archived periods on api,
// a router whose requests carry their principal:
// GET and POST /archive/restores, DELETE /archive/restores/:id.
func RegisterRestores(api fiber.Router, r *retention.Restorer) {
	// Owners only, before anything of the request is read.
	owners := func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ManageRetention); err != nil {
			return err
		}
		return c.Next()
	}
	api.Get("/archive/restores", owners, func(c *fiber.Ctx) error {
		if err := httpapi.ReadQuery(c, "query parameter", map[string]httpapi.QueryParam{}, func(_, _ string) error { return nil }); err != nil {
			return err
		}
		p, _ := activity.PrincipalFrom(c.UserContext())
		list, err := r.List(c.UserContext(), p)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"restores": list, "max_days": r.MaxRestoreDays()})
	})
	api.Post("/archive/restores", owners, func(c *fiber.Ctx) error {
		var body struct {
			From *string `json:"from"`
			To   *string `json:"to"`
			Days *int    `json:"days"`
		}
		if err := httpapi.DecodeJSON(c, &body); err != nil {
			return err
		}
		req, err := restoreRequest(body.From, body.To, body.Days)
		if err != nil {
			return err
		}
		p, _ := activity.PrincipalFrom(c.UserContext())
		res, err := r.Create(c.UserContext(), p, req)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusAccepted).JSON(res)
	})
	api.Delete("/archive/restores/:id", owners, func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		res, err := r.End(c.UserContext(), p, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
}

// restoreRequest reads a restore's period and days as a request gives
// them: times in RFC 3339 or dates (YYYY-MM-DD, UTC), a date as to
// taking in the whole day.
func restoreRequest(from, to *string, days *int) (retention.RestoreRequest, error) {
	var req retention.RestoreRequest
	for _, f := range []struct {
		name string
		text *string
		into *time.Time
	}{{"from", from, &req.From}, {"to", to, &req.To}} {
		if f.text == nil || *f.text == "" {
			return req, activity.Errorf(activity.EINVALID, f.name, "%s is required: a time such as 2026-01-01T00:00:00Z or a date such as 2026-01-01", f.name)
		}
		t, err := retention.ParsePeriodBound(*f.text, f.name == "to")
		if err != nil {
			return req, activity.Errorf(activity.EINVALID, f.name, "%s must be a time such as 2026-01-01T00:00:00Z or a date such as 2026-01-01", f.name)
		}
		*f.into = t
	}
	if days != nil {
		if *days < 1 {
			return req, activity.Errorf(activity.EINVALID, "days", "days must be at least 1")
		}
		req.Days = *days
	}
	return req, nil
}
