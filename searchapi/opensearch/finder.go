// Package opensearch answers activity searches from OpenSearch through the
// read alias of the activity indices.
package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// errUnavailable answers a search OpenSearch could not serve for now.
var errUnavailable = activity.Errorf(activity.EUNAVAILABLE, "", "the activity log cannot be searched at this moment; try again shortly")

// Finder searches the activity alias of one index prefix.
type Finder struct {
	client *opensearchapi.Client
	alias  string
}

// NewFinder returns a finder over the indices of prefix.
func NewFinder(client *opensearchapi.Client, prefix string) *Finder {
	return &Finder{client: client, alias: activity.IndexAlias(prefix)}
}

// scope is the filter every query carries: the caller's workspace, and the
// caller's own actions unless they may see the whole workspace.
func scope(p activity.Principal) []any {
	filters := []any{term("workspace_id", p.WorkspaceID)}
	if !p.SeesWorkspace() {
		filters = append(filters, term("actor.id", p.UserID))
	}
	return filters
}

func term(field, value string) map[string]any {
	return map[string]any{"term": map[string]any{field: value}}
}

// FindEvents returns the newest entries matching f within p's scope.
func (f *Finder) FindEvents(ctx context.Context, p activity.Principal, filter searchapi.EventFilter) (searchapi.EventPage, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.EventPage{}, err
	}
	if p.WorkspaceID == "" {
		return searchapi.EventPage{}, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	body := map[string]any{
		"query":            searchQuery(scope(p), filter.Search),
		"size":             filter.Limit,
		"track_total_hits": true,
		"sort":             []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
		"_source":          map[string]any{"excludes": []string{"hour_of_day", "day_of_week", "indexed_at"}},
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int64 `json:"value"`
			} `json:"total"`
			Hits []struct {
				Source searchapi.Entry `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := f.search(ctx, body, &res); err != nil {
		return searchapi.EventPage{}, err
	}
	page := searchapi.EventPage{Entries: make([]searchapi.Entry, 0, len(res.Hits.Hits)), Total: res.Hits.Total.Value}
	for _, h := range res.Hits.Hits {
		page.Entries = append(page.Entries, h.Source)
	}
	return page, nil
}

// search runs one search request against the alias. A missing alias (no
// event indexed yet) is an empty result.
func (f *Finder) search(ctx context.Context, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/"+f.alias+"/_search?ignore_unavailable=true&allow_no_indices=true", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := f.client.Client.Perform(req)
	if err != nil {
		return errors.Join(errUnavailable, fmt.Errorf("search: %w", err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("read search response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		err := fmt.Errorf("search: status %d: %.500s", res.StatusCode, raw)
		if res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusTooManyRequests {
			// Shards starting or a node under pressure: worth a retry.
			return errors.Join(errUnavailable, err)
		}
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode search response: %w", err)
	}
	return nil
}
