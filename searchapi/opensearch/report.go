package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// A report is one search of aggregations over the activity log's scope,
// narrowed to the period, the users and the activity types asked for and
// to what the report's type is about; the asset report sends a second
// search for the status changes, whose before and after only the events'
// own changes pair up. Ranked lists ask every shard for enough candidates
// (withShardSize), entry lists are the newest documents of a filter.

// securityActions are the actions the security report covers.
var securityActions = []string{"auth.login", "auth.login_failed", "user.role_changed", "user.activated", "user.deactivated"}

// licenseChanges are the license actions the license changes count.
var licenseChanges = []string{"license.created", "license.updated", "license.deleted", "license.expiration_updated"}

// Report computes the sections of r.Type over the actions p may see. It
// returns EINVALID for a bad request and EUNAVAILABLE when OpenSearch
// cannot answer for now.
func (f *Finder) Report(ctx context.Context, p activity.Principal, r searchapi.ReportRequest) (searchapi.ReportResult, error) {
	body, err := reportBody(p, r)
	if err != nil {
		return searchapi.ReportResult{}, err
	}
	res := searchapi.ReportResult{Type: r.Type, Period: r.Period}
	switch r.Type {
	case searchapi.ReportUser:
		var a userAnswer
		if err := f.search(ctx, body, &a); err != nil {
			return res, err
		}
		res.Total, res.User = a.Hits.Total.Value, a.report(r.Period)
	case searchapi.ReportAsset:
		var a assetAnswer
		if err := f.search(ctx, body, &a); err != nil {
			return res, err
		}
		var s statusAnswer
		if err := f.search(ctx, statusChangesBody(p, r), &s); err != nil {
			return res, err
		}
		res.Total, res.Asset = a.Hits.Total.Value, a.report()
		res.Asset.StatusChanges = s.changes()
	case searchapi.ReportLicense:
		var a licenseAnswer
		if err := f.search(ctx, body, &a); err != nil {
			return res, err
		}
		res.Total, res.License = a.Hits.Total.Value, a.report()
	case searchapi.ReportSecurity:
		var a securityAnswer
		if err := f.search(ctx, body, &a); err != nil {
			return res, err
		}
		res.Total, res.Security = a.Hits.Total.Value, a.report(r.Period)
	}
	return res, nil
}

// ReportRequest returns the first search Report sends for r within p's
// scope — the only one but for the asset report — so that a benchmark can
// send the very same request straight to OpenSearch. It returns the errors
// Report returns for a missing principal and a bad request.
func (f *Finder) ReportRequest(p activity.Principal, r searchapi.ReportRequest) (Request, error) {
	body, err := reportBody(p, r)
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// DecodeReportAnswer decodes OpenSearch's answer to a ReportRequest for a
// report of type typ into the type Report decodes it into, so that a
// benchmark's direct request does the same work, and returns its hit total
// and took.
func DecodeReportAnswer(typ string, raw []byte) (Answer, error) {
	var res interface{ answer() Answer }
	switch typ {
	case searchapi.ReportUser:
		res = &userAnswer{}
	case searchapi.ReportAsset:
		res = &assetAnswer{}
	case searchapi.ReportLicense:
		res = &licenseAnswer{}
	case searchapi.ReportSecurity:
		res = &securityAnswer{}
	default:
		return Answer{}, fmt.Errorf("decode report answer: unknown report type %q", typ)
	}
	err := json.Unmarshal(raw, res)
	return res.answer(), err
}

// reportHead is what every report's answer has besides its aggregations.
type reportHead struct {
	hitTotal
	Took int `json:"took"`
}

func (h reportHead) answer() Answer { return Answer{Total: h.Hits.Total.Value, Took: h.Took} }

// reportBody validates r and returns the search of the report's
// aggregations over the actions p may see.
func reportBody(p activity.Principal, r searchapi.ReportRequest) (map[string]any, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if p.WorkspaceID == "" {
		return nil, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	var aggs map[string]any
	var about []any
	switch r.Type {
	case searchapi.ReportUser:
		aggs = userAggs(r.Period)
	case searchapi.ReportAsset:
		aggs, about = assetAggs(), []any{term("category", activity.CategoryAsset)}
	case searchapi.ReportLicense:
		aggs, about = licenseAggs(), []any{term("category", activity.CategoryLicense)}
	case searchapi.ReportSecurity:
		aggs, about = securityAggs(r.Period), []any{terms("action", securityActions)}
	}
	return map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": append(reportFilters(p, r), about...)}},
		"size":             0,
		"track_total_hits": true,
		"aggs":             aggs,
	}, nil
}

// reportFilters are the scope, the period, the users and the activity
// types of a validated request.
func reportFilters(p activity.Principal, r searchapi.ReportRequest) []any {
	filters := append(scope(p), map[string]any{"range": map[string]any{"occurred_at": map[string]any{
		"gte": r.Period.From.UnixMilli(), "lt": r.Period.To.UnixMilli(), "format": "epoch_millis",
	}}})
	if len(r.Users) > 0 {
		filters = append(filters, terms("actor.id", r.Users))
	}
	if len(r.ActivityTypes) > 0 {
		var alternatives []any
		if c := r.Categories(); len(c) > 0 {
			alternatives = append(alternatives, terms("category", c))
		}
		if a := r.Actions(); len(a) > 0 {
			alternatives = append(alternatives, terms("action", a))
		}
		filters = append(filters, anyOf(alternatives...))
	}
	return filters
}

// succeeded narrows to the successful actions among actions.
func succeeded(actions ...string) map[string]any {
	return allOf(term("outcome", activity.OutcomeSuccess), terms("action", actions))
}

func filterAgg(query any, aggs map[string]any) map[string]any {
	a := map[string]any{"filter": query}
	if aggs != nil {
		a["aggs"] = aggs
	}
	return a
}

func countOf(field string) map[string]any {
	return map[string]any{"cardinality": map[string]any{"field": field, "precision_threshold": 3000}}
}

func latestTime() map[string]any {
	return map[string]any{"max": map[string]any{"field": "occurred_at"}}
}

// newest asks for the newest ReportEntries documents of a bucket with only
// fields.
func newest(fields ...string) map[string]any {
	a := latestOf(fields...)
	a["top_hits"].(map[string]any)["size"] = searchapi.ReportEntries
	return a
}

// activeDays counts the days of the workspace's time zone with an action.
func activeDays(period searchapi.Period) map[string]any {
	return map[string]any{"date_histogram": map[string]any{
		"field": "occurred_at", "calendar_interval": "day", "time_zone": period.TimeZone, "min_doc_count": 1,
	}}
}

// topOf ranks the ReportTop values of field by their actions, with aggs.
func topOf(field string, aggs map[string]any) map[string]any {
	return map[string]any{"terms": withShardSize(termsAgg(field, searchapi.ReportTop)), "aggs": aggs}
}

// value is the answer of a metric aggregation.
type value struct {
	Value float64 `json:"value"`
}

func (v value) count() int64 { return int64(v.Value) }

// moment is a max of occurred_at as a time; none is the zero time.
func (v value) moment() time.Time {
	if v.Value == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(v.Value)).UTC()
}

// docCount is the answer of a filter aggregation without sub-aggregations.
type docCount struct {
	DocCount int64 `json:"doc_count"`
}

// days is the answer of activeDays.
type days struct {
	Buckets []json.RawMessage `json:"buckets"`
}

func (l latestHit[S]) sources() []S {
	out := make([]S, len(l.Hits.Hits))
	for i, h := range l.Hits.Hits {
		out[i] = h.Source
	}
	return out
}

func person(a activity.Actor) searchapi.Person {
	return searchapi.Person{ID: a.ID, Name: a.Name, Email: a.Email}
}

func thing(r activity.Resource) searchapi.Thing {
	return searchapi.Thing{ID: r.ID, Name: r.Name}
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// ratio is a/b rounded to two decimals, 0 when b is.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round2(a / b)
}

// periodDays is the period's length in calendar days of its time zone.
func periodDays(p searchapi.Period) int {
	return searchapi.Buckets(p.From, p.To, searchapi.IntervalDay, p.Location)
}
