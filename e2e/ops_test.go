package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/internal/app"
)

// TestMetricsAreServedOnlyOnTheOpsAddress checks that a process with the
// API role serves its metrics on the ops address and not on the public API
// listener, where /metrics is an unknown route.
func TestMetricsAreServedOnlyOnTheOpsAddress(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	get := func(url string) (int, string) {
		t.Helper()
		res, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if st, body := get("http://" + m.HTTPAddr + "/metrics"); st != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
		t.Errorf("the API listener answers /metrics with %d: %.200s", st, body)
	}
	if m.OpsAddr == "" || m.OpsAddr == m.HTTPAddr {
		t.Fatalf("the API process has no ops address of its own: %q", m.OpsAddr)
	}
	if st, body := get("http://" + m.OpsAddr + "/metrics"); st != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("the ops address answers /metrics with %d: %.200s", st, body)
	}
	if st, _ := get("http://" + m.OpsAddr + "/healthz"); st != http.StatusOK {
		t.Errorf("the ops address answers /healthz with %d", st)
	}
}

// TestReadinessNamesTheFailingDependency closes the API's database
// connections under it and checks that /readyz answers 503 naming the
// database, without the error's text, which goes to the log instead.
func TestReadinessNamesTheFailingDependency(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	c := newClient(t, m)
	if a := c.call("GET", "/readyz", nil, nil); a.status != http.StatusOK || string(a.body) != `{"status":"ready"}` {
		t.Fatalf("/readyz with the database up: %d %s", a.status, a.body)
	}
	var log strings.Builder
	m.Log.SetOutput(&log)
	m.DB.Close()
	a := c.call("GET", "/readyz", nil, nil)
	if a.status != http.StatusServiceUnavailable || string(a.body) != `{"status":"unavailable","failing":["database"]}` {
		t.Errorf("/readyz with the database closed: %d %s", a.status, a.body)
	}
	if !strings.Contains(log.String(), "database is closed") || !strings.Contains(log.String(), `"component":"api"`) {
		t.Errorf("the failure is not logged with its error: %s", log.String())
	}
}
