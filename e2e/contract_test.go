package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/openapi"
)

// contract is the API's OpenAPI document, loaded once, and a router that
// finds the operation of a request in it.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	raw, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	return &contract{doc: doc, router: router}, nil
})

func init() {
	// Files the API answers are taken as they are: the document describes
	// their media types, not their bytes.
	for _, ct := range []string{"application/pdf", "application/x-ndjson", "image/png", "image/jpeg", "image/gif", "image/webp"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// mustContract returns the loaded contract, failing tb when the document
// does not load.
func mustContract(tb testing.TB) *contract {
	tb.Helper()
	c, err := loadContract()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// signedIn says whether a request carries credentials of the scheme the
// document names: the session cookie (under either of its names) or a
// bearer token. It checks that they are there, not that they are good:
// the server says that, with 401.
func signedIn(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	req := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "session":
		for _, name := range []string{domainhttp.SessionCookie, "__Host-" + domainhttp.SessionCookie} {
			if _, err := req.Cookie(name); err == nil {
				return nil
			}
		}
		return errors.New("no session cookie")
	case "apiToken":
		if strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
		return errors.New("no bearer token")
	}
	return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
}

// contractCheck is a transport that holds every request and answer to the
// API's OpenAPI document, failing tb on a mismatch:
//   - an answer must be one the document gives for its operation and
//     status: its body is checked against the schema (refusals against
//     the error body), unless it is a file to download (an answer with
//     Content-Disposition), whose media type alone is checked;
//   - a request the document says is wrong (a missing or mistyped field, an
//     unknown one, no credentials) must be refused with a 4xx;
//   - a request for a route the document does not have must be refused
//     with a 4xx error body.
type contractCheck struct {
	tb   testing.TB
	next nethttp.RoundTripper
}

func (c contractCheck) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	if !describedPath(req.URL.Path) {
		// The console's pages are HTML for people, not the API the
		// document describes.
		return c.next.RoundTrip(req)
	}
	con, err := loadContract()
	if err != nil {
		c.tb.Error(err)
		return c.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != nethttp.NoBody {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	res, err := c.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	what := fmt.Sprintf("%s %s answered %d", req.Method, req.URL.RequestURI(), res.StatusCode)
	if len(what) > 300 {
		what = what[:300] + "…"
	}
	// The request as the document reads it, with a body of its own.
	probe := req.Clone(context.Background())
	if probe.Method == nethttp.MethodHead {
		probe.Method = nethttp.MethodGet
	}
	probe.Body = io.NopCloser(bytes.NewReader(body))
	route, params, findErr := con.router.FindRoute(probe)
	if findErr != nil {
		// No such operation in the document: the server must refuse it.
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			c.tb.Errorf("contract: %s, but the document has no such operation (%v)", what, findErr)
			return res, nil
		}
		if req.Method == nethttp.MethodHead {
			return res, nil
		}
		raw, err := readBack(res)
		if err != nil {
			return res, err
		}
		if err := con.errorBody(raw, res.Header); err != nil {
			c.tb.Errorf("contract: %s for an operation the document does not have, without the error body: %v", what, err)
		}
		return res, nil
	}
	opts := &openapi3filter.Options{AuthenticationFunc: signedIn, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && (res.StatusCode < 400 || res.StatusCode >= 500) {
		c.tb.Errorf("contract: %s to a request the document says is wrong: %v", what, trim(reqErr))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: opts}
	if notReadAhead(req, res) {
		// A file to download, or a stream, goes to the test as it comes:
		// its media type is checked, not its bytes.
		o := *opts
		o.ExcludeResponseBody = true
		out.Options = &o
		out.Body = nethttp.NoBody
		if err := mediaTypeDocumented(route, res); err != nil {
			c.tb.Errorf("contract: %s: %v", what, err)
		}
	} else {
		raw, err := readBack(res)
		if err != nil {
			return res, err
		}
		out.SetBodyBytes(raw)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.tb.Errorf("contract: %s, which the document does not allow: %v", what, trim(err))
	}
	return res, nil
}

// notReadAhead says whether res is an answer the check must not read ahead of
// the test: a HEAD's, a file to download (with Content-Disposition), or
// anything but JSON, such as a stream of server-sent events.
func notReadAhead(req *nethttp.Request, res *nethttp.Response) bool {
	if req.Method == nethttp.MethodHead || res.Header.Get("Content-Disposition") != "" {
		return true
	}
	ct := res.Header.Get("Content-Type")
	return ct != "" && !strings.HasPrefix(ct, "application/json")
}

// mediaTypeDocumented checks that the document gives res's media type for
// its operation and status.
func mediaTypeDocumented(route *routers.Route, res *nethttp.Response) error {
	answer := route.Operation.Responses.Status(res.StatusCode)
	if answer == nil {
		answer = route.Operation.Responses.Default()
	}
	if answer == nil || answer.Value == nil {
		return fmt.Errorf("the document has no answer %d", res.StatusCode)
	}
	if len(answer.Value.Content) == 0 || res.Request.Method == nethttp.MethodHead {
		return nil
	}
	if answer.Value.Content.Get(res.Header.Get("Content-Type")) == nil {
		return fmt.Errorf("the document gives no media type %q for it", res.Header.Get("Content-Type"))
	}
	return nil
}

// readBack reads res's body and puts it back for the caller.
func readBack(res *nethttp.Response) ([]byte, error) {
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(raw))
	return raw, err
}

// errorBody checks that raw is the JSON error body the document describes.
func (con *contract) errorBody(raw []byte, header nethttp.Header) error {
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q", ct)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	return con.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// trim shortens a validation error to what a reader needs.
func trim(err error) string {
	s := err.Error()
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

// describedPath reports whether the OpenAPI document describes path: the
// API under /api/v1 and the health checks.
func describedPath(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz"
}
