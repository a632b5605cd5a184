package http

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/internal/servertiming"
)

// TestRequestsRefusedWhileReadingAreAnswered sends, over a real connection,
// requests the server refuses before any handler sees them, and checks each
// gets its answer, whole, as a JSON error that does not quote the request —
// even when the client is still sending when the refusal goes out.
func TestRequestsRefusedWhileReadingAreAnswered(t *testing.T) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := NewServer(Config{BodyLimit: 1 << 20}, Services{}, log)
	s.NotFound()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.App.Shutdown() })

	big := strings.Repeat("a", 1<<20)
	check := func(t *testing.T, res *http.Response, status int, code string) {
		t.Helper()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("the answer was cut: %v", err)
		}
		var e httpapi.ErrorBody
		if res.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Error.Code != code || e.Error.Message == "" {
			t.Errorf("answered %d %s, want %d %s in JSON", res.StatusCode, body, status, code)
		}
		if strings.Contains(string(body), "GARBAGE") || strings.Contains(string(body), "aaaa") {
			t.Errorf("the answer quotes the request: %s", body)
		}
	}
	// What an HTTP client cannot send, sent as bytes.
	for _, tt := range []struct {
		name, request string
		status        int
		code          string
		// allow is the Allow header a 405 must carry.
		allow string
	}{
		{"garbage", "GARBAGE\r\n\r\n", 400, "invalid", ""},
		{"an unknown method", "GARBAGE /<script> HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed", ""},
		{"an unknown method on a route", "PURGE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed", "GET, HEAD"},
		{"an unknown method on a route with an id", "PURGE /api/v1/assets/0193e2a0-0000-7000-8000-000000000000 HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed", "GET, HEAD, DELETE, PATCH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			check(t, res, tt.status, tt.code)
			if allow, ok := res.Header["Allow"]; tt.status == http.StatusMethodNotAllowed && (!ok || len(allow) != 1 || allow[0] != tt.allow) {
				t.Errorf("Allow = %q (sent: %v), want %q", allow, ok, tt.allow)
			}
		})
	}
	// What a client still sends when the refusal goes out.
	client := &http.Client{Timeout: 30 * time.Second}
	base := "http://" + ln.Addr().String()
	for _, tt := range []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"a 100 kB header", func() *http.Request {
			req, _ := http.NewRequest("GET", base+"/healthz", nil)
			req.Header.Set("X-Padding", big[:100<<10])
			return req
		}, 431, "too_large"},
		{"a 1 MB header", func() *http.Request {
			req, _ := http.NewRequest("GET", base+"/healthz", nil)
			req.Header.Set("X-Padding", big)
			return req
		}, 431, "too_large"},
		{"a body over the limit", func() *http.Request {
			req, _ := http.NewRequest("POST", base+"/api/v1/auth/login", strings.NewReader(big+big))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, 413, "too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				res, err := client.Do(tt.req())
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				check(t, res, tt.status, tt.code)
				res.Body.Close()
			}
		})
	}
}

func TestRequestIDAndUserAgentAreKeptPrintable(t *testing.T) {
	for id, ok := range map[string]bool{
		"req-42": true, strings.Repeat("a", 128): true, "": false, strings.Repeat("a", 129): false,
		"with space": false, "tab\t": false, "nul\x00": false, "é": false, "\xff": false,
	} {
		if validRequestID(id) != ok {
			t.Errorf("validRequestID(%q) = %v, want %v", id, !ok, ok)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)"},
		{"a\x00b\x1bc\x7fd\u0085e", "abcde"},
		{"bad \xff\xfe", "bad \ufffd"},
		{strings.Repeat("é", 300), strings.Repeat("é", 256)},
		{strings.Repeat("a", 511) + "é", strings.Repeat("a", 511)},
	} {
		if got := printable(tt.in, 512); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRouteMatches(t *testing.T) {
	for _, tt := range []struct {
		pattern, path string
		want          bool
	}{
		{"/healthz", "/healthz", true},
		{"/healthz", "/HEALTHZ/", true},
		{"/healthz", "/healthz/x", false},
		{"/", "/", true},
		{"/", "/x", false},
		{"/api/v1/assets/:id", "/api/v1/assets/42", true},
		{"/api/v1/assets/:id", "/api/v1/assets", false},
		{"/api/v1/assets/:id", "/api/v1/assets/42/history", false},
		{"/api/v1/assets/:id?", "/api/v1/assets", true},
		{"/static/*", "/static/css/app.css", true},
		{"/static/*", "/static", true},
		{"/static/+", "/static", false},
		{"/static/+", "/static/app.js", true},
	} {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			if got := routeMatches(tt.pattern, tt.path); got != tt.want {
				t.Errorf("routeMatches(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
			}
		})
	}
}

// TestAnswersSayWhereTheirTimeWent checks the Server-Timing header of the
// answers to a signed-in caller (one whose handler recorded a search, a
// refusal, a panic) and that an anonymous caller's have none.
func TestAnswersSayWhereTheirTimeWent(t *testing.T) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := NewServer(Config{BodyLimit: 1 << 20}, Services{}, log)
	signedIn := func(c *fiber.Ctx) error {
		c.SetUserContext(activity.WithPrincipal(c.UserContext(), activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner}))
		return c.Next()
	}
	s.App.Get("/searched", signedIn, func(c *fiber.Ctx) error {
		servertiming.Add(c.UserContext(), servertiming.Search, 3*time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		return c.SendString("ok")
	})
	s.App.Get("/refused", signedIn, func(c *fiber.Ctx) error {
		return activity.Errorf(activity.EINVALID, "x", "no")
	})
	s.App.Get("/panics", signedIn, func(c *fiber.Ctx) error {
		panic("a bug")
	})
	s.App.Get("/anonymous", func(c *fiber.Ctx) error {
		servertiming.Add(c.UserContext(), servertiming.Search, 3*time.Millisecond)
		return c.SendString("ok")
	})
	s.NotFound()
	header := regexp.MustCompile(`^(search;dur=3\.000, )?app;dur=(\d+\.\d{3})$`)
	for path, status := range map[string]int{"/searched": 200, "/refused": 400, "/panics": 500} {
		res, err := s.App.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		got := res.Header.Get("Server-Timing")
		m := header.FindStringSubmatch(got)
		if res.StatusCode != status || m == nil || (path == "/searched") != (m[1] != "") {
			t.Fatalf("GET %s: %d, Server-Timing %q", path, res.StatusCode, got)
		}
		if app, _ := strconv.ParseFloat(m[2], 64); path == "/searched" && app < 5 {
			t.Errorf("GET %s: the API's time %s ms is less than the handler took", path, m[2])
		}
	}
	for path, status := range map[string]int{"/anonymous": 200, "/nowhere": 404} {
		res, err := s.App.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Header.Values("Server-Timing"); res.StatusCode != status || len(got) != 0 {
			t.Fatalf("GET %s, anonymous: %d, Server-Timing %q", path, res.StatusCode, got)
		}
	}
}
