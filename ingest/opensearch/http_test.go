package opensearch_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ingestos "github.com/fluxera/activity/ingest/opensearch"
)

// TestHTTPSendsToEachURLInTurn checks that the HTTP client sends each
// request to the next configured URL, under that URL's path, with that
// URL's credentials, and hands over the answer as sent.
func TestHTTPSendsToEachURLInTurn(t *testing.T) {
	type seen struct{ server, path, query, user, password, body string }
	got := make(chan seen, 8)
	serve := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, password, _ := r.BasicAuth()
			body, _ := io.ReadAll(r.Body)
			got <- seen{name, r.URL.Path, r.URL.RawQuery, user, password, string(body)}
			w.Write([]byte(`{"answer":"` + name + `"}`))
		}))
	}
	a, b := serve("a"), serve("b")
	defer a.Close()
	defer b.Close()
	withUser := strings.Replace(b.URL, "http://", "http://reader:s%3Acret@", 1) + "/search/"
	h, err := ingestos.NewHTTP(ingestos.Config{URLs: []string{a.URL, withUser}})
	if err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"a", "/idx/_search", "q=1", "", "", "{}"},
		{"b", "/search/idx/_search", "q=1", "reader", "s:cret", "{}"},
		{"a", "/idx/_search", "q=1", "", "", "{}"},
	}
	for i, w := range want {
		req, err := http.NewRequest(http.MethodPost, "/idx/_search?q=1", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if s := <-got; s != w {
			t.Errorf("request %d reached %+v; want %+v", i, s, w)
		}
		if string(answer) != `{"answer":"`+w.server+`"}` {
			t.Errorf("request %d answered %s", i, answer)
		}
	}
}

func TestNewHTTPRefusesURLsItCannotSendTo(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:9200", "ftp://127.0.0.1:9200", "http://"} {
		urls := []string{u}
		if u == "" {
			urls = nil
		}
		if _, err := ingestos.NewHTTP(ingestos.Config{URLs: urls}); err == nil {
			t.Errorf("NewHTTP(%q) accepted it", u)
		}
	}
}
