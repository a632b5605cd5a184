package http

import (
	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// registerDetail mounts GET /activity/:id, read through reader. A path
// segment that is not an id
// is passed on to the routes after it, so that the route shadows no other
// /activity/… route.
func registerDetail(api fiber.Router, reader searchapi.EntryReader) {
	api.Get("/activity/:id", func(c *fiber.Ctx) error {
		if !searchapi.IsID(c.Params("id")) {
			return c.Next()
		}
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
			return err
		}
		d, err := reader.FindEntry(c.UserContext(), p, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(d)
	})
}
