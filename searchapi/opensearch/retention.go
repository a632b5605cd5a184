package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// Months returns the UTC calendar months in which the workspace has
// entries older than before, oldest first, as the first instant of each.
func (f *Finder) Months(ctx context.Context, workspaceID string, before time.Time) ([]time.Time, error) {
	if workspaceID == "" {
		return nil, fmt.Errorf("months: no workspace")
	}
	body := map[string]any{
		"size":             0,
		"track_total_hits": false,
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			term("workspace_id", workspaceID),
			map[string]any{"range": map[string]any{"occurred_at": map[string]any{"lt": before.UTC().Format(time.RFC3339Nano)}}},
		}, "must_not": []any{restoredQuery}}},
		"aggs": map[string]any{"months": map[string]any{"date_histogram": map[string]any{
			"field": "occurred_at", "calendar_interval": "month", "time_zone": "UTC", "min_doc_count": 1,
		}}},
	}
	var res struct {
		Aggregations struct {
			Months struct {
				Buckets []struct {
					Key      int64 `json:"key"`
					DocCount int64 `json:"doc_count"`
				} `json:"buckets"`
			} `json:"months"`
		} `json:"aggregations"`
	}
	if _, err := f.post(ctx, "/"+f.alias+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &res); err != nil {
		return nil, fmt.Errorf("months of workspace %s: %w", workspaceID, err)
	}
	var out []time.Time
	for _, b := range res.Aggregations.Months.Buckets {
		out = append(out, time.UnixMilli(b.Key).UTC())
	}
	return out, nil
}

// restoredQuery matches the entries restored from the archive for a
// while, which retention leaves alone: they are archived already.
var restoredQuery = map[string]any{"exists": map[string]any{"field": "restored.id"}}

// periodQuery is the query of the workspace's entries from from to to,
// less those under holds and those restored from the archive.
func periodQuery(workspaceID string, from, to time.Time, holds []searchapi.Hold) map[string]any {
	mustNot := []any{restoredQuery} // first: DeleteMatching takes it out
	for _, h := range holds {
		mustNot = append(mustNot, holdQuery(h))
	}
	q := map[string]any{"filter": []any{
		term("workspace_id", workspaceID),
		map[string]any{"range": map[string]any{"occurred_at": map[string]any{
			"gte": from.UTC().Format(time.RFC3339Nano), "lt": to.UTC().Format(time.RFC3339Nano),
		}}},
	}}
	q["must_not"] = mustNot
	return map[string]any{"bool": q}
}

// holdQuery matches the entries a hold keeps.
func holdQuery(h searchapi.Hold) map[string]any {
	var filter []any
	if !h.From.IsZero() || !h.To.IsZero() {
		r := map[string]any{}
		if !h.From.IsZero() {
			r["gte"] = h.From.UTC().Format(time.RFC3339Nano)
		}
		if !h.To.IsZero() {
			r["lt"] = h.To.UTC().Format(time.RFC3339Nano)
		}
		filter = append(filter, map[string]any{"range": map[string]any{"occurred_at": r}})
	}
	if h.UserID != "" {
		filter = append(filter, term("actor.id", h.UserID))
	}
	if len(filter) == 0 {
		return map[string]any{"match_all": map[string]any{}}
	}
	return map[string]any{"bool": map[string]any{"filter": filter}}
}

// CountPeriod counts the workspace's entries of the period that no hold
// keeps.
func (f *Finder) CountPeriod(ctx context.Context, workspaceID string, from, to time.Time, holds []searchapi.Hold) (int64, error) {
	var count struct {
		Count int64 `json:"count"`
	}
	body := map[string]any{"query": periodQuery(workspaceID, from, to, holds)}
	if _, err := f.post(ctx, "/"+f.alias+"/_count?ignore_unavailable=true&allow_no_indices=true", body, &count); err != nil {
		return 0, fmt.Errorf("count period of workspace %s: %w", workspaceID, err)
	}
	return count.Count, nil
}

// matchQuery is the query of the workspace's entries of the period that
// match m, less those of the kept actions and, unless holds is nil, less
// those under holds.
func matchQuery(workspaceID string, from, to time.Time, m searchapi.Match, kept []string, holds []searchapi.Hold) map[string]any {
	q := periodQuery(workspaceID, from, to, holds)
	b := q["bool"].(map[string]any)
	filter := b["filter"].([]any)
	if m.UserID != "" {
		filter = append(filter, term("actor.id", m.UserID))
	}
	if m.Action != "" {
		filter = append(filter, term("action", m.Action))
	}
	if m.Category != "" {
		filter = append(filter, term("category", m.Category))
	}
	b["filter"] = filter
	if len(kept) > 0 {
		mustNot, _ := b["must_not"].([]any)
		b["must_not"] = append(mustNot, map[string]any{"terms": map[string]any{"action": kept}})
	}
	return q
}

// CountMatching counts what a deletion would keep, by kept action and for
// holds, and what it would delete.
func (f *Finder) CountMatching(ctx context.Context, workspaceID string, from, to time.Time, m searchapi.Match, kept []string, holds []searchapi.Hold) (map[string]int64, int64, int64, error) {
	all := matchQuery(workspaceID, from, to, m, nil, nil)
	all["bool"].(map[string]any)["filter"] = append(all["bool"].(map[string]any)["filter"].([]any), map[string]any{"terms": map[string]any{"action": kept}})
	var res struct {
		Aggregations struct {
			Actions struct {
				Buckets []struct {
					Key      string `json:"key"`
					DocCount int64  `json:"doc_count"`
				} `json:"buckets"`
			} `json:"actions"`
		} `json:"aggregations"`
	}
	body := map[string]any{"size": 0, "track_total_hits": false, "query": all,
		"aggs": map[string]any{"actions": map[string]any{"terms": map[string]any{"field": "action", "size": len(kept) + 1}}}}
	if _, err := f.post(ctx, "/"+f.alias+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &res); err != nil {
		return nil, 0, 0, fmt.Errorf("count kept entries: %w", err)
	}
	byAction := map[string]int64{}
	for _, b := range res.Aggregations.Actions.Buckets {
		byAction[b.Key] = b.DocCount
	}
	count := func(q map[string]any) (int64, error) {
		var c struct {
			Count int64 `json:"count"`
		}
		_, err := f.post(ctx, "/"+f.alias+"/_count?ignore_unavailable=true&allow_no_indices=true", map[string]any{"query": q}, &c)
		return c.Count, err
	}
	deletable, err := count(matchQuery(workspaceID, from, to, m, kept, holds))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("count entries to delete: %w", err)
	}
	unkept, err := count(matchQuery(workspaceID, from, to, m, kept, nil))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("count entries to delete: %w", err)
	}
	return byAction, unkept - deletable, deletable, nil
}

// DeleteMatching deletes the entries CountMatching counts as deletable,
// and the restored copies of the archived ones among them.
func (f *Finder) DeleteMatching(ctx context.Context, workspaceID string, from, to time.Time, m searchapi.Match, kept []string, holds []searchapi.Hold) (int64, error) {
	if workspaceID == "" || !from.Before(to) {
		return 0, fmt.Errorf("delete entries: no workspace or an empty period")
	}
	// The copies of the entries that a restore put back in the searchable
	// log go with them: the archive no longer holds what they copy.
	q := matchQuery(workspaceID, from, to, m, kept, holds)
	b := q["bool"].(map[string]any)
	b["must_not"] = b["must_not"].([]any)[1:] // restoredQuery, first
	return f.deleteQuery(ctx, workspaceID, q)
}

// Present returns which of ids the index holds as the workspace's entries,
// copies restored from the archive aside.
func (f *Finder) Present(ctx context.Context, workspaceID string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(ids) > 0 {
		page := ids[:min(len(ids), deletePageSize)]
		ids = ids[len(page):]
		var res struct {
			Hits struct {
				Hits []struct {
					ID string `json:"_id"`
				} `json:"hits"`
			} `json:"hits"`
		}
		body := map[string]any{"size": len(page), "_source": false, "track_total_hits": false,
			"query": map[string]any{"bool": map[string]any{"filter": []any{term("workspace_id", workspaceID), map[string]any{"ids": map[string]any{"values": page}}},
				"must_not": []any{restoredQuery}}}}
		if _, err := f.post(ctx, "/"+f.alias+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &res); err != nil {
			return nil, fmt.Errorf("find entries: %w", err)
		}
		for _, h := range res.Hits.Hits {
			out[h.ID] = true
		}
	}
	return out, nil
}

// deletePageSize is how many entries DeletePeriod removes with one bulk
// request.
const deletePageSize = 1000

// DeletePeriod deletes the workspace's entries of the period that no hold
// keeps, a page at a time: it searches the period's entries, scoped to the
// workspace and less the held ones, and deletes those it found by index
// and id with one bulk request, refreshed, until none is left. (A
// delete-by-query would do it in one request, but it needs the reindex
// module, which not every OpenSearch has.) It then counts the held
// entries it left.
func (f *Finder) DeletePeriod(ctx context.Context, workspaceID string, from, to time.Time, holds []searchapi.Hold) (deleted, held int64, err error) {
	if workspaceID == "" || !from.Before(to) {
		return 0, 0, fmt.Errorf("delete period: no workspace or an empty period")
	}
	deleted, err = f.deleteQuery(ctx, workspaceID, periodQuery(workspaceID, from, to, holds))
	if err != nil {
		return deleted, 0, err
	}
	left, err := f.CountPeriod(ctx, workspaceID, from, to, nil)
	if err != nil {
		return deleted, 0, fmt.Errorf("count held entries: %w", err)
	}
	return deleted, left, nil
}

// deleteQuery deletes the entries query matches, a page at a time.
func (f *Finder) deleteQuery(ctx context.Context, workspaceID string, query map[string]any) (deleted int64, err error) {
	for {
		var page struct {
			Hits struct {
				Hits []struct {
					Index string `json:"_index"`
					ID    string `json:"_id"`
				} `json:"hits"`
			} `json:"hits"`
		}
		body := map[string]any{"query": query, "size": deletePageSize, "_source": false, "track_total_hits": false}
		if _, err := f.post(ctx, "/"+f.alias+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &page); err != nil {
			return deleted, fmt.Errorf("find entries to delete of workspace %s: %w", workspaceID, err)
		}
		hits := page.Hits.Hits
		if len(hits) == 0 {
			break
		}
		var bulk bytes.Buffer
		for _, h := range hits {
			line, _ := json.Marshal(map[string]any{"delete": map[string]any{"_index": h.Index, "_id": h.ID}})
			bulk.Write(line)
			bulk.WriteByte('\n')
		}
		var res struct {
			Errors bool `json:"errors"`
			Items  []map[string]struct {
				Status int             `json:"status"`
				Error  json.RawMessage `json:"error"`
			} `json:"items"`
		}
		if _, err := f.post(ctx, "/_bulk?refresh=true", bulk.Bytes(), &res); err != nil {
			return deleted, fmt.Errorf("delete entries of workspace %s: %w", workspaceID, err)
		}
		for _, item := range res.Items {
			for _, r := range item {
				if r.Status == http.StatusNotFound {
					continue // gone already
				}
				if r.Status != http.StatusOK {
					return deleted, fmt.Errorf("delete entries of workspace %s: status %d: %.300s", workspaceID, r.Status, r.Error)
				}
				deleted++
			}
		}
	}
	return deleted, nil
}

// DeleteRestored deletes the workspace's entries marked with the restore
// restoreID, a page at a time.
func (f *Finder) DeleteRestored(ctx context.Context, workspaceID, restoreID string) (int64, error) {
	if workspaceID == "" || restoreID == "" {
		return 0, fmt.Errorf("delete restored entries: no workspace or no restore")
	}
	q := map[string]any{"bool": map[string]any{"filter": []any{term("workspace_id", workspaceID), term("restored.id", restoreID)}}}
	return f.deleteQuery(ctx, workspaceID, q)
}

// DropEmptyIndices deletes the monthly indices under the finder's prefix
// whose month ended by before and that hold no entry.
func (f *Finder) DropEmptyIndices(ctx context.Context, before time.Time) ([]string, error) {
	prefix := strings.TrimSuffix(f.alias, "-activity")
	_, raw, err := f.sendRaw(ctx, http.MethodGet, "/_cat/indices/"+url.PathEscape(activity.IndexPattern(prefix))+"?format=json&h=index", nil)
	if err != nil {
		return nil, fmt.Errorf("list activity indices: %w", err)
	}
	var indices []struct {
		Index string `json:"index"`
	}
	if err := json.Unmarshal(raw, &indices); err != nil {
		return nil, fmt.Errorf("decode activity indices: %w", err)
	}
	var dropped []string
	for _, ix := range indices {
		i := strings.LastIndex(ix.Index, "-")
		month, err := time.Parse("2006.01", ix.Index[i+1:])
		if err != nil || month.AddDate(0, 1, 0).After(before) {
			continue
		}
		var count struct {
			Count int64 `json:"count"`
		}
		if _, err := f.post(ctx, "/"+url.PathEscape(ix.Index)+"/_count", map[string]any{"query": map[string]any{"match_all": map[string]any{}}}, &count); err != nil {
			return dropped, fmt.Errorf("count index %s: %w", ix.Index, err)
		}
		if count.Count > 0 {
			continue
		}
		if _, _, err := f.sendRaw(ctx, http.MethodDelete, "/"+url.PathEscape(ix.Index), nil); err != nil {
			return dropped, fmt.Errorf("drop index %s: %w", ix.Index, err)
		}
		dropped = append(dropped, ix.Index)
	}
	return dropped, nil
}
