package opensearch

import (
	"context"
	"sync"

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

// userDaySizes is the sizing histogram of the engagement: calendar days
// in the workspace's time zone, the days of userDaySources.
func userDaySizes(period searchapi.Period) map[string]any {
	return map[string]any{"field": "occurred_at", "calendar_interval": "1d", "time_zone": period.TimeZone}
}

// engagementPlan is the plan of the engagement's searches.
func (f *Finder) engagementPlan(p activity.Principal, filter *searchapi.AnalyticsFilter) (partitioned, error) {
	sizing, err := f.sizingRequest(p, filter, userDaySizes(filter.Period), true, "", byActiveUsers)
	if err != nil {
		return partitioned{}, err
	}
	sources, aggs := userDaySources(filter.Period), userDayAggs()
	return partitioned{
		sizing:  sizing,
		size:    f.partition,
		perUser: true,
		page: func(s span, after map[string]any) (Request, error) {
			body, err := compositeBodySized(f.partition, p, filter, sources, aggs, after, s.within(byActiveUsers)...)
			if err != nil {
				return Request{}, err
			}
			return f.requestFiltered(body, "aggregations.pages.after_key", "aggregations.pages.buckets.key",
				"aggregations.pages.buckets.doc_count", "aggregations.pages.buckets.*.doc_count")
		},
		lists: []pagedSearch{{compositePage, func(after map[string]any) (Request, error) {
			return f.namesRequest(p, filter, after, byActiveUsers)
		}}},
	}, nil
}

// EngagementSearches sends through send every search Engagement sends for
// filter within p's scope — the same requests, in the same order, as many
// at once — reading of each answer only what the next search needs (the
// partitions, the key a page ends on), so that a benchmark can send the
// very same requests straight to OpenSearch. It returns the number of
// users the names searches named, and the errors Engagement returns for a
// missing principal, a bad filter or a failed search.
func (f *Finder) EngagementSearches(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter, send func(context.Context, Request) ([]byte, error)) (int64, error) {
	if err := filter.Validate(); err != nil {
		return 0, err
	}
	plan, err := f.engagementPlan(p, &filter)
	if err != nil {
		return 0, err
	}
	var users int64
	_, err = plan.read(ctx, send, counting(&users, plan))
	return users, err
}

// Engagement counts the active users per day, week and month of the
// period, their logins and the features they used. It reads the period in
// partitions of whole days (see partitioned) and stops after
// searchapi.MaxUserDays active days (the partitions before the one where
// it was reached, and part of that one), marking the answer incomplete.
func (f *Finder) Engagement(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Engagement, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.Engagement{}, err
	}
	plan, err := f.engagementPlan(p, &filter)
	if err != nil {
		return searchapi.Engagement{}, err
	}
	var days []searchapi.UserDay
	names := userNames{}
	var mu sync.Mutex
	parts := map[int][]searchapi.UserDay{}
	complete, err := plan.read(ctx, f.sendPooled, partitionReader{
		release: releaseAnswer,
		lists:   []func([]byte) (map[string]any, error){names.read()},
		page: func(i int, _ map[string]any, raw []byte) (map[string]any, error) {
			var page []userDayBucket
			after, err := pageOf(raw, plan.size, &page)
			mu.Lock()
			for _, b := range page {
				parts[i] = append(parts[i], b.userDay())
			}
			mu.Unlock()
			return after, err
		},
		done: func(i int, _ span) (bool, error) {
			mu.Lock()
			part := parts[i]
			delete(parts, i)
			mu.Unlock()
			for _, d := range part {
				if len(days) == searchapi.MaxUserDays {
					return false, nil
				}
				days = append(days, d)
			}
			return true, nil
		},
	})
	if err != nil {
		return searchapi.Engagement{}, err
	}
	e := searchapi.Engage(filter.Period, days)
	e.Complete = complete
	for i := range e.Users {
		a := names[e.Users[i].ID].actor
		e.Users[i].Name, e.Users[i].Email = a.Name, a.Email
	}
	return e, nil
}

// userDayBucket is one bucket of the engagement's composite aggregation,
// with a field for each of searchapi.Features (TestUserDayReadsEveryFeature
// holds them together).
type userDayBucket struct {
	Key struct {
		User string `json:"user"`
		Day  string `json:"day"`
	} `json:"key"`
	DocCount       int64   `json:"doc_count"`
	Logins         counted `json:"logins"`
	Asset          counted `json:"feature_asset"`
	License        counted `json:"feature_license"`
	UserManagement counted `json:"feature_user_management"`
	Exports        counted `json:"feature_exports"`
	Reports        counted `json:"feature_reports"`
}

type counted struct {
	DocCount int64 `json:"doc_count"`
}

// userDay reads one bucket of the engagement's composite aggregation.
func (b userDayBucket) userDay() searchapi.UserDay {
	d := searchapi.UserDay{User: b.Key.User, Date: b.Key.Day, Actions: b.DocCount, Logins: b.Logins.DocCount, Features: map[string]int64{}}
	for name, n := range map[string]int64{
		searchapi.FeatureAsset: b.Asset.DocCount, searchapi.FeatureLicense: b.License.DocCount,
		searchapi.FeatureUserManagement: b.UserManagement.DocCount, searchapi.FeatureExports: b.Exports.DocCount,
		searchapi.FeatureReports: b.Reports.DocCount,
	} {
		if n > 0 {
			d.Features[name] = n
		}
	}
	return d
}
