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
	"github.com/fluxera/activity/privacy"
)

// Anonymizer replaces a person's values in a workspace's indexed entries:
// the write path's side of privacy.Index.
type Anonymizer struct {
	client *opensearchapi.Client
	prefix string
}

// NewAnonymizer returns the anonymizer of the indices of prefix.
func NewAnonymizer(client *opensearchapi.Client, prefix string) *Anonymizer {
	return &Anonymizer{client: client, prefix: prefix}
}

// maxValues bounds the distinct names, emails and addresses read for one
// person.
const maxValues = 1000

// Recorded returns the names, emails and IP addresses the workspace's
// entries record for the user: as the actor (name, email, address) and as
// the resource of others' actions (name).
func (a *Anonymizer) Recorded(ctx context.Context, workspace, userID string) (privacy.Subject, error) {
	terms := func(field string) map[string]any {
		return map[string]any{"terms": map[string]any{"field": field, "size": maxValues}}
	}
	body := map[string]any{
		"size":  0,
		"query": map[string]any{"term": map[string]any{"workspace_id": workspace}},
		"aggs": map[string]any{
			"actor": map[string]any{
				"filter": map[string]any{"term": map[string]any{"actor.id": userID}},
				"aggs":   map[string]any{"names": terms("actor.name.keyword"), "emails": terms("actor.email.keyword"), "ips": terms("context.ip")},
			},
			"resource": map[string]any{
				"filter": map[string]any{"bool": map[string]any{"filter": []any{
					map[string]any{"term": map[string]any{"resource.id": userID}},
					map[string]any{"term": map[string]any{"resource.type": "user"}},
				}}},
				"aggs": map[string]any{"names": terms("resource.name.keyword")},
			},
		},
	}
	type buckets struct {
		Buckets []struct {
			Key         any    `json:"key"`
			KeyAsString string `json:"key_as_string"`
		} `json:"buckets"`
	}
	var out struct {
		Aggregations struct {
			Actor    struct{ Names, Emails, IPs buckets } `json:"actor"`
			Resource struct{ Names buckets }              `json:"resource"`
		} `json:"aggregations"`
	}
	if err := sendJSON(ctx, a.client, http.MethodPost, "/"+activity.IndexPattern(a.prefix)+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &out); err != nil {
		return privacy.Subject{}, err
	}
	keys := func(b buckets) []string {
		var vs []string
		for _, k := range b.Buckets {
			if k.KeyAsString != "" {
				vs = append(vs, k.KeyAsString)
			} else if s, ok := k.Key.(string); ok {
				vs = append(vs, s)
			}
		}
		return vs
	}
	s := privacy.Subject{UserID: userID}
	s.Add(privacy.Subject{
		Names:  append(keys(out.Aggregations.Actor.Names), keys(out.Aggregations.Resource.Names)...),
		Emails: keys(out.Aggregations.Actor.Emails),
		IPs:    keys(out.Aggregations.Actor.IPs),
	})
	return s, nil
}

// LastSeq returns the highest chain sequence number indexed for the
// workspace, 0 for none.
func (a *Anonymizer) LastSeq(ctx context.Context, workspace string) (int64, error) {
	var out struct {
		Aggregations struct {
			Last struct {
				Value *float64 `json:"value"`
			} `json:"last"`
		} `json:"aggregations"`
	}
	body := map[string]any{
		"size":  0,
		"query": map[string]any{"term": map[string]any{"workspace_id": workspace}},
		"aggs":  map[string]any{"last": map[string]any{"max": map[string]any{"field": "chain.seq"}}},
	}
	if err := sendJSON(ctx, a.client, http.MethodPost, "/"+activity.IndexPattern(a.prefix)+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &out); err != nil {
		return 0, err
	}
	if out.Aggregations.Last.Value == nil {
		return 0, nil
	}
	return int64(*out.Aggregations.Last.Value), nil
}

// maxRounds bounds the passes over a workspace's entries when the indexer
// writes some of them at the same time.
const maxRounds = 5

// scanPage is how many entries one search of a pass reads.
const scanPage = 500

// Anonymize replaces r's values in every entry of the workspace and
// returns how many entries changed. It reads the workspace's entries in
// id order and writes back each changed one with its sequence number and
// primary term, so that an entry the indexer rewrote meanwhile is not
// overwritten but taken again in another pass. Each changed entry keeps
// its structure and its chain link, and lists the fields replaced in
// chain.anonymized, which is added to the mappings of indices made before
// it existed.
//
// The search cluster's scripting modules are not needed: the replacement
// is made here, by privacy.Replacement, the same code that pseudonymizes
// exports.
func (a *Anonymizer) Anonymize(ctx context.Context, workspace string, r privacy.Replacement) (int64, error) {
	if err := addFields(ctx, a.client, a.prefix); err != nil {
		return 0, err
	}
	var total int64
	for round := 0; round < maxRounds; round++ {
		updated, conflicts, err := a.pass(ctx, workspace, r)
		total += updated
		if err != nil || conflicts == 0 {
			return total, err
		}
	}
	return total, fmt.Errorf("anonymize: entries kept changing over %d passes; try again", maxRounds)
}

// hit is one entry read for anonymization, with what its write back needs.
type hit struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	SeqNo       int64           `json:"_seq_no"`
	PrimaryTerm int64           `json:"_primary_term"`
	Source      json.RawMessage `json:"_source"`
	Sort        []any           `json:"sort"`
}

// pass reads every entry of the workspace once and writes back those r
// changes; it returns how many it wrote and how many had changed
// meanwhile.
func (a *Anonymizer) pass(ctx context.Context, workspace string, r privacy.Replacement) (updated, conflicts int64, err error) {
	var after []any
	for {
		body := map[string]any{
			"size": scanPage, "seq_no_primary_term": true,
			"query": map[string]any{"term": map[string]any{"workspace_id": workspace}},
			"sort":  []any{map[string]any{"id": "asc"}},
		}
		if after != nil {
			body["search_after"] = after
		}
		var out struct {
			Hits struct {
				Hits []hit `json:"hits"`
			} `json:"hits"`
		}
		if err := sendJSON(ctx, a.client, http.MethodPost, "/"+activity.IndexPattern(a.prefix)+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &out); err != nil {
			return updated, conflicts, err
		}
		hits := out.Hits.Hits
		if len(hits) == 0 {
			return updated, conflicts, nil
		}
		after = hits[len(hits)-1].Sort
		var bulk bytes.Buffer
		n := 0
		for _, h := range hits {
			doc, changed, err := anonymizeSource(h.Source, r)
			if err != nil {
				return updated, conflicts, fmt.Errorf("entry %s: %w", h.ID, err)
			}
			if !changed {
				continue
			}
			fmt.Fprintf(&bulk, `{"index":{"_index":%q,"_id":%q,"if_seq_no":%d,"if_primary_term":%d}}`+"\n", h.Index, h.ID, h.SeqNo, h.PrimaryTerm)
			bulk.Write(doc)
			bulk.WriteByte('\n')
			n++
		}
		if n > 0 {
			u, c, err := a.write(ctx, &bulk)
			updated, conflicts = updated+u, conflicts+c
			if err != nil {
				return updated, conflicts, err
			}
		}
		if len(hits) < scanPage {
			return updated, conflicts, nil
		}
	}
}

// anonymizeSource applies r to one stored entry and reports whether it
// changed. Numbers in the details keep their text, so that unchanged
// details keep their digest.
func anonymizeSource(src json.RawMessage, r privacy.Replacement) ([]byte, bool, error) {
	var doc ingest.SearchDocument
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, false, err
	}
	own := doc.Actor.ID == r.Subject.UserID
	changed := r.Apply(&doc.Event)
	if !own {
		r = r.WithoutAddresses()
	}
	summary := r.Text(doc.Summary)
	if len(changed) == 0 && summary == doc.Summary {
		return nil, false, nil
	}
	doc.Summary = summary
	doc.DeriveKeys()
	b, err := json.Marshal(doc)
	return b, true, err
}

// write sends one bulk of conditional writes and counts the written and
// the conflicting items; any other failure is an error naming the first.
func (a *Anonymizer) write(ctx context.Context, body *bytes.Buffer) (updated, conflicts int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/_bulk?refresh=true&filter_path="+bulkResponseFields, body)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := a.client.Client.Perform(req)
	if err != nil {
		return 0, 0, fmt.Errorf("bulk write: %w", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("bulk write: status %d: %s", res.StatusCode, truncate(raw, 300))
	}
	var br bulkResponse
	if err := json.Unmarshal(raw, &br); err != nil {
		return 0, 0, fmt.Errorf("decode bulk response: %w", err)
	}
	for _, item := range br.Items {
		for _, it := range item {
			switch {
			case it.Status == http.StatusConflict:
				conflicts++
			case it.Status/100 == 2:
				updated++
			default:
				reason := ""
				if it.Error != nil {
					reason = it.Error.Type + ": " + it.Error.Reason
				}
				return updated, conflicts, fmt.Errorf("bulk write: status %d: %s", it.Status, reason)
			}
		}
	}
	return updated, conflicts, nil
}
