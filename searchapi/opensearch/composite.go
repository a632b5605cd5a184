package opensearch

import (
	"context"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// compositePage is the number of buckets each page of a composite
// aggregation asks for.
const compositePage = 10000

// compositeAnswer is one page of the composite aggregation named "pages",
// with buckets of type B.
type compositeAnswer[B any] struct {
	Took         int `json:"took"`
	Aggregations struct {
		Pages struct {
			AfterKey map[string]any `json:"after_key"`
			Buckets  []B            `json:"buckets"`
		} `json:"pages"`
	} `json:"aggregations"`
}

// compositeBody returns the search of one page of a composite aggregation
// of sources, with sub-aggregations aggs, over the period within p's
// scope narrowed by extra filters, after the bucket key after (nil for
// the first page).
func compositeBody(p activity.Principal, filter *searchapi.AnalyticsFilter, sources []any, aggs map[string]any, after map[string]any, extra ...any) (map[string]any, error) {
	return compositeBodySized(compositePage, p, filter, sources, aggs, after, extra...)
}

// compositeBodySized is compositeBody with pages of size buckets.
func compositeBodySized(size int, p activity.Principal, filter *searchapi.AnalyticsFilter, sources []any, aggs map[string]any, after map[string]any, extra ...any) (map[string]any, error) {
	composite := map[string]any{"size": size, "sources": sources}
	if after != nil {
		composite["after"] = after
	}
	pages := map[string]any{"composite": composite}
	if len(aggs) > 0 {
		pages["aggs"] = aggs
	}
	body, err := analysisBody(p, filter, map[string]any{"pages": pages}, extra...)
	if err != nil {
		return nil, err
	}
	body["track_total_hits"] = false
	return body, nil
}

// pageThrough reads every page of a composite aggregation, built for each
// page by body, handing each bucket to each in key order, until the
// buckets run out or limit buckets were read. It reports whether every
// bucket was read.
func pageThrough[B any](ctx context.Context, f *Finder, body func(after map[string]any) (map[string]any, error), limit int, each func(B)) (bool, error) {
	var after map[string]any
	read := 0
	for {
		b, err := body(after)
		if err != nil {
			return false, err
		}
		var res compositeAnswer[B]
		if err := f.search(ctx, b, &res); err != nil {
			return false, err
		}
		for _, bucket := range res.Aggregations.Pages.Buckets {
			if read == limit {
				return false, nil
			}
			each(bucket)
			read++
		}
		if len(res.Aggregations.Pages.Buckets) < compositePage || res.Aggregations.Pages.AfterKey == nil {
			return true, nil
		}
		after = res.Aggregations.Pages.AfterKey
	}
}

// usersBucket is one user with the name and email of their latest action.
type usersBucket struct {
	Key struct {
		User string `json:"user"`
	} `json:"key"`
	Latest latestHit[struct{ Actor activity.Actor }] `json:"latest"`
}

// names returns the name and email of the latest action of every user
// with actions in the period within p's scope and extra filters.
func (f *Finder) names(ctx context.Context, p activity.Principal, filter *searchapi.AnalyticsFilter, extra ...any) (map[string]activity.Actor, error) {
	out := map[string]activity.Actor{}
	_, err := pageThrough(ctx, f, func(after map[string]any) (map[string]any, error) {
		return namesBody(p, filter, after, extra...)
	}, -1, func(b usersBucket) {
		out[b.Key.User] = b.Latest.source().Actor
	})
	return out, err
}

// namesBody returns the search of one page of the users with actions in
// the period within p's scope and extra filters, each with the name and
// email of their latest action.
func namesBody(p activity.Principal, filter *searchapi.AnalyticsFilter, after map[string]any, extra ...any) (map[string]any, error) {
	sources := []any{map[string]any{"user": map[string]any{"terms": map[string]any{"field": "actor.id"}}}}
	aggs := map[string]any{"latest": latestOf("actor.name", "actor.email")}
	return compositeBody(p, filter, sources, aggs, after, extra...)
}
