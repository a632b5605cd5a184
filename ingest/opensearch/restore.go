package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
)

// Restorer indexes entries an owner restores from the archive back into
// the monthly indices they were removed from, as the indexer would store
// them, each marked with its restore (activity.Restored). It is the
// indexer's write path, used by the retention job.
type Restorer struct {
	Client *opensearchapi.Client
	Prefix string
	// Enricher, if set, completes each document as the indexer does.
	Enricher ingest.Enricher
	// Now is the clock of the documents' indexed_at; time.Now when nil.
	Now func() time.Time
}

// IndexRestored creates the documents of events marked with mark, in
// one bulk request, refreshed so that searches see them once it returns,
// and returns how many it created. An entry the index holds already (one
// a legal hold kept searchable) is left as it is and not counted: the
// restore's expiry, which deletes by the mark, never touches it.
func (r *Restorer) IndexRestored(ctx context.Context, events []activity.Event, mark activity.Restored) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	var body bytes.Buffer
	mapped := map[string]bool{}
	for _, e := range events {
		index := activity.IndexName(r.Prefix, e.OccurredAt)
		if !mapped[index] {
			if err := r.ensureMapped(ctx, index); err != nil {
				return 0, err
			}
			mapped[index] = true
		}
		doc := ingest.NewDocument(e, now())
		if r.Enricher != nil {
			r.Enricher.Enrich(&doc)
		}
		m := mark
		doc.Restored = &m
		raw, err := json.Marshal(doc)
		if err != nil {
			return 0, fmt.Errorf("encode restored entry %s: %w", e.ID, err)
		}
		fmt.Fprintf(&body, `{"create":{"_index":%q,"_id":%q}}`+"\n", index, e.ID)
		body.Write(raw)
		body.WriteByte('\n')
	}
	status, raw, err := r.send(ctx, http.MethodPost, "/_bulk?refresh=true&filter_path="+bulkResponseFields, &body, "application/x-ndjson")
	if err != nil {
		return 0, fmt.Errorf("index restored entries: %w", err)
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("index restored entries: status %d: %s", status, truncate(raw, 300))
	}
	var br bulkResponse
	if err := json.Unmarshal(raw, &br); err != nil {
		return 0, fmt.Errorf("decode bulk response: %w", err)
	}
	var created int64
	for i, item := range br.Items {
		for _, it := range item {
			switch {
			case it.Status >= 200 && it.Status < 300:
				created++
			case it.Status == http.StatusConflict:
				// searchable already
			default:
				reason := fmt.Sprintf("status %d", it.Status)
				if it.Error != nil {
					reason = it.Error.Type + ": " + it.Error.Reason
				}
				return created, fmt.Errorf("index restored entry %s: %s", events[i].ID, reason)
			}
		}
	}
	return created, nil
}

// ensureMapped makes sure index exists and maps the restored mark: an
// index made before the mark was part of the template gets it added (a
// new field is a compatible change), a month whose index was dropped gets
// its index again from the template.
func (r *Restorer) ensureMapped(ctx context.Context, index string) error {
	mapping, _ := json.Marshal(map[string]any{"properties": map[string]any{"restored": restoredField}})
	path := "/" + url.PathEscape(index) + "/_mapping"
	status, raw, err := r.send(ctx, http.MethodPut, path, bytes.NewReader(mapping), "application/json")
	if err == nil && status == http.StatusNotFound {
		status, raw, err = r.send(ctx, http.MethodPut, "/"+url.PathEscape(index), nil, "")
		if err == nil && (status == http.StatusOK || status == http.StatusBadRequest) { // 400: made meanwhile
			status, raw, err = r.send(ctx, http.MethodPut, path, bytes.NewReader(mapping), "application/json")
		}
	}
	if err != nil {
		return fmt.Errorf("map restored entries in %s: %w", index, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("map restored entries in %s: status %d: %s", index, status, truncate(raw, 300))
	}
	return nil
}

func (r *Restorer) send(ctx context.Context, method, path string, body io.Reader, contentType string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := r.Client.Client.Perform(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}
