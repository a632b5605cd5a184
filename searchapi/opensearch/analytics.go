package opensearch

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// The analyses are aggregations over the same scope as the activity log:
// the caller's workspace, and their own actions unless they may see it all.

// busiestFirst orders terms buckets by count, ties by key, so that answers
// do not change from one call to the next.
var busiestFirst = []any{map[string]any{"_count": "desc"}, map[string]any{"_key": "asc"}}

// hitTotal is the hit count every analysis asks for.
type hitTotal struct {
	Hits struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
	} `json:"hits"`
}

// termsAnswer is the answer of a terms aggregation with sub-aggregations B.
type termsAnswer[B any] struct {
	Buckets          []B   `json:"buckets"`
	SumOtherDocCount int64 `json:"sum_other_doc_count"`
}

// countBucket is a terms or histogram bucket without sub-aggregations.
type countBucket[K any] struct {
	Key      K     `json:"key"`
	DocCount int64 `json:"doc_count"`
}

// latestHit is a top_hits aggregation holding the newest document of a bucket.
type latestHit[S any] struct {
	Hits struct {
		Hits []struct {
			Source S `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

func (l latestHit[S]) source() S {
	var s S
	if len(l.Hits.Hits) > 0 {
		s = l.Hits.Hits[0].Source
	}
	return s
}

// latestOf asks for the newest document of a bucket with only fields.
func latestOf(fields ...string) map[string]any {
	return map[string]any{"top_hits": map[string]any{
		"size":    1,
		"sort":    []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
		"_source": map[string]any{"includes": fields},
	}}
}

func termsAgg(field string, size int) map[string]any {
	return map[string]any{"field": field, "size": size, "order": busiestFirst}
}

// analyse validates filter and runs the aggregations aggs over the period
// within p's scope, narrowed by any extra filters, into out.
func (f *Finder) analyse(ctx context.Context, p activity.Principal, filter *searchapi.AnalyticsFilter, aggs map[string]any, out any, extra ...any) error {
	body, err := analysisBody(p, filter, aggs, extra...)
	if err != nil {
		return err
	}
	return f.search(ctx, body, out)
}

// analysisBody validates filter and returns the search that runs aggs over
// the period within p's scope, narrowed by any extra filters.
func analysisBody(p activity.Principal, filter *searchapi.AnalyticsFilter, aggs map[string]any, extra ...any) (map[string]any, error) {
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	if p.WorkspaceID == "" {
		return nil, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	filters := append(scope(p), map[string]any{"range": map[string]any{"occurred_at": map[string]any{
		"gte": filter.Period.From.UnixMilli(), "lt": filter.Period.To.UnixMilli(), "format": "epoch_millis",
	}}})
	return map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": append(filters, extra...)}},
		"size":             0,
		"track_total_hits": true,
		"aggs":             aggs,
	}, nil
}

// periodHistogram buckets the period by its interval in the workspace's time
// zone, empty buckets included.
func periodHistogram(period searchapi.Period) map[string]any {
	return histogram(period, period.Interval())
}

// histogram buckets the period by iv in the workspace's time zone, empty
// buckets included.
func histogram(period searchapi.Period, iv searchapi.Interval) map[string]any {
	return map[string]any{
		"field":             "occurred_at",
		"calendar_interval": string(iv),
		"time_zone":         period.TimeZone,
		"min_doc_count":     0,
		"extended_bounds":   map[string]any{"min": period.From.UnixMilli(), "max": period.To.UnixMilli() - 1},
	}
}

func bucketTime(ms int64, period searchapi.Period) time.Time {
	return time.UnixMilli(ms).In(period.Location)
}

// heatmapAnswer is OpenSearch's answer to a heatmap request.
type heatmapAnswer struct {
	hitTotal
	Took         int `json:"took"`
	Aggregations struct {
		Days termsAnswer[struct {
			Key   int                           `json:"key"`
			Hours termsAnswer[countBucket[int]] `json:"hours"`
		}] `json:"days"`
	} `json:"aggregations"`
}

// DecodeHeatmapAnswer decodes OpenSearch's answer to a HeatmapRequest into
// the type Heatmap decodes it into, so that a benchmark's direct request
// does the same work, and returns its hit total and took.
func DecodeHeatmapAnswer(raw []byte) (Answer, error) {
	var res heatmapAnswer
	err := json.Unmarshal(raw, &res)
	return Answer{Total: res.Hits.Total.Value, Took: res.Took}, err
}

// Heatmap counts the actions by the day of week and hour of day stored
// with each event, in the workspace's time zone.
func (f *Finder) Heatmap(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Heatmap, error) {
	var res heatmapAnswer
	if err := f.analyse(ctx, p, &filter, heatmapAggs(), &res); err != nil {
		return searchapi.Heatmap{}, err
	}
	h := searchapi.Heatmap{Period: filter.Period, Total: res.Hits.Total.Value}
	for _, d := range res.Aggregations.Days.Buckets {
		for _, hr := range d.Hours.Buckets {
			if d.Key >= 1 && d.Key <= 7 && hr.Key >= 0 && hr.Key <= 23 {
				h.Counts[d.Key-1][hr.Key] = hr.DocCount
			}
		}
	}
	return h, nil
}

// heatmapAggs counts by day of week, then by hour of day.
func heatmapAggs() map[string]any {
	return map[string]any{"days": map[string]any{
		"terms": termsAgg("day_of_week", 7),
		"aggs":  map[string]any{"hours": map[string]any{"terms": termsAgg("hour_of_day", 24)}},
	}}
}

// HeatmapRequest returns the search Heatmap sends for filter within p's
// scope, so that a benchmark can send the very same request straight to
// OpenSearch. It returns the errors Heatmap returns for a missing
// principal and a bad filter.
func (f *Finder) HeatmapRequest(p activity.Principal, filter searchapi.AnalyticsFilter) (Request, error) {
	body, err := analysisBody(p, &filter, heatmapAggs())
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// Timeline counts the actions per interval, and per category when asked.
func (f *Finder) Timeline(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Timeline, error) {
	var res struct {
		hitTotal
		Aggregations struct {
			Over termsAnswer[struct {
				countBucket[int64]
				Categories termsAnswer[countBucket[string]] `json:"categories"`
			}] `json:"over_time"`
		} `json:"aggregations"`
	}
	if err := filter.Validate(); err != nil {
		return searchapi.Timeline{}, err
	}
	over := map[string]any{"date_histogram": periodHistogram(filter.Period)}
	if filter.ByCategory {
		over["aggs"] = map[string]any{"categories": map[string]any{"terms": termsAgg("category", 2*len(searchapi.Categories))}}
	}
	if err := f.analyse(ctx, p, &filter, map[string]any{"over_time": over}, &res); err != nil {
		return searchapi.Timeline{}, err
	}
	t := searchapi.Timeline{
		Period: filter.Period, Interval: filter.Period.Interval(), Total: res.Hits.Total.Value,
		Buckets: make([]searchapi.TimelineBucket, 0, len(res.Aggregations.Over.Buckets)),
	}
	for _, b := range res.Aggregations.Over.Buckets {
		tb := searchapi.TimelineBucket{Start: bucketTime(b.Key, filter.Period), Count: b.DocCount}
		if filter.ByCategory {
			tb.Categories = make(map[string]int64, len(searchapi.Categories))
			for _, c := range searchapi.Categories {
				tb.Categories[c] = 0
			}
			for _, c := range b.Categories.Buckets {
				tb.Categories[c.Key] = c.DocCount
			}
		}
		t.Buckets = append(t.Buckets, tb)
	}
	return t, nil
}

// TopUsers returns the users with the most actions.
func (f *Finder) TopUsers(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.TopUsers, error) {
	var res struct {
		hitTotal
		Aggregations struct {
			Users termsAnswer[struct {
				countBucket[string]
				Latest latestHit[struct{ Actor activity.Actor }] `json:"latest"`
			}] `json:"users"`
		} `json:"aggregations"`
	}
	if err := filter.Validate(); err != nil {
		return searchapi.TopUsers{}, err
	}
	aggs := map[string]any{"users": map[string]any{
		"terms": withShardSize(termsAgg("actor.id", filter.Limit)),
		"aggs":  map[string]any{"latest": latestOf("actor.name", "actor.email")},
	}}
	if err := f.analyse(ctx, p, &filter, aggs, &res); err != nil {
		return searchapi.TopUsers{}, err
	}
	top := searchapi.TopUsers{Period: filter.Period, Total: res.Hits.Total.Value, Users: []searchapi.UserCount{}}
	for _, b := range res.Aggregations.Users.Buckets {
		a := b.Latest.source().Actor
		top.Users = append(top.Users, searchapi.UserCount{ID: b.Key, Name: a.Name, Email: a.Email, Count: b.DocCount})
	}
	return top, nil
}

// withShardSize asks each shard for enough candidates that the counts of a
// top list are exact for workspaces of up to a thousand users or assets a
// month.
func withShardSize(t map[string]any) map[string]any {
	t["shard_size"] = max(1000, 2*t["size"].(int))
	return t
}

// TopAssets returns the assets with the most successful changes.
func (f *Finder) TopAssets(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.TopAssets, error) {
	var res struct {
		hitTotal
		Aggregations struct {
			Assets termsAnswer[struct {
				countBucket[string]
				Actions termsAnswer[countBucket[string]]                `json:"actions"`
				Latest  latestHit[struct{ Resource activity.Resource }] `json:"latest"`
			}] `json:"assets"`
		} `json:"aggregations"`
	}
	if err := filter.Validate(); err != nil {
		return searchapi.TopAssets{}, err
	}
	aggs := map[string]any{"assets": map[string]any{
		"terms": withShardSize(termsAgg("resource.id", filter.Limit)),
		"aggs": map[string]any{
			"actions": map[string]any{"terms": termsAgg("action", 2*len(searchapi.AssetChanges))},
			"latest":  latestOf("resource.name"),
		},
	}}
	changes := []any{
		term("resource.type", "asset"),
		term("outcome", activity.OutcomeSuccess),
		map[string]any{"terms": map[string]any{"action": searchapi.AssetChanges}},
	}
	if err := f.analyse(ctx, p, &filter, aggs, &res, changes...); err != nil {
		return searchapi.TopAssets{}, err
	}
	top := searchapi.TopAssets{Period: filter.Period, Total: res.Hits.Total.Value, Assets: []searchapi.AssetCount{}}
	for _, b := range res.Aggregations.Assets.Buckets {
		a := searchapi.AssetCount{ID: b.Key, Name: b.Latest.source().Resource.Name, Count: b.DocCount, Actions: map[string]int64{}}
		for _, ab := range b.Actions.Buckets {
			a.Actions[ab.Key] = ab.DocCount
		}
		top.Assets = append(top.Assets, a)
	}
	return top, nil
}

// maxActions bounds the distinct actions a usage answer lists; the
// platform knows about forty.
const maxActions = 500

// Usage counts the actions and their distinct users per category and per
// action.
func (f *Finder) Usage(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Usage, error) {
	type usageBucket struct {
		countBucket[string]
		Users struct {
			Value int64 `json:"value"`
		} `json:"users"`
	}
	var res struct {
		hitTotal
		Aggregations struct {
			Categories termsAnswer[usageBucket] `json:"categories"`
			Actions    termsAnswer[usageBucket] `json:"actions"`
		} `json:"aggregations"`
	}
	users := map[string]any{"users": map[string]any{"cardinality": map[string]any{"field": "actor.id", "precision_threshold": searchapi.UsagePrecision}}}
	aggs := map[string]any{
		"categories": map[string]any{"terms": termsAgg("category", 2*len(searchapi.Categories)), "aggs": users},
		"actions":    map[string]any{"terms": termsAgg("action", maxActions), "aggs": users},
	}
	if err := f.analyse(ctx, p, &filter, aggs, &res); err != nil {
		return searchapi.Usage{}, err
	}
	u := searchapi.Usage{Period: filter.Period, Total: res.Hits.Total.Value, UsersApproximate: true, UsersPrecisionThreshold: searchapi.UsagePrecision, Categories: []searchapi.CategoryUsage{}, Actions: []searchapi.ActionUsage{}}
	for _, b := range res.Aggregations.Categories.Buckets {
		u.Categories = append(u.Categories, searchapi.CategoryUsage{Category: b.Key, Count: b.DocCount, Users: b.Users.Value})
	}
	for _, b := range res.Aggregations.Actions.Buckets {
		u.Actions = append(u.Actions, searchapi.ActionUsage{Action: b.Key, Category: activity.CategoryOf(b.Key), Count: b.DocCount, Users: b.Users.Value})
	}
	return u, nil
}

// Logins counts auth.login and auth.login_failed per interval.
func (f *Finder) Logins(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Logins, error) {
	type count struct {
		DocCount int64 `json:"doc_count"`
	}
	var res struct {
		hitTotal
		Aggregations struct {
			Over termsAnswer[struct {
				Key    int64 `json:"key"`
				Logins count `json:"logins"`
				Failed count `json:"failed"`
			}] `json:"over_time"`
		} `json:"aggregations"`
	}
	if err := filter.Validate(); err != nil {
		return searchapi.Logins{}, err
	}
	aggs := map[string]any{"over_time": map[string]any{
		"date_histogram": periodHistogram(filter.Period),
		"aggs": map[string]any{
			"logins": map[string]any{"filter": term("action", "auth.login")},
			"failed": map[string]any{"filter": term("action", "auth.login_failed")},
		},
	}}
	logins := map[string]any{"terms": map[string]any{"action": []string{"auth.login", "auth.login_failed"}}}
	if err := f.analyse(ctx, p, &filter, aggs, &res, logins); err != nil {
		return searchapi.Logins{}, err
	}
	l := searchapi.Logins{Period: filter.Period, Interval: filter.Period.Interval(), Buckets: make([]searchapi.LoginBucket, 0, len(res.Aggregations.Over.Buckets))}
	for _, b := range res.Aggregations.Over.Buckets {
		l.Buckets = append(l.Buckets, searchapi.LoginBucket{Start: bucketTime(b.Key, filter.Period), Logins: b.Logins.DocCount, Failed: b.Failed.DocCount})
		l.Logins += b.Logins.DocCount
		l.Failed += b.Failed.DocCount
	}
	return l, nil
}

// PeakTimes ranks every hour of day and day of week by their actions,
// busiest first, ties in the order of the clock and the week.
func (f *Finder) PeakTimes(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.PeakTimes, error) {
	var res struct {
		hitTotal
		Aggregations struct {
			Hours termsAnswer[countBucket[int]] `json:"hours"`
			Days  termsAnswer[countBucket[int]] `json:"days"`
		} `json:"aggregations"`
	}
	aggs := map[string]any{
		"hours": map[string]any{"terms": termsAgg("hour_of_day", 24)},
		"days":  map[string]any{"terms": termsAgg("day_of_week", 7)},
	}
	if err := f.analyse(ctx, p, &filter, aggs, &res); err != nil {
		return searchapi.PeakTimes{}, err
	}
	pt := searchapi.PeakTimes{Period: filter.Period, Total: res.Hits.Total.Value, Hours: make([]searchapi.HourCount, 24), Days: make([]searchapi.DayCount, 7)}
	for h := range pt.Hours {
		pt.Hours[h].Hour = h
	}
	for d := range pt.Days {
		pt.Days[d].Day = d + 1
	}
	for _, b := range res.Aggregations.Hours.Buckets {
		if b.Key >= 0 && b.Key <= 23 {
			pt.Hours[b.Key].Count = b.DocCount
		}
	}
	for _, b := range res.Aggregations.Days.Buckets {
		if b.Key >= 1 && b.Key <= 7 {
			pt.Days[b.Key-1].Count = b.DocCount
		}
	}
	sort.SliceStable(pt.Hours, func(i, j int) bool { return pt.Hours[i].Count > pt.Hours[j].Count })
	sort.SliceStable(pt.Days, func(i, j int) bool { return pt.Days[i].Count > pt.Days[j].Count })
	return pt, nil
}

func roundTenth(x float64) float64 {
	return math.Round(x*10) / 10
}
