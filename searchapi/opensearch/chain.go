package opensearch

import (
	"context"
	"time"

	"github.com/fluxera/activity/searchapi"
)

// chainSort orders entries by their place in the chain. Indices of the
// layouts before the chain have no such field; their entries sort last
// and are filtered out.
var chainSort = []any{
	map[string]any{"chain.seq": map[string]any{"order": "asc", "unmapped_type": "long"}},
	map[string]any{"id": map[string]any{"order": "asc"}},
}

// ChainEntries returns up to q.Limit of the workspace's chained entries
// after q's place, in chain order. It returns EUNAVAILABLE when OpenSearch
// cannot answer for now.
func (f *Finder) ChainEntries(ctx context.Context, q searchapi.ChainQuery) ([]searchapi.Entry, error) {
	seq := map[string]any{"gte": q.AfterSeq}
	if q.AfterID == "" {
		seq = map[string]any{"gt": q.AfterSeq}
	}
	if q.UpToSeq > 0 {
		seq["lte"] = q.UpToSeq
	}
	body := map[string]any{
		"size":             q.Limit,
		"track_total_hits": false,
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			term("workspace_id", q.WorkspaceID),
			map[string]any{"range": map[string]any{"chain.seq": seq}},
		}}},
		"sort": chainSort,
	}
	if q.AfterID != "" {
		body["search_after"] = []any{q.AfterSeq, q.AfterID}
	}
	var res eventHits
	if err := f.search(ctx, body, &res); err != nil {
		return nil, err
	}
	out := make([]searchapi.Entry, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		if h.Source.Chain != nil {
			out = append(out, h.Source)
		}
	}
	return out, nil
}

// ChainSpan returns the lowest and highest sequence numbers of the
// workspace's chained entries that occurred in [from, to), either end open
// when zero.
func (f *Finder) ChainSpan(ctx context.Context, workspace string, from, to time.Time) (int64, int64, bool, error) {
	filters := []any{term("workspace_id", workspace), map[string]any{"exists": map[string]any{"field": "chain.seq"}}}
	period := map[string]any{}
	if !from.IsZero() {
		period["gte"] = toMillis(from)
	}
	if !to.IsZero() {
		period["lt"] = toMillis(to)
	}
	if len(period) > 0 {
		period["format"] = "epoch_millis"
		filters = append(filters, map[string]any{"range": map[string]any{"occurred_at": period}})
	}
	body := map[string]any{
		"size": 0, "track_total_hits": false,
		"query": map[string]any{"bool": map[string]any{"filter": filters}},
		"aggs": map[string]any{
			"first": map[string]any{"min": map[string]any{"field": "chain.seq"}},
			"last":  map[string]any{"max": map[string]any{"field": "chain.seq"}},
		},
	}
	var res struct {
		Aggregations struct {
			First struct {
				Value *float64 `json:"value"`
			} `json:"first"`
			Last struct {
				Value *float64 `json:"value"`
			} `json:"last"`
		} `json:"aggregations"`
	}
	if err := f.search(ctx, body, &res); err != nil {
		return 0, 0, false, err
	}
	if res.Aggregations.First.Value == nil || res.Aggregations.Last.Value == nil {
		return 0, 0, false, nil
	}
	return int64(*res.Aggregations.First.Value), int64(*res.Aggregations.Last.Value), true, nil
}
