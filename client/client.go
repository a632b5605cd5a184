// Package client is a Go client of the Fluxera Activity API, written
// against its OpenAPI document (openapi/openapi.yaml, served at
// GET /api/v1/openapi.json): sign-in, API tokens, members, assets,
// licenses, the activity log and histories, exports, reports and alerts.
//
// A Client signs in either with an API token (WithToken), or with a
// session: Login keeps the session cookie in the client's cookie jar, and
// every request says it comes from the API's own origin, as the API asks
// of changes made with the session cookie. Every failed request returns
// an *Error, the API's error body with its status.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// Client calls the API at one base URL. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	origin string
	http   *http.Client
	token  string
	agent  string
}

// Option sets up a Client.
type Option func(*Client)

// WithToken signs every request in with an API token (flx_…), sent as a
// bearer token.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sends the requests through h. Login needs h to have a
// cookie jar; New gives the default client one.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent the API records in the context of the
// events the client's requests cause.
func WithUserAgent(agent string) Option { return func(c *Client) { c.agent = agent } }

// New returns a client of the API at baseURL (such as
// "http://127.0.0.1:8080"). It returns an error when baseURL is not an
// absolute http or https URL.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q is not an absolute http or https URL", baseURL)
	}
	jar, _ := cookiejar.New(nil)
	c := &Client{base: u, origin: u.Scheme + "://" + u.Host, http: &http.Client{Jar: jar}, agent: "fluxera-client/1"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is a request the API refused or failed, as its error body says.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code is the error's code for programs: invalid, unauthorized,
	// forbidden, not_found, conflict, too_many_requests, unavailable, …
	Code string `json:"code"`
	// Message says what is wrong, for people.
	Message string `json:"message"`
	// Field names the input field, parameter or scope it is about.
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("fluxera: %d %s (%s): %s", e.Status, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("fluxera: %d %s: %s", e.Status, e.Code, e.Message)
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// send makes a request and returns the answer when its status is below
// 300; otherwise it reads the error body and returns it as an *Error.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, contentType string, body io.Reader) (*http.Response, error) {
	u := c.base.JoinPath(path)
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", c.origin)
	req.Header.Set("User-Agent", c.agent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if res.StatusCode < 300 {
		return res, nil
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var eb struct {
		Error Error `json:"error"`
	}
	if json.Unmarshal(raw, &eb) != nil || eb.Error.Code == "" {
		eb.Error = Error{Code: "unknown", Message: strings.TrimSpace(string(raw))}
	}
	eb.Error.Status = res.StatusCode
	return nil, &eb.Error
}

// do sends in (if not nil) as JSON and decodes a JSON answer into out (if
// not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: %s %s: %w", method, path, err)
		}
		body, contentType = bytes.NewReader(raw), "application/json"
	}
	res, err := c.send(ctx, method, path, query, contentType, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil || res.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("client: %s %s: read the answer: %w", method, path, err)
	}
	return nil
}

// download sends a GET and returns the answer's body, a file, for the
// caller to read and close.
func (c *Client) download(ctx context.Context, path string, query url.Values) (*File, error) {
	res, err := c.send(ctx, http.MethodGet, path, query, "", nil)
	if err != nil {
		return nil, err
	}
	return &File{ReadCloser: res.Body, ContentType: res.Header.Get("Content-Type"), Disposition: res.Header.Get("Content-Disposition")}, nil
}

// File is a file the API answers: an export, a report's file, an image.
// Read it, then close it.
type File struct {
	io.ReadCloser
	// ContentType is its media type, such as text/csv; charset=utf-8.
	ContentType string
	// Disposition is its Content-Disposition, with its file name.
	Disposition string
}

// note is the optional body of deletions and other actions that only take
// the why.
type note struct {
	Note string `json:"note,omitempty"`
}

func id(s string) string { return url.PathEscape(s) }
