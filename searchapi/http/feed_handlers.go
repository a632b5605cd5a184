package http

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi"
)

var feedParams = map[string]httpapi.QueryParam{"after": {MayBeEmpty: true}, "limit": {}}

// registerFeed mounts GET /activity/feed, the pull feed in publication
// order, before /activity/:id could take "feed" for an id.
func registerFeed(api fiber.Router, feed *searchapi.Feed) {
	api.Get("/activity/feed", func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
			return err
		}
		var after string
		var limit int
		err := httpapi.ReadQuery(c, "parameter", feedParams, func(key, val string) error {
			switch key {
			case "after":
				after = val
			case "limit":
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 || n > searchapi.FeedMaxLimit {
					return activity.Errorf(activity.EINVALID, "limit", "limit must be a whole number between 1 and %d", searchapi.FeedMaxLimit)
				}
				limit = n
			}
			return nil
		})
		if err != nil {
			return err
		}
		page, err := feed.Read(c.UserContext(), p, after, limit)
		if err != nil {
			return err
		}
		return c.JSON(page)
	})
}
