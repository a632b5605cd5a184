package e2e

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestStalledOpenSearchAnswers503AndPinsNothing points the API at an
// OpenSearch that accepts connections and never answers. The search
// routes answer 503 with Retry-After, whether OpenSearch's answer times
// out first or the request's own deadline does; a request whose client
// goes away stops waiting for OpenSearch at once; and afterwards the
// process runs no more goroutines than before.
func TestStalledOpenSearchAnswers503AndPinsNothing(t *testing.T) {
	stall := stacktest.MustStall(t)
	base := MustStack(t)
	stalled := func(edit func(cfg *app.Config)) app.Config {
		cfg := base
		cfg.OpenSearch.URLs = []string{"http://" + stall.Addr}
		cfg.OpenSearch.ResponseHeaderTimeout = 10 * time.Minute
		cfg.OpenSearch.RequestTimeout = 10 * time.Minute
		cfg.HTTP.RequestTimeout = 10 * time.Minute
		edit(&cfg)
		return cfg
	}
	// OpenSearch's answer times out first, then the request's deadline,
	// then neither: only the client's going away ends the wait.
	headerCfg := stalled(func(cfg *app.Config) { cfg.OpenSearch.ResponseHeaderTimeout = time.Second })
	deadlineCfg := stalled(func(cfg *app.Config) { cfg.HTTP.RequestTimeout = time.Second })
	goneCfg := stalled(func(*app.Config) {})
	headerAPI := MustStart(t, headerCfg, app.RoleAPI)
	deadlineAPI := MustStart(t, deadlineCfg, app.RoleAPI)
	goneAPI := MustStart(t, goneCfg, app.RoleAPI)
	email, password := MustWorkspace(t, base, "Stalled")
	var clients []*client
	for _, m := range []*app.Main{headerAPI, deadlineAPI, goneAPI} {
		c := newClient(t, m)
		c.mustLogin(email, password)
		if a := c.call("GET", "/api/v1/me", nil, nil); a.status != http.StatusOK {
			t.Fatalf("GET /api/v1/me: %d %s", a.status, a.body)
		}
		c.http.CloseIdleConnections()
		clients = append(clients, c)
	}
	baseline := runtime.NumGoroutine()

	id := activity.NewEventID()
	routes := []string{
		"/api/v1/activity",
		"/api/v1/activity?limit=5&q=laptop",
		"/api/v1/activity/" + id,
		"/api/v1/assets/" + id + "/history",
		"/api/v1/analytics/timeline",
		"/api/v1/analytics/top-users",
	}
	for i, name := range []string{"OpenSearch's answer times out", "the request's deadline passes"} {
		t.Run(name, func(t *testing.T) {
			c := *clients[i]
			c.tb = t
			for _, route := range routes {
				a := c.call("GET", route, nil, nil)
				var e errorAnswer
				a.decode(t, &e)
				if a.status != http.StatusServiceUnavailable || e.Error.Code != activity.EUNAVAILABLE || e.Error.Message == "" || a.header.Get("Retry-After") == "" {
					t.Errorf("GET %s answered %d (Retry-After %q): %s; want 503 unavailable with Retry-After", route, a.status, a.header.Get("Retry-After"), a.body)
				}
			}
		})
	}
	stacktest.Eventually(t, "every connection to the stalled OpenSearch closed", func() bool { return stall.Open() == 0 })

	t.Run("the client goes away", func(t *testing.T) {
		c := clients[2]
		before := stall.Accepted()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/activity", nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			res, err := c.http.Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
		stacktest.Eventually(t, "the API asks the stalled OpenSearch", func() bool { return stall.Accepted() > before })
		cancel()
		if err := <-done; err == nil {
			t.Fatal("the request was answered; OpenSearch never answers")
		}
		stacktest.Eventually(t, "the API stops waiting for OpenSearch once its client went away", func() bool { return stall.Open() == 0 })
	})

	for _, c := range clients {
		c.http.CloseIdleConnections()
	}
	var now int
	stacktest.Eventually(t, "the goroutines return to their level", func() bool {
		now = runtime.NumGoroutine()
		return now <= baseline
	})
	t.Logf("goroutines: %d before the stalled requests, %d after", baseline, now)
}
