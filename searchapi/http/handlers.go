// Package http serves the search API's routes on the platform's
// authenticated API router.
package http

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi"
)

// listParams are the query parameters of every activity listing; any other
// is an error. The repeatable ones may also list values separated by
// commas; q may be empty.
var listParams = map[string]httpapi.QueryParam{
	"q": {MayBeEmpty: true}, "limit": {}, "cursor": {}, "facets": {},
	"user": {Repeatable: true}, "category": {Repeatable: true}, "action": {Repeatable: true},
	"resource": {Repeatable: true}, "ip": {Repeatable: true},
	"range": {}, "from": {}, "to": {}, "outcome": {},
}

// Services are what the search routes read through. Every one but Log is
// required; the OpenSearch finder is the first four.
type Services struct {
	Finder  searchapi.Finder
	Analyst searchapi.Analyst
	Entries searchapi.EntryReader
	// Scanner reads the entries of exports.
	Scanner searchapi.Scanner
	// AlertTimes measures how fast alerts are answered, for the
	// analytics; the domain's alert service is one.
	AlertTimes alert.ResponseTimer
	// Exports records every export and names the workspace in its files;
	// the domain's settings service is one.
	Exports ExportRecorder
	// Log is where an export that fails once its download has begun is
	// logged; without it, the standard logger.
	Log logrus.FieldLogger
	// Feed serves GET /activity/feed; without it, the route is not
	// mounted.
	Feed *searchapi.Feed
	// Checkpoints finds the signed checkpoint that covers an export;
	// without it, exports state none.
	Checkpoints CheckpointFinder
	// LogViews records the searches of the activity log (GET /activity),
	// debounced per session and filter; without it, none is recorded.
	LogViews domain.LogViewRecorder
}

// Register mounts the search routes on api, a router whose requests already
// carry their principal. It panics when a service is missing, so that no
// route is left out without a word.
func Register(api fiber.Router, s Services) {
	if s.Finder == nil || s.Analyst == nil || s.Entries == nil || s.Scanner == nil || s.Exports == nil || s.AlertTimes == nil {
		panic("searchapi/http: Register needs a finder, an analyst, an entry reader, a scanner, an export recorder and an alert response timer")
	}
	if s.Log == nil {
		s.Log = logrus.StandardLogger().WithField("component", "export")
	}
	h := &handlers{finder: s.Finder, views: s.LogViews}
	// The exports come before /activity/:id, which would take "export"
	// for an id.
	(&exportHandlers{scanner: s.Scanner, recorder: s.Exports, checkpoints: s.Checkpoints, log: s.Log, now: time.Now}).register(api)
	if s.Feed != nil {
		registerFeed(api, s.Feed)
	}
	api.Get("/activity", h.list(nil, "GET /api/v1/activity"))
	api.Get("/me/activity", h.listOf(func(c *fiber.Ctx, p activity.Principal, f *searchapi.EventFilter) error {
		f.Actor = p.UserID
		return nil
	}))
	api.Get("/users/:id/activity", h.listOf(func(c *fiber.Ctx, p activity.Principal, f *searchapi.EventFilter) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		if err := mayReadUser(p, id); err != nil {
			return err
		}
		f.Actor = id
		return nil
	}))
	api.Get("/assets/:id/history", h.listOf(history(activity.CategoryAsset)))
	api.Get("/licenses/:id/history", h.listOf(history(activity.CategoryLicense)))
	registerAsOf(api, s.Scanner)
	(&analyticsHandlers{analyst: s.Analyst, alerts: s.AlertTimes, now: time.Now}).register(api)
	registerDetail(api, s.Entries)
}

type handlers struct {
	finder searchapi.Finder
	views  domain.LogViewRecorder
}

// narrowing confines a listing to what its route is about.
type narrowing func(c *fiber.Ctx, p activity.Principal, f *searchapi.EventFilter) error

// history confines a listing to the events of one resource of type typ,
// as their resource or a related one.
func history(typ string) narrowing {
	return func(c *fiber.Ctx, p activity.Principal, f *searchapi.EventFilter) error {
		id, err := pathID(c)
		f.Subject = &activity.Resource{Type: typ, ID: id}
		return err
	}
}

// mayReadUser returns EFORBIDDEN when p asks for the activity of another
// user than themselves without the right to see the whole workspace's:
// they are told so rather than shown an empty page.
func mayReadUser(p activity.Principal, id string) error {
	if id == p.UserID || domain.Can(p.Role, domain.ViewWorkspaceLog) {
		return nil
	}
	return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) may see only your own activity, not another user's", p.Role)
}

// pathID returns the route's id in the form the platform stores it. It
// returns EINVALID on field id when it is not an id.
func pathID(c *fiber.Ctx) (string, error) {
	id := c.Params("id")
	if !searchapi.IsID(id) {
		return "", activity.Errorf(activity.EINVALID, "id", "%q is not an id", id)
	}
	return strings.ToLower(id), nil
}

// listOf returns the handler of one narrowed activity listing, whose
// reading is not recorded.
func (h *handlers) listOf(narrow narrowing) fiber.Handler { return h.list(narrow, "") }

// list returns the handler of one activity listing: the query parameters
// read into a filter, narrowed by the route, and one page of entries. When
// where names it, the reading is recorded as a view of the log, once per
// session and filter within the debounce period.
func (h *handlers) list(narrow narrowing, where string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
			return err
		}
		given := map[string]string{}
		filter, err := readQueryFilter(c, listParams, nil, given)
		if err != nil {
			return err
		}
		if narrow != nil {
			if err := narrow(c, p, &filter); err != nil {
				return err
			}
		}
		page, err := h.finder.FindEvents(c.UserContext(), p, filter)
		if err != nil {
			return err
		}
		if where != "" && h.views != nil {
			if err := recordView(c, h.views, p, where, filter, given); err != nil {
				return err
			}
		}
		return sendPage(c, page)
	}
}

// readQueryFilter reads the query parameters params allows into a filter
// and hands those that are no filter to other. It returns EINVALID naming
// the parameter that is unknown, repeated, empty or not of its type;
// Validate checks the values themselves. When
// given is not nil, every parameter is kept in it, the values of a
// repeated one joined by commas.
func readQueryFilter(c *fiber.Ctx, params map[string]httpapi.QueryParam, other func(key, val string) error, given map[string]string) (searchapi.EventFilter, error) {
	var f searchapi.EventFilter
	err := httpapi.ReadQuery(c, "filter", params, func(key, val string) error {
		if given != nil {
			if prev, ok := given[key]; ok {
				given[key] = prev + "," + val
			} else {
				given[key] = val
			}
		}
		list := func() []string { return strings.Split(val, ",") }
		switch key {
		case "q":
			f.Query = val
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil {
				return activity.Errorf(activity.EINVALID, "limit", "limit must be a whole number between 1 and %d", searchapi.MaxLimit)
			}
			if n == 0 {
				n = -1 // zero given is out of range, not the default
			}
			f.Limit = n
		case "cursor":
			f.Cursor = val
		case "facets":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return activity.Errorf(activity.EINVALID, "facets", "facets must be true or false")
			}
			f.Facets = b
		case "user":
			f.Users = append(f.Users, list()...)
		case "category":
			f.Categories = append(f.Categories, list()...)
		case "action":
			f.Actions = append(f.Actions, list()...)
		case "resource":
			f.Resources = append(f.Resources, list()...)
		case "ip":
			f.IPs = append(f.IPs, list()...)
		case "range":
			f.Range = val
		case "from":
			f.From = val
		case "to":
			f.To = val
		case "outcome":
			f.Outcome = val
		default:
			if other != nil {
				return other(key, val)
			}
		}
		return nil
	})
	return f, err
}

// recordView records p's reading of the log through where with filter,
// given as the parameters given: the filters, without the page size, the
// cursor or the facets, so that the pages of one search are one view.
func recordView(c *fiber.Ctx, views domain.LogViewRecorder, p activity.Principal, where string, filter searchapi.EventFilter, given map[string]string) error {
	// FindEvents has read the filter already; its fingerprint needs it
	// read (the search parsed, the period resolved).
	if err := filter.Validate(time.Now(), searchapi.Zone(p.TimeZone)); err != nil {
		return err
	}
	params := map[string]string{}
	for k, v := range given {
		switch k {
		case "limit", "cursor", "facets":
		default:
			params[k] = v
		}
	}
	_, err := views.RecordLogView(c.UserContext(), p, domain.LogView{Where: where, Parameters: params, Fingerprint: filter.Fingerprint()})
	return err
}
