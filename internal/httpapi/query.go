package httpapi

import (
	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
)

// QueryParam says how one query parameter of a route may appear.
type QueryParam struct {
	Repeatable bool // may be given more than once
	MayBeEmpty bool // may be given without a value
}

// ReadQuery hands each query parameter of the request to read, in order,
// after refusing one that params does not name, one given again that is
// not repeatable and one without a value that needs one. noun is what the
// parameters are called in the refusal of an unknown one ("filter",
// "parameter"). It returns the first refusal, EINVALID naming the
// parameter, or the first error of read.
func ReadQuery(c *fiber.Ctx, noun string, params map[string]QueryParam, read func(key, val string) error) error {
	var bad error
	seen := map[string]bool{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if bad != nil {
			return
		}
		key, val := string(k), string(v)
		param, known := params[key]
		switch {
		case !known:
			bad = activity.Errorf(activity.EINVALID, key, "unknown %s %q", noun, key)
		case seen[key] && !param.Repeatable:
			bad = activity.Errorf(activity.EINVALID, key, "%s is given more than once", key)
		case val == "" && !param.MayBeEmpty:
			bad = activity.Errorf(activity.EINVALID, key, "%s has no value", key)
		default:
			seen[key] = true
			bad = read(key, val)
		}
	})
	return bad
}
