package http

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/ocsf"
	"github.com/fluxera/activity/searchapi"
)

var feedParams = map[string]httpapi.QueryParam{"after": {MayBeEmpty: true}, "limit": {}, "format": {}}

// ocsfFeedPage is a page of the feed with each entry as its OCSF event.
type ocsfFeedPage struct {
	Entries []ocsf.Event `json:"entries"`
	Next    string       `json:"next"`
	More    bool         `json:"more"`
}

// registerFeed mounts GET /activity/feed, the pull feed in publication
// order, before /activity/:id could take "feed" for an id. With
// format=ocsf each entry is answered as its OCSF event, as the OCSF topic
// carries it; the page and its cursor are the same.
func registerFeed(api fiber.Router, feed *searchapi.Feed) {
	api.Get("/activity/feed", func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
			return err
		}
		var after string
		var limit int
		asOCSF := false
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
			case "format":
				switch strings.ToLower(val) {
				case "json":
				case "ocsf":
					asOCSF = true
				default:
					return activity.Errorf(activity.EINVALID, "format", "format must be json or ocsf")
				}
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
		if asOCSF {
			out := ocsfFeedPage{Entries: make([]ocsf.Event, 0, len(page.Entries)), Next: page.Next, More: page.More}
			for _, e := range page.Entries {
				out.Entries = append(out.Entries, ocsf.Map(e.Event, ""))
			}
			return c.JSON(out)
		}
		return c.JSON(page)
	})
}
