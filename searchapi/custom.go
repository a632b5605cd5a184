package searchapi

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi/query"
)

// ReportCustom is the type of a report made from a custom report
// definition: the metrics it names over the actions its filters select.
const ReportCustom = "custom"

// Metrics of a custom report.
const (
	// MetricByAction counts the actions per action.
	MetricByAction = "actions_by_action"
	// MetricByUser counts the actions of the ReportTop busiest users.
	MetricByUser = "actions_by_user"
	// MetricByResource counts the actions on the ReportTop resources
	// acted on most.
	MetricByResource = "actions_by_resource"
	// MetricByOutcome counts the successes and the failures.
	MetricByOutcome = "actions_by_outcome"
	// MetricByHour, MetricByDay and MetricByWeek count the actions per
	// hour, day or week (from Monday) of the workspace's time zone, empty
	// buckets included.
	MetricByHour = "actions_by_hour"
	MetricByDay  = "actions_by_day"
	MetricByWeek = "actions_by_week"
	// MetricDistinctUsers counts the users who acted.
	MetricDistinctUsers = "distinct_users"
	// MetricTimeline is the analytics timeline: the actions per bucket of
	// the period's interval, split by category.
	MetricTimeline = "timeline"
	// MetricHeatmap is the analytics heatmap: the actions by day of week
	// and hour of day.
	MetricHeatmap = "heatmap"
)

// Metrics is the catalogue of metrics a custom report may name, in the
// order a report shows them.
var Metrics = []string{
	MetricDistinctUsers, MetricByOutcome, MetricByAction, MetricByUser, MetricByResource,
	MetricByHour, MetricByDay, MetricByWeek, MetricTimeline, MetricHeatmap,
}

// MaxMetrics bounds the metrics of one custom report: the catalogue, once.
var MaxMetrics = len(Metrics)

// CustomFilter selects the actions a custom report covers, within the
// caller's scope and the report's period: all of the kinds given must
// hold, and any one value of a kind.
type CustomFilter struct {
	// Users are user ids; none means everyone.
	Users []string `json:"users"`
	// ActivityTypes are categories, actions or resource.* as a report's
	// activity types are; none means every action.
	ActivityTypes []string `json:"activity_types"`
	// Outcome is success or failure; empty takes both.
	Outcome string `json:"outcome,omitempty"`
	// Query is a search in the activity log's syntax (package query).
	Query string `json:"q,omitempty"`
}

// Validate puts the filter's values in the form events store them, without
// repeats and sorted, and checks the search. It returns EINVALID naming the
// bad field, prefix and a dot before each name ("filters.users").
func (f *CustomFilter) Validate(prefix string) error {
	named := func(err error) error {
		var e *activity.Error
		if errors.As(err, &e) && e.Field != "" {
			return activity.Errorf(activity.EINVALID, prefix+e.Field, "%s: %s", prefix+e.Field, e.Message)
		}
		return err
	}
	users, err := values("users", f.Users, func(v string) (string, error) {
		if !IsID(v) {
			return "", activity.Errorf(activity.EINVALID, "users", "%q is not a user id", v)
		}
		return strings.ToLower(v), nil
	})
	if err != nil {
		return named(err)
	}
	types, err := values("activity_types", f.ActivityTypes, activityType)
	if err != nil {
		return named(err)
	}
	f.Users, f.ActivityTypes = users, types
	f.Outcome = strings.ToLower(strings.TrimSpace(f.Outcome))
	if f.Outcome != "" && f.Outcome != activity.OutcomeSuccess && f.Outcome != activity.OutcomeFailure {
		return activity.Errorf(activity.EINVALID, prefix+"outcome", "%soutcome must be success, failure or empty", prefix)
	}
	f.Query = strings.TrimSpace(f.Query)
	if _, err := query.Parse(f.Query); err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return activity.Errorf(activity.EINVALID, prefix+"q", "%sq: %s", prefix, qe.Message)
		}
		return err
	}
	return nil
}

// CheckMetrics checks that metrics names catalogue metrics, each once, and
// returns them in the catalogue's order. It returns EINVALID on field.
func CheckMetrics(field string, metrics []string) ([]string, error) {
	if len(metrics) == 0 {
		return nil, activity.Errorf(activity.EINVALID, field, "name at least one metric: %s", strings.Join(Metrics, ", "))
	}
	if len(metrics) > MaxMetrics {
		return nil, activity.Errorf(activity.EINVALID, field, "%s lists more than the %d metrics there are", field, MaxMetrics)
	}
	seen := map[string]bool{}
	for i, m := range metrics {
		m = strings.ToLower(strings.TrimSpace(m))
		if !slices.Contains(Metrics, m) {
			return nil, activity.Errorf(activity.EINVALID, field, "%s[%d] %q is not a metric; use %s", field, i, metrics[i], strings.Join(Metrics, ", "))
		}
		if seen[m] {
			return nil, activity.Errorf(activity.EINVALID, field, "%s[%d] %q is named twice", field, i, m)
		}
		seen[m] = true
	}
	out := make([]string, 0, len(seen))
	for _, m := range Metrics {
		if seen[m] {
			out = append(out, m)
		}
	}
	return out, nil
}

// CustomRequest is what a custom report computes: its metrics over the
// actions of the period its filter selects.
type CustomRequest struct {
	Period  Period
	Metrics []string
	Filter  CustomFilter
	// Search is Filter.Query parsed; Validate fills it in.
	Search query.Query
}

// Validate checks the request and parses its search. It returns EINVALID
// naming the bad field: from or to, metrics, or a field of the filter.
func (r *CustomRequest) Validate() error {
	if err := r.Period.Validate(); err != nil {
		return err
	}
	metrics, err := CheckMetrics("metrics", r.Metrics)
	if err != nil {
		return err
	}
	r.Metrics = metrics
	if err := r.Filter.Validate(""); err != nil {
		return err
	}
	r.Search, _ = query.Parse(r.Filter.Query)
	return nil
}

// Wants reports whether the request names metric.
func (r CustomRequest) Wants(metric string) bool { return slices.Contains(r.Metrics, metric) }

// CustomReport is what a custom report found: one section per metric it
// names, the others absent.
type CustomReport struct {
	Metrics       []string               `json:"metrics"`
	Filter        CustomFilter           `json:"filter"`
	DistinctUsers *int64                 `json:"distinct_users,omitempty"`
	ByOutcome     *OutcomeCounts         `json:"actions_by_outcome,omitempty"`
	ByAction      *Ranked[ActionCount]   `json:"actions_by_action,omitempty"`
	ByUser        *Ranked[UserSeen]      `json:"actions_by_user,omitempty"`
	ByResource    *Ranked[ResourceCount] `json:"actions_by_resource,omitempty"`
	ByHour        *Series                `json:"actions_by_hour,omitempty"`
	ByDay         *Series                `json:"actions_by_day,omitempty"`
	ByWeek        *Series                `json:"actions_by_week,omitempty"`
	Timeline      *Series                `json:"timeline,omitempty"`
	Heatmap       *[7][24]int64          `json:"heatmap,omitempty"`
}

// Ranked is a ranked list, busiest first, and how many actions fell
// outside it.
type Ranked[T any] struct {
	Entries []T   `json:"entries"`
	Other   int64 `json:"other"`
}

// OutcomeCounts are the successful and the failed actions.
type OutcomeCounts struct {
	Success int64 `json:"success"`
	Failure int64 `json:"failure"`
}

// ResourceCount is a resource and the actions on it; the name is the one
// of its latest action.
type ResourceCount struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Count int64  `json:"count"`
}

// Series counts actions per bucket of one interval in the workspace's time
// zone; a timeline's buckets hold a count per category too.
type Series struct {
	Interval Interval         `json:"interval"`
	Buckets  []TimelineBucket `json:"buckets"`
}

// MetricTitle is the product's name of a metric.
func MetricTitle(metric string) string {
	switch metric {
	case MetricByAction:
		return "Actions by action"
	case MetricByUser:
		return "Actions by user"
	case MetricByResource:
		return "Actions by resource"
	case MetricByOutcome:
		return "Actions by outcome"
	case MetricByHour:
		return "Actions by hour"
	case MetricByDay:
		return "Actions by day"
	case MetricByWeek:
		return "Actions by week"
	case MetricDistinctUsers:
		return "Distinct users"
	case MetricTimeline:
		return "Timeline"
	case MetricHeatmap:
		return "Heatmap"
	}
	return metric
}

// SeriesInterval is the bucket width of a series metric.
func SeriesInterval(metric string, period Period) (Interval, error) {
	switch metric {
	case MetricByHour:
		return IntervalHour, nil
	case MetricByDay:
		return IntervalDay, nil
	case MetricByWeek:
		return IntervalWeek, nil
	case MetricTimeline:
		return period.Interval(), nil
	}
	return "", fmt.Errorf("%s is not a series", metric)
}
