// Package http serves the search API's routes on the platform's
// authenticated API router.
package http

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// knownParams are the query parameters of GET /activity; any other is an error.
var knownParams = map[string]bool{"q": true, "limit": true}

// Register mounts the search routes on api, whose requests already carry
// their principal.
func Register(api fiber.Router, finder searchapi.Finder) {
	h := &handlers{finder: finder}
	api.Get("/activity", h.listActivity)
}

type handlers struct {
	finder searchapi.Finder
}

func (h *handlers) listActivity(c *fiber.Ctx) error {
	var filter searchapi.EventFilter
	var bad error
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if bad != nil {
			return
		}
		key, val := string(k), string(v)
		switch key {
		case "q":
			filter.Query = val
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil {
				bad = activity.Errorf(activity.EINVALID, "limit", "limit must be a whole number")
			}
			filter.Limit = n
		}
		if !knownParams[key] {
			bad = activity.Errorf(activity.EINVALID, key, "unknown filter %q", key)
		}
	})
	if bad != nil {
		return bad
	}
	p, _ := activity.PrincipalFrom(c.UserContext())
	page, err := h.finder.FindEvents(c.UserContext(), p, filter)
	if err != nil {
		return err
	}
	return c.JSON(page)
}
