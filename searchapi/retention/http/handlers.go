// Package http serves the owners' deletion of activity past retention,
// DELETE /api/v1/activity.
package http

import (
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi/retention"
)

// Register mounts DELETE /activity on api, a router whose requests carry
// their principal.
func Register(api fiber.Router, d *retention.Deleter) {
	api.Delete("/activity", func(c *fiber.Ctx) error {
		var req retention.DeleteRequest
		params := map[string]httpapi.QueryParam{"from": {}, "to": {}, "user": {}, "action": {}, "category": {}}
		err := httpapi.ReadQuery(c, "query parameter", params, func(key, val string) error {
			switch key {
			case "from", "to":
				t, err := time.Parse(time.RFC3339, val)
				if err != nil {
					return activity.Errorf(activity.EINVALID, key, "%s must be a time such as 2026-01-01T00:00:00Z", key)
				}
				if key == "from" {
					req.From = t
				} else {
					req.To = t
				}
			case "user":
				req.Match.UserID = val
			case "action":
				req.Match.Action = val
			case "category":
				req.Match.Category = val
			}
			return nil
		})
		if err != nil {
			return err
		}
		p, _ := activity.PrincipalFrom(c.UserContext())
		res, err := d.Delete(c.UserContext(), p, req)
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
}
