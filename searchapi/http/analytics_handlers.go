package http

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/privacy"
	"github.com/fluxera/activity/searchapi"
)

// periodParams are the query parameters of every analytics route.
var periodParams = []string{"from", "to", "range", "anonymize"}

// analyticsHandlers serve GET /analytics/…, each answering one analysis.
type analyticsHandlers struct {
	analyst searchapi.Analyst
	// alerts measures how fast alerts are answered.
	alerts alert.ResponseTimer
	// now is the clock that named ranges such as today are read from.
	now func() time.Time
}

func (h *analyticsHandlers) register(api fiber.Router) {
	api.Get("/analytics/heatmap", analysis(h, h.analyst.Heatmap))
	api.Get("/analytics/timeline", analysis(h, h.analyst.Timeline, "split"))
	api.Get("/analytics/top-users", analysis(h, h.analyst.TopUsers, "limit"))
	api.Get("/analytics/top-assets", analysis(h, h.analyst.TopAssets, "limit"))
	api.Get("/analytics/usage", analysis(h, h.analyst.Usage))
	api.Get("/analytics/logins", analysis(h, h.analyst.Logins))
	api.Get("/analytics/peak-times", analysis(h, h.analyst.PeakTimes))
	api.Get("/analytics/time-spent", analysis(h, h.analyst.TimeSpent, "idle"))
	api.Get("/analytics/engagement", analysis(h, h.analyst.Engagement))
	api.Get("/analytics/workflows", analysis(h, h.analyst.Workflows, "limit"))
	api.Get("/analytics/task-times", analysis(h, h.analyst.TaskTimes))
	api.Get("/analytics/assignments", analysis(h, h.analyst.Assignments, "limit"))
	api.Get("/analytics/alert-response", h.alertResponse)
}

// alertResponse answers how fast the alerts raised in the period were
// acknowledged and resolved; only those who manage alerts may ask.
func (h *analyticsHandlers) alertResponse(c *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(c.UserContext())
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return err
	}
	known := map[string]httpapi.QueryParam{}
	for _, k := range periodParams {
		known[k] = httpapi.QueryParam{}
	}
	filter, err := h.filter(c, p, known)
	if err != nil {
		return err
	}
	res, err := h.alerts.AlertResponseTimes(c.UserContext(), p, filter.Period.From, filter.Period.To)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"period": filter.Period, "all": res.Whole, "severities": res.Severities})
}

// analysis returns a handler that reads the period and the extra query
// parameters the route takes, runs one analysis and answers its result.
func analysis[R any](h *analyticsHandlers, run func(context.Context, activity.Principal, searchapi.AnalyticsFilter) (R, error), extra ...string) fiber.Handler {
	known := map[string]httpapi.QueryParam{}
	for _, k := range append(append([]string{}, periodParams...), extra...) {
		known[k] = httpapi.QueryParam{}
	}
	return func(c *fiber.Ctx) error {
		p, _ := activity.PrincipalFrom(c.UserContext())
		if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
			return err
		}
		filter, err := h.filter(c, p, known)
		if err != nil {
			return err
		}
		res, err := run(c.UserContext(), p, filter)
		if err != nil {
			return err
		}
		if c.Query("anonymize") == "true" {
			return pseudonymized(c, res)
		}
		return c.JSON(res)
	}
}

// filter reads the query parameters into a filter. It returns EINVALID
// naming the parameter that is unknown, repeated, empty or bad.
func (h *analyticsHandlers) filter(c *fiber.Ctx, p activity.Principal, known map[string]httpapi.QueryParam) (searchapi.AnalyticsFilter, error) {
	var q searchapi.PeriodQuery
	var f searchapi.AnalyticsFilter
	bad := httpapi.ReadQuery(c, "parameter", known, func(key, val string) error {
		switch key {
		case "from":
			q.From = val
		case "to":
			q.To = val
		case "range":
			q.Range = val
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > searchapi.MaxTopLimit {
				return activity.Errorf(activity.EINVALID, "limit", "limit must be a whole number between 1 and %d", searchapi.MaxTopLimit)
			}
			f.Limit = n
		case "idle":
			n, err := strconv.Atoi(val)
			if err != nil || time.Duration(n)*time.Minute < searchapi.MinIdle || time.Duration(n)*time.Minute > searchapi.MaxIdle {
				return activity.Errorf(activity.EINVALID, "idle", "idle must be a whole number of minutes between %d and %d", int(searchapi.MinIdle/time.Minute), int(searchapi.MaxIdle/time.Minute))
			}
			f.Idle = time.Duration(n) * time.Minute
		case "anonymize":
			if _, err := strconv.ParseBool(val); err != nil || (val != "true" && val != "false") {
				return activity.Errorf(activity.EINVALID, "anonymize", "anonymize must be true or false")
			}
		case "split":
			if val != "category" {
				return activity.Errorf(activity.EINVALID, "split", "split must be category")
			}
			f.ByCategory = true
		}
		return nil
	})
	if bad != nil {
		return searchapi.AnalyticsFilter{}, bad
	}
	period, err := searchapi.ResolvePeriod(q, h.now(), searchapi.Zone(p.TimeZone))
	if err != nil {
		return searchapi.AnalyticsFilter{}, err
	}
	f.Period = period
	return f, f.Validate()
}

// pseudonymized answers an analysis with its people replaced by
// pseudonyms stable within this answer alone.
func pseudonymized(c *fiber.Ctx, res any) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return c.JSON(privacy.NewPseudonymizer().JSON(v))
}
