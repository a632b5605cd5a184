package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/stacktest"
)

// floodRun sizes the login flood figure.
type floodRun struct {
	logins, accounts, accepts int
}

// loginFlood measures what a flood of password checks costs the API in
// memory: a bin/fluxera api process of its own, hashing with the default
// (OWASP) argon2id parameters, gets wrong-password logins for a set of
// accounts and as many invitation acceptances with made-up tokens, all at
// once. The figure is the process's peak resident memory over the flood
// (VmHWM), beside its resident memory when idle just before.
func loginFlood(e *env, run floodRun) []Figure {
	if run.logins <= 0 && run.accepts <= 0 {
		return nil
	}
	cfg := e.dbcfg
	cfg.Schema += "_login"
	// Every login comes from an address of its own behind a loopback
	// proxy, as a spread-out flood would, so that the accounts' limits, not
	// the address's, decide which passwords are checked.
	cmd, base := startAPI(e, cfg, "FLUXERA_LOG_LEVEL=error", "FLUXERA_TRUSTED_PROXIES=127.0.0.1")

	// The accounts' passwords are hashed as the platform hashes them, so
	// that each check costs what it costs in production.
	db, err := postgres.Open(cfg)
	if err != nil {
		fatalf("%v", err)
	}
	hasher := argon2.Hasher{Params: argon2.DefaultParams}
	emails := make([]string, max(1, run.accounts))
	for i := range emails {
		emails[i] = fmt.Sprintf("flood-%d-%s@example.com", i, e.id)
		if _, _, err := postgres.NewWorkspaceService(db, hasher).CreateWorkspace(context.Background(), domain.WorkspaceSetup{
			Name: fmt.Sprintf("Flood %d", i), OwnerEmail: emails[i], OwnerName: "Flood Owner", OwnerPassword: "the-right-password",
		}); err != nil {
			fatalf("create the flood's accounts: %v", err)
		}
	}
	db.Close()

	// The process runs with the platform's defaults; read them from the
	// same code.
	hashing, auth := argon2.Config{}, postgres.AuthConfig{}
	if err := hashing.Validate(); err != nil {
		fatalf("%v", err)
	}
	if err := auth.Validate(); err != nil {
		fatalf("%v", err)
	}

	pid := cmd.Process.Pid
	idle := statusKB(pid, "VmRSS")
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: run.logins + run.accepts}}
	defer client.CloseIdleConnections()
	type result struct {
		login  bool
		status int
	}
	results := make([]result, run.logins+run.accepts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, body, login := "/api/v1/invitations/accept", map[string]string{"token": "made-up-" + stacktest.RandomID(), "password": "a-long-enough-password"}, false
			if i < run.logins {
				path, body, login = "/api/v1/auth/login", map[string]string{"email": emails[i%len(emails)], "password": "wrong-" + stacktest.RandomID()}, true
			}
			raw, _ := json.Marshal(body)
			req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", i/250, i%250+1))
			<-start
			res, err := client.Do(req)
			if err != nil {
				fatalf("flood %s: %v", path, err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			results[i] = result{login: login, status: res.StatusCode}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	peak := statusKB(pid, "VmHWM")

	logins, accepts := map[int]int{}, map[int]int{}
	for _, r := range results {
		if r.status >= 500 && r.status != http.StatusServiceUnavailable {
			fatalf("the flood got a %d", r.status)
		}
		if r.login {
			logins[r.status]++
		} else {
			accepts[r.status]++
		}
	}
	share := func(n, of int) float64 { return round(100 * float64(n) / float64(max(1, of))) }
	refused := logins[http.StatusTooManyRequests] + logins[http.StatusServiceUnavailable]
	notes := fmt.Sprintf("%d wrong-password logins for %d accounts (%d each, every one from an address of its own through a trusted loopback proxy) and %d invitation acceptances with made-up tokens, all sent at once to a bin/fluxera api process of its own (%.1f s until the last answer). "+
		"The process hashes with the default argon2id parameters (m=%d KiB, t=%d, p=%d, the accounts' hashes too), at most %d at once (FLUXERA_ARGON2_CONCURRENCY's default, twice its %d cores), each waiting up to %s for its turn; an account's passwords are no longer checked after %d failures. "+
		"The figure is the process's VmHWM (/proc/<pid>/status) after the flood, the baseline its VmRSS when idle just before, with the accounts made. "+
		"Logins answered %s: %.1f%% 429 or 503 (%.1f%% 429, %.1f%% 503), %.1f%% 401; acceptances answered %s (a made-up token is refused before any hash)",
		run.logins, len(emails), run.logins/len(emails), run.accepts, took.Seconds(),
		hashing.MemoryKiB, hashing.Time, hashing.Threads, hashing.Concurrency, runtime.NumCPU(), hashing.QueueWait, auth.MaxFailuresPerAccount,
		statusList(logins), share(refused, run.logins), share(logins[http.StatusTooManyRequests], run.logins), share(logins[http.StatusServiceUnavailable], run.logins), share(logins[http.StatusUnauthorized], run.logins),
		statusList(accepts))
	return []Figure{{
		Name: "api.login_flood_peak_rss_mb", Value: round(float64(peak) / 1024), Unit: "MB",
		Baseline: &Baseline{Name: "api.idle_rss_mb", Value: round(float64(idle) / 1024)}, Ratio: round2(float64(peak) / float64(idle)),
		Notes: notes,
	}}
}

// statusList renders answers counted by status as "401 × 250, 429 × 250".
func statusList(n map[int]int) string {
	statuses := make([]int, 0, len(n))
	for s := range n {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		parts[i] = fmt.Sprintf("%d × %d", s, n[s])
	}
	return strings.Join(parts, ", ")
}
