package opensearch

import (
	"context"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// A custom report is one search: the activity log's scope, the period and
// the definition's filters and search, with one aggregation per metric it
// names, each under the metric's own name.

// Custom computes the metrics of r over the actions p may see that r's
// filter selects. It returns EINVALID for a bad request and EUNAVAILABLE
// when OpenSearch cannot answer for now.
func (f *Finder) Custom(ctx context.Context, p activity.Principal, r searchapi.CustomRequest) (searchapi.ReportResult, error) {
	body, err := customBody(p, &r)
	if err != nil {
		return searchapi.ReportResult{}, err
	}
	var a customAnswer
	if err := f.search(ctx, body, &a); err != nil {
		return searchapi.ReportResult{}, err
	}
	return searchapi.ReportResult{Type: searchapi.ReportCustom, Period: r.Period, Total: a.Hits.Total.Value, Custom: a.report(r)}, nil
}

// customBody validates r and returns the search of its metrics over the
// actions p may see.
func customBody(p activity.Principal, r *searchapi.CustomRequest) (map[string]any, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if p.WorkspaceID == "" {
		return nil, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	filters := reportFilters(p, searchapi.ReportRequest{Period: r.Period, Users: r.Filter.Users, ActivityTypes: r.Filter.ActivityTypes})
	if r.Filter.Outcome != "" {
		filters = append(filters, term("outcome", r.Filter.Outcome))
	}
	aggs := map[string]any{}
	for _, m := range r.Metrics {
		switch m {
		case searchapi.MetricDistinctUsers:
			aggs[m] = countOf("actor.id")
		case searchapi.MetricByOutcome:
			aggs[m] = map[string]any{"terms": termsAgg("outcome", 2)}
		case searchapi.MetricByAction:
			aggs[m] = map[string]any{"terms": withShardSize(termsAgg("action", searchapi.ReportActions))}
		case searchapi.MetricByUser:
			aggs[m] = topOf("actor.id", map[string]any{"latest": latestOf("actor.name", "actor.email")})
		case searchapi.MetricByResource:
			aggs[m] = topOf("resource.id", map[string]any{"latest": latestOf("resource.type", "resource.name")})
		case searchapi.MetricByHour, searchapi.MetricByDay, searchapi.MetricByWeek:
			iv, _ := searchapi.SeriesInterval(m, r.Period)
			aggs[m] = map[string]any{"date_histogram": histogram(r.Period, iv)}
		case searchapi.MetricTimeline:
			aggs[m] = map[string]any{
				"date_histogram": periodHistogram(r.Period),
				"aggs":           map[string]any{"categories": map[string]any{"terms": termsAgg("category", 2*len(searchapi.Categories))}},
			}
		case searchapi.MetricHeatmap:
			aggs[m] = filterAgg(map[string]any{"match_all": map[string]any{}}, heatmapAggs())
		}
	}
	return map[string]any{
		"query":            searchQuery(filters, r.Search),
		"size":             0,
		"track_total_hits": true,
		"aggs":             aggs,
	}, nil
}

// seriesAnswer is the answer of a date histogram, split by category for a
// timeline.
type seriesAnswer = termsAnswer[struct {
	countBucket[int64]
	Categories termsAnswer[countBucket[string]] `json:"categories"`
}]

// customAnswer is OpenSearch's answer to a custom report's search; an
// aggregation the report did not ask for is absent.
type customAnswer struct {
	reportHead
	Aggregations struct {
		DistinctUsers value                            `json:"distinct_users"`
		ByOutcome     termsAnswer[countBucket[string]] `json:"actions_by_outcome"`
		ByAction      termsAnswer[countBucket[string]] `json:"actions_by_action"`
		ByUser        termsAnswer[struct {
			countBucket[string]
			Latest latestHit[struct{ Actor activity.Actor }] `json:"latest"`
		}] `json:"actions_by_user"`
		ByResource termsAnswer[struct {
			countBucket[string]
			Latest latestHit[struct{ Resource activity.Resource }] `json:"latest"`
		}] `json:"actions_by_resource"`
		ByHour   seriesAnswer `json:"actions_by_hour"`
		ByDay    seriesAnswer `json:"actions_by_day"`
		ByWeek   seriesAnswer `json:"actions_by_week"`
		Timeline seriesAnswer `json:"timeline"`
		Heatmap  heatmapDays  `json:"heatmap"`
	} `json:"aggregations"`
}

// report reads the sections r asked for out of the answer.
func (a *customAnswer) report(r searchapi.CustomRequest) *searchapi.CustomReport {
	agg := a.Aggregations
	out := &searchapi.CustomReport{Metrics: r.Metrics, Filter: r.Filter}
	for _, m := range r.Metrics {
		switch m {
		case searchapi.MetricDistinctUsers:
			n := agg.DistinctUsers.count()
			out.DistinctUsers = &n
		case searchapi.MetricByOutcome:
			out.ByOutcome = &searchapi.OutcomeCounts{}
			for _, b := range agg.ByOutcome.Buckets {
				switch b.Key {
				case activity.OutcomeSuccess:
					out.ByOutcome.Success = b.DocCount
				case activity.OutcomeFailure:
					out.ByOutcome.Failure = b.DocCount
				}
			}
		case searchapi.MetricByAction:
			out.ByAction = &searchapi.Ranked[searchapi.ActionCount]{Entries: []searchapi.ActionCount{}, Other: agg.ByAction.SumOtherDocCount}
			for _, b := range agg.ByAction.Buckets {
				out.ByAction.Entries = append(out.ByAction.Entries, searchapi.ActionCount{Action: b.Key, Count: b.DocCount})
			}
		case searchapi.MetricByUser:
			out.ByUser = &searchapi.Ranked[searchapi.UserSeen]{Entries: []searchapi.UserSeen{}, Other: agg.ByUser.SumOtherDocCount}
			for _, b := range agg.ByUser.Buckets {
				who := person(b.Latest.source().Actor)
				who.ID = b.Key
				out.ByUser.Entries = append(out.ByUser.Entries, searchapi.UserSeen{Person: who, Count: b.DocCount})
			}
		case searchapi.MetricByResource:
			out.ByResource = &searchapi.Ranked[searchapi.ResourceCount]{Entries: []searchapi.ResourceCount{}, Other: agg.ByResource.SumOtherDocCount}
			for _, b := range agg.ByResource.Buckets {
				res := b.Latest.source().Resource
				out.ByResource.Entries = append(out.ByResource.Entries, searchapi.ResourceCount{Type: res.Type, ID: b.Key, Name: res.Name, Count: b.DocCount})
			}
		case searchapi.MetricByHour:
			out.ByHour = series(r.Period, m, agg.ByHour)
		case searchapi.MetricByDay:
			out.ByDay = series(r.Period, m, agg.ByDay)
		case searchapi.MetricByWeek:
			out.ByWeek = series(r.Period, m, agg.ByWeek)
		case searchapi.MetricTimeline:
			out.Timeline = series(r.Period, m, agg.Timeline)
		case searchapi.MetricHeatmap:
			counts := agg.Heatmap.counts()
			out.Heatmap = &counts
		}
	}
	return out
}

// series lays the buckets of a date histogram over every bucket of the
// period, so that a period without any action, or before the first index
// exists, has its empty buckets too. A timeline's buckets have a count for
// each category.
func series(period searchapi.Period, metric string, a seriesAnswer) *searchapi.Series {
	iv, _ := searchapi.SeriesInterval(metric, period)
	split := metric == searchapi.MetricTimeline
	answered := make(map[int64]searchapi.TimelineBucket, len(a.Buckets))
	for _, b := range a.Buckets {
		tb := searchapi.TimelineBucket{Count: b.DocCount}
		if split {
			tb.Categories = map[string]int64{}
			for _, c := range b.Categories.Buckets {
				tb.Categories[c.Key] = c.DocCount
			}
		}
		answered[b.Key] = tb
	}
	out := &searchapi.Series{Interval: iv, Buckets: []searchapi.TimelineBucket{}}
	for _, start := range searchapi.BucketStarts(period.From, period.To, iv, period.Location) {
		b := answered[start.UnixMilli()]
		b.Start = start
		if split {
			cats := make(map[string]int64, len(searchapi.Categories))
			for _, c := range searchapi.Categories {
				cats[c] = b.Categories[c]
			}
			b.Categories = cats
		}
		out.Buckets = append(out.Buckets, b)
	}
	return out
}
