package ostest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Searches is a transport that keeps the body of every search it carries
// to OpenSearch, so that a test can count the searches a piece of code
// sends and read what they ask, rather than time it.
type Searches struct {
	mu     sync.Mutex
	bodies []string
}

// RoundTrip carries r with http.DefaultTransport, keeping its body when it
// is a search.
func (s *Searches) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/_search") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Take returns the bodies of the searches carried since the last call.
func (s *Searches) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bodies
	s.bodies = nil
	return b
}
