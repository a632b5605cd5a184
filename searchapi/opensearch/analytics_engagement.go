package opensearch

import (
	"context"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// The engagement reads, for every user, each calendar day on which they
// acted, through a composite aggregation by user and day in the
// workspace's time zone, with their logins and their actions per feature
// that day; every figure is then computed from these days, exactly.

// byActiveUsers narrows an analysis to the actions that make a user
// active: those of users, failed logins aside.
var byActiveUsers = []any{
	term("actor.type", activity.ActorUser),
	map[string]any{"exists": map[string]any{"field": "actor.id"}},
	map[string]any{"bool": map[string]any{"must_not": []any{term("action", "auth.login_failed")}}},
}

func userDaySources(period searchapi.Period) []any {
	return []any{
		map[string]any{"user": map[string]any{"terms": map[string]any{"field": "actor.id"}}},
		map[string]any{"day": map[string]any{"date_histogram": map[string]any{
			"field": "occurred_at", "calendar_interval": "1d", "time_zone": period.TimeZone, "format": "yyyy-MM-dd",
		}}},
	}
}

// featureFilter matches the actions of feature.
func featureFilter(feature searchapi.Feature) map[string]any {
	var should []any
	for _, p := range feature.Prefixes {
		should = append(should, map[string]any{"prefix": map[string]any{"action": p}})
	}
	if len(feature.Actions) > 0 {
		should = append(should, map[string]any{"terms": map[string]any{"action": feature.Actions}})
	}
	return map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}
}

func userDayAggs() map[string]any {
	aggs := map[string]any{"logins": map[string]any{"filter": term("action", "auth.login")}}
	for _, f := range searchapi.Features {
		aggs["feature_"+f.Name] = map[string]any{"filter": featureFilter(f)}
	}
	return aggs
}

// EngagementRequest returns the search of the engagement's page after the
// key after (nil for the first), as Engagement sends it, so that a
// benchmark can send the very same requests straight to OpenSearch. It
// returns the errors Engagement returns for a missing principal and a bad
// filter.
func (f *Finder) EngagementRequest(p activity.Principal, filter searchapi.AnalyticsFilter, after map[string]any) (Request, error) {
	if err := filter.Validate(); err != nil {
		return Request{}, err
	}
	body, err := compositeBody(p, &filter, userDaySources(filter.Period), userDayAggs(), after, byActiveUsers...)
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// EngagementNamesRequest returns the search of the page after the key
// after (nil for the first) of the active users Engagement names, with
// their names, as Engagement sends it once it has read every day, so that
// a benchmark can send the very same requests straight to OpenSearch.
func (f *Finder) EngagementNamesRequest(p activity.Principal, filter searchapi.AnalyticsFilter, after map[string]any) (Request, error) {
	if err := filter.Validate(); err != nil {
		return Request{}, err
	}
	body, err := namesBody(p, &filter, after, byActiveUsers...)
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// Engagement counts the active users per day, week and month of the
// period, their logins and the features they used.
func (f *Finder) Engagement(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Engagement, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.Engagement{}, err
	}
	var days []searchapi.UserDay
	sources, aggs := userDaySources(filter.Period), userDayAggs()
	complete, err := pageThrough(ctx, f, func(after map[string]any) (map[string]any, error) {
		return compositeBody(p, &filter, sources, aggs, after, byActiveUsers...)
	}, searchapi.MaxUserDays, func(b map[string]any) {
		days = append(days, userDayOf(b))
	})
	if err != nil {
		return searchapi.Engagement{}, err
	}
	e := searchapi.Engage(filter.Period, days)
	e.Complete = complete
	if len(e.Users) > 0 {
		names, err := f.names(ctx, p, &filter, byActiveUsers...)
		if err != nil {
			return searchapi.Engagement{}, err
		}
		for i := range e.Users {
			a := names[e.Users[i].ID]
			e.Users[i].Name, e.Users[i].Email = a.Name, a.Email
		}
	}
	return e, nil
}

// userDayOf reads one bucket of the engagement's composite aggregation.
func userDayOf(b map[string]any) searchapi.UserDay {
	key, _ := b["key"].(map[string]any)
	d := searchapi.UserDay{Features: map[string]int64{}}
	d.User, _ = key["user"].(string)
	d.Date, _ = key["day"].(string)
	d.Actions = countIn(b)
	d.Logins = countIn(b["logins"])
	for _, f := range searchapi.Features {
		if n := countIn(b["feature_"+f.Name]); n > 0 {
			d.Features[f.Name] = n
		}
	}
	return d
}

func countIn(v any) int64 {
	m, _ := v.(map[string]any)
	n, _ := m["doc_count"].(float64)
	return int64(n)
}
