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
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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
	return opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses:     cfg.URLs,
		MaxRetries:    0, // the indexer retries itself, item by item
		EnableMetrics: false,
		Transport:     newTransport(cfg),
	}})
}

// newTransport is the transport of NewClient and NewHTTP: cfg's timeouts,
// with the whole call bounded by its RequestTimeout (see deadline).
func newTransport(cfg Config) http.RoundTripper {
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
		// Answers come uncompressed: OpenSearch would spend CPU
		// compressing every _bulk answer and search page, and the
		// platform inflating it, for bytes that cross a local network.
		DisableCompression: true,
	}
	return deadline{next: transport, timeout: cfg.RequestTimeout}
}

// HTTP sends requests to OpenSearch as NewClient's client does — the same
// timeouts, the configured URLs in turn, the credentials a URL holds —
// but hands back the answer as it arrives. NewClient's client reads every
// answer whole into a buffer of its own before its caller sees it: for
// the search API's answers of several megabytes, that buffer is grown,
// zeroed and copied as it fills, then copied again by a caller that reads
// into its own.
type HTTP struct {
	client http.Client
	urls   []*url.URL
	next   atomic.Uint64
}

// NewHTTP returns the HTTP client of cfg's URLs.
func NewHTTP(cfg Config) (*HTTP, error) {
	if len(cfg.URLs) == 0 {
		return nil, fmt.Errorf("opensearch: no URL configured")
	}
	h := &HTTP{client: http.Client{Transport: newTransport(cfg)}}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("opensearch: URL %q is not an http or https URL", raw)
		}
		h.urls = append(h.urls, u)
	}
	return h, nil
}

// Do sends req, whose URL is a path and query, to the next URL in turn,
// with the credentials that URL holds, if any.
func (h *HTTP) Do(req *http.Request) (*http.Response, error) {
	u := h.urls[(h.next.Add(1)-1)%uint64(len(h.urls))]
	req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
	req.URL.Path = u.Path + req.URL.Path
	if req.URL.RawPath != "" {
		req.URL.RawPath = u.EscapedPath() + req.URL.RawPath
	}
	req.Host = ""
	if u.User != nil {
		password, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), password)
	}
	return h.client.Do(req)
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

// BulkPath is the path and query of the sink's _bulk requests, for a
// loader that is to send the same request.
const BulkPath = "/_bulk?filter_path=" + bulkResponseFields

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

// createResponse is a bulkResponse to creates alone, read without a map
// per item.
type createResponse struct {
	Errors bool       `json:"errors"`
	Items  []bulkItem `json:"items"`
}

// bulkItem is one item of a _bulk response of creates.
type bulkItem struct {
	Create bulkItemResult `json:"create"`
}

type bulkItemResult struct {
	Status int `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// bodies are the buffers bulk bodies are built in, used again by the
// requests that follow once OpenSearch has answered.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendBulk appends the create action and the body of each document to
// buf, one line each.
func appendBulk(buf []byte, docs []ingest.Document) []byte {
	for _, d := range docs {
		buf = append(buf, `{"create":{"_index":`...)
		buf = appendJSONString(buf, d.Index)
		buf = append(buf, `,"_id":`...)
		buf = appendJSONString(buf, d.ID)
		buf = append(buf, "}}\n"...)
		buf = append(buf, d.Body...)
		buf = append(buf, '\n')
	}
	return buf
}

// appendJSONString appends s as a JSON string. Index names and event ids
// are plain ASCII and are copied as they are; anything else is left to
// encoding/json.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// Bulk sends docs in one _bulk request and classifies every item.
func (s *Sink) Bulk(ctx context.Context, docs []ingest.Document) (ingest.BulkResult, error) {
	body := bodies.Get().(*bytes.Buffer)
	body.Reset()
	size := 0
	for _, d := range docs {
		size += len(d.Body) + len(d.Index) + len(d.ID) + 40
	}
	body.Grow(size)
	body.Write(appendBulk(body.AvailableBuffer(), docs))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, BulkPath, bytes.NewReader(body.Bytes()))
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
	// OpenSearch has read the whole body before it answers in full; a
	// request that failed midway may still hold it and keeps its buffer.
	bodies.Put(body)
	if res.StatusCode != http.StatusOK {
		return ingest.BulkResult{}, fmt.Errorf("bulk request: status %d: %s", res.StatusCode, truncate(raw, 300))
	}
	var br createResponse
	if err := json.Unmarshal(raw, &br); err != nil {
		return ingest.BulkResult{}, fmt.Errorf("decode bulk response: %w", err)
	}
	if len(br.Items) != len(docs) {
		return ingest.BulkResult{}, fmt.Errorf("bulk response has %d items for %d documents", len(br.Items), len(docs))
	}
	out := ingest.BulkResult{Items: make([]ingest.ItemResult, len(docs)), Reasons: make([]string, len(docs))}
	for i, item := range br.Items {
		out.Items[i], out.Reasons[i] = classify(item.Create.Status, item.Create.Error)
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
