// Package opensearch is the indexer's write path into OpenSearch: the index
// template behind the monthly activity indices, and bulk indexing with
// per-item results.
package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
)

// Defaults of the Config's timeouts.
const (
	DefaultDialTimeout           = 5 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultRequestTimeout        = 60 * time.Second
)

// Config says where OpenSearch is, how long a call to it may take, and how
// activity indices are laid out.
type Config struct {
	URLs            []string
	IndexPrefix     string
	Shards          int
	Replicas        int
	RefreshInterval string
	// DialTimeout bounds connecting to a node, and the TLS handshake
	// after it; ResponseHeaderTimeout the wait for an answer once a request
	// is sent; RequestTimeout a whole request, its answer read to the end.
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	RequestTimeout        time.Duration
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if len(c.URLs) == 0 {
		return fmt.Errorf("opensearch: no URL configured")
	}
	if c.IndexPrefix == "" {
		c.IndexPrefix = "fluxera"
	}
	if c.IndexPrefix != strings.ToLower(c.IndexPrefix) || strings.ContainsAny(c.IndexPrefix, ` "*\<|,>/?`) {
		return fmt.Errorf("opensearch: index prefix %q must be lower case without spaces or * \\ < | , > / ?", c.IndexPrefix)
	}
	if c.Shards == 0 {
		c.Shards = 1
	}
	if c.RefreshInterval == "" {
		c.RefreshInterval = "1s"
	}
	c.defaultTimeouts()
	if c.DialTimeout < 0 || c.ResponseHeaderTimeout < 0 || c.RequestTimeout < 0 {
		return fmt.Errorf("opensearch: timeouts must be positive")
	}
	return nil
}

func (c *Config) defaultTimeouts() {
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ResponseHeaderTimeout == 0 {
		c.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
}

// NewClient returns an OpenSearch client for cfg's URLs whose every call
// has a deadline: connecting and the TLS handshake within DialTimeout, the
// answer's headers within ResponseHeaderTimeout, and the whole call within
// RequestTimeout (the defaults for those not set). A call that runs out of
// time fails with an error and frees its connection.
func NewClient(cfg Config) (*opensearchapi.Client, error) {
	cfg.defaultTimeouts()
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// The API's searches share the client: connections of as many
		// searches at once as a busy API runs are kept, not closed and
		// opened again.
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	return opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses:     cfg.URLs,
		MaxRetries:    0, // the indexer retries itself, item by item
		EnableMetrics: false,
		Transport:     deadline{next: transport, timeout: cfg.RequestTimeout},
	}})
}

// deadline is a transport that gives every request at most timeout, its
// answer read to the end included.
type deadline struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (d deadline) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), d.timeout)
	res, err := d.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = &cancelOnClose{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// cancelOnClose ends its request's deadline once its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// Sink bulk-indexes documents with the create operation, so that an event
// indexed twice is stored once.
type Sink struct {
	client *opensearchapi.Client
}

// NewSink returns a sink writing through client.
func NewSink(client *opensearchapi.Client) *Sink { return &Sink{client: client} }

// bulkResponseFields are the parts of a _bulk response the sink reads.
// Asking for them alone spares OpenSearch writing, and the indexer
// decoding, each item's index, id, version, sequence number and shard
// counts: about a tenth of the bytes, every item still present in order.
const bulkResponseFields = "errors,items.*.status,items.*.error.type,items.*.error.reason"

type bulkResponse struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		Status int `json:"status"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

// Bulk sends docs in one _bulk request and classifies every item.
func (s *Sink) Bulk(ctx context.Context, docs []ingest.Document) (ingest.BulkResult, error) {
	var body bytes.Buffer
	for _, d := range docs {
		fmt.Fprintf(&body, `{"create":{"_index":%q,"_id":%q}}`+"\n", d.Index, d.ID)
		body.Write(d.Body)
		body.WriteByte('\n')
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/_bulk?filter_path="+bulkResponseFields, &body)
	if err != nil {
		return ingest.BulkResult{}, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := s.client.Client.Perform(req)
	if err != nil {
		return ingest.BulkResult{}, fmt.Errorf("bulk request: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return ingest.BulkResult{}, fmt.Errorf("read bulk response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return ingest.BulkResult{}, fmt.Errorf("bulk request: status %d: %s", res.StatusCode, truncate(raw, 300))
	}
	var br bulkResponse
	if err := json.Unmarshal(raw, &br); err != nil {
		return ingest.BulkResult{}, fmt.Errorf("decode bulk response: %w", err)
	}
	if len(br.Items) != len(docs) {
		return ingest.BulkResult{}, fmt.Errorf("bulk response has %d items for %d documents", len(br.Items), len(docs))
	}
	out := ingest.BulkResult{Items: make([]ingest.ItemResult, len(docs)), Reasons: make([]string, len(docs))}
	for i, item := range br.Items {
		for _, r := range item { // one key: the operation
			out.Items[i], out.Reasons[i] = classify(r.Status, r.Error)
		}
	}
	return out, nil
}

func classify(status int, e *struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}) (ingest.ItemResult, string) {
	switch {
	case status >= 200 && status < 300:
		return ingest.Indexed, ""
	case status == http.StatusConflict:
		return ingest.Indexed, "" // created before: this is a redelivery
	}
	reason := fmt.Sprintf("status %d", status)
	if e != nil {
		reason = fmt.Sprintf("%s: %s", e.Type, e.Reason)
	}
	if status == http.StatusTooManyRequests || status >= 500 ||
		(e != nil && (strings.Contains(e.Type, "rejected_execution") || strings.Contains(e.Type, "circuit_breaking"))) {
		return ingest.Retry, reason
	}
	return ingest.Rejected, reason
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Refresh makes everything indexed so far searchable; tests use it.
func Refresh(ctx context.Context, client *opensearchapi.Client, prefix string) error {
	_, err := client.Indices.Refresh(ctx, &opensearchapi.IndicesRefreshReq{Indices: []string{activity.IndexAlias(prefix)}})
	return err
}
