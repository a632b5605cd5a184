package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
)

// MappingVersion is stored in the template's _meta; it is the version in
// the names of the indices the mapping applies to (see activity.IndexName).
const MappingVersion = activity.IndexVersion

// nameField is text for search with a keyword sub-field for exact filters,
// facets and sorting.
var nameField = map[string]any{
	"type":   "text",
	"fields": map[string]any{"keyword": map[string]any{"type": "keyword", "ignore_above": 512}},
}

var keyword = map[string]any{"type": "keyword", "ignore_above": 512}

func object(props map[string]any) map[string]any {
	return map[string]any{"properties": props}
}

// restoredField maps the mark of an entry restored from the archive: the
// restore's id, which its expiry deletes by, and when it expires.
var restoredField = object(map[string]any{
	"id":         keyword,
	"expires_at": map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"},
})

// mappings are chosen field by field: identifiers and enumerations are
// keywords, names are text with a keyword, addresses are ip, times are UTC
// dates, free-form details are stored but searched as one flat object.
func mappings() map[string]any {
	resource := object(map[string]any{"type": keyword, "id": keyword, "name": nameField, "role": keyword})
	return map[string]any{
		"dynamic": "strict",
		"_meta":   map[string]any{"mapping_version": MappingVersion},
		"properties": map[string]any{
			"schema":       map[string]any{"type": "short"},
			"id":           keyword,
			"workspace_id": keyword,
			"occurred_at":  map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"},
			"indexed_at":   map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"},
			"action":       keyword,
			"category":     keyword,
			"outcome":      keyword,
			"actor": object(map[string]any{
				"id": keyword, "email": nameField, "name": nameField, "role": keyword, "type": keyword,
			}),
			"resource": resource,
			"related":  resource,
			"changes": object(map[string]any{
				"field": keyword, "before": nameField, "after": nameField, "redacted": map[string]any{"type": "boolean"},
			}),
			"context": object(map[string]any{
				"ip":         map[string]any{"type": "ip"},
				"user_agent": nameField,
				"session_id": keyword,
				"request_id": keyword,
				"method":     keyword,
				"time_zone":  keyword,
				"location":   object(map[string]any{"country": keyword, "city": keyword, "network": keyword}),
			}),
			"note":        map[string]any{"type": "text"},
			"details":     map[string]any{"type": "flat_object"},
			"summary":     map[string]any{"type": "text"},
			"hour_of_day": map[string]any{"type": "byte"},
			"day_of_week": map[string]any{"type": "byte"},
			// The chain link: its sequence number sorts and filters the
			// feed and the verifier; the digests are kept, not searched.
			"chain": object(map[string]any{
				"seq": map[string]any{"type": "long"}, "prev_hash": keyword, "hash": keyword,
				"digests": map[string]any{"type": "object", "enabled": false},
				// The paths of personal fields replaced by pseudonyms.
				"anonymized": keyword,
			}),
			"client": object(map[string]any{
				"browser": keyword, "browser_version": keyword, "os": keyword, "device": keyword,
			}),
			"restored": restoredField,
			// The user's session an action was taken in, as one value
			// (ingest.SessionKeyOf: two ids of at most 512 bytes and a
			// length), and the time in epoch milliseconds: what the time
			// spent groups and reads by.
			"session_key": sessionKeyField,
			"occurred_ms": map[string]any{"type": "long"},
		},
	}
}

var sessionKeyField = map[string]any{"type": "keyword", "ignore_above": 2*ingest.MaxSessionKeyPart + 8}

// addedFields are the fields added to the mapping after its indices were
// first created: an index made before them gets them when the indexer
// starts (EnsureTemplate) and before an anonymization rewrites entries,
// so that an entry written again with them is not refused.
func addedFields() map[string]any {
	return map[string]any{"properties": map[string]any{
		"chain":       map[string]any{"properties": map[string]any{"anonymized": keyword}},
		"session_key": sessionKeyField,
		"occurred_ms": map[string]any{"type": "long"},
	}}
}

// EnsureTemplate installs (or updates) the index template of cfg's prefix,
// which gives every monthly index its settings, mappings and read alias.
// It is idempotent.
func EnsureTemplate(ctx context.Context, client *opensearchapi.Client, cfg Config) error {
	body := map[string]any{
		"index_patterns": []string{activity.IndexPattern(cfg.IndexPrefix)},
		"priority":       100,
		"_meta":          map[string]any{"mapping_version": MappingVersion},
		"template": map[string]any{
			"settings": map[string]any{
				"number_of_shards":   cfg.Shards,
				"number_of_replicas": cfg.Replicas,
				"refresh_interval":   cfg.RefreshInterval,
			},
			"mappings": mappings(),
			"aliases":  map[string]any{activity.IndexAlias(cfg.IndexPrefix): map[string]any{}},
		},
	}
	if err := sendJSON(ctx, client, http.MethodPut, "/_index_template/"+activity.IndexAlias(cfg.IndexPrefix), body, nil); err != nil {
		return fmt.Errorf("put index template: %w", err)
	}
	return addFields(ctx, client, cfg.IndexPrefix)
}

// addFields adds the fields added to the mapping since (addedFields) to
// every index of prefix that exists already; the template gives them to
// the indices made from now on.
func addFields(ctx context.Context, client *opensearchapi.Client, prefix string) error {
	if err := sendJSON(ctx, client, http.MethodPut, "/"+activity.IndexPattern(prefix)+"/_mapping?ignore_unavailable=true&allow_no_indices=true", addedFields(), nil); err != nil {
		return fmt.Errorf("add the later fields to the existing indices: %w", err)
	}
	return nil
}

// sendJSON sends body as JSON and decodes the answer into out, unless out
// is nil; an answer other than 2xx is an error that quotes it.
func sendJSON(ctx context.Context, client *opensearchapi.Client, method, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Client.Perform(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 2000))
		return fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, msg)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}
