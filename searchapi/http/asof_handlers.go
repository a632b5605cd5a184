package http

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi"
)

// asOfParams are the query parameters of the as-of routes.
var asOfParams = map[string]httpapi.QueryParam{"time": {}}

// registerAsOf mounts GET /assets/:id/as-of, /licenses/:id/as-of and
// /users/:id/as-of, which rebuild a resource's fields at a moment from the
// entries scanner reads.
func registerAsOf(api fiber.Router, scanner searchapi.Scanner) {
	for _, typ := range []string{"asset", "license", "user"} {
		api.Get("/"+typ+"s/:id/as-of", asOf(scanner, typ))
	}
}

// asOf returns the handler of one resource type's as-of view. Only those
// who see the whole workspace's log may ask: the entries of one member's
// own actions cannot rebuild a resource others changed too.
func asOf(scanner searchapi.Scanner, typ string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
			return err
		}
		if !domain.Can(p.Role, domain.ViewWorkspaceLog) {
			return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) sees only your own actions, from which a %s's past cannot be rebuilt", p.Role, typ)
		}
		if err := domain.Require(p, domain.ViewWorkspaceLog); err != nil {
			return err
		}
		id, err := pathID(c)
		if err != nil {
			return err
		}
		t, err := readAsOfTime(c)
		if err != nil {
			return err
		}
		v, err := searchapi.ResourceAsOf(c.UserContext(), scanner, p, activity.Resource{Type: typ, ID: id}, t)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// readAsOfTime reads the required query parameter time, an RFC 3339 time.
// It returns EINVALID on field time when it is missing or not a time.
func readAsOfTime(c *fiber.Ctx) (time.Time, error) {
	var raw string
	if err := httpapi.ReadQuery(c, "parameter", asOfParams, func(key, val string) error {
		raw = val
		return nil
	}); err != nil {
		return time.Time{}, err
	}
	if raw == "" {
		return time.Time{}, activity.Errorf(activity.EINVALID, "time", "time is required: the moment to rebuild, as an RFC 3339 time such as 2026-12-01T09:00:00Z")
	}
	// A + left unencoded in a query string arrives as a space.
	t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(raw, " ", "+"))
	if err != nil {
		return time.Time{}, activity.Errorf(activity.EINVALID, "time", "time must be an RFC 3339 time such as 2026-12-01T09:00:00Z, not %q", raw)
	}
	return t, nil
}
