package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/httpapi"
)

// writeClients is how many clients send creates at once, on both sides.
const writeClients = 8

// apiWrites measures POST /api/v1/assets through the platform, where each
// create also writes its asset.created event to the outbox, beside the
// same create without the event: a minimal handler that authenticates the
// same session, decodes and validates the same body and inserts the same
// assets row into the same schema, in a transaction, through a pool of the
// same size. Both sides get the same requests from the same clients, in
// alternating rounds, so that drift on a noisy machine hits both.
func apiWrites(e *env, n int) []Figure {
	token := sessionToken(e)
	client := newWriteClient()
	defer client.CloseIdleConnections()

	db, err := postgres.Open(e.dbcfg)
	if err != nil {
		fatalf("%v", err)
	}
	defer db.Close()
	baseURL, stop := startPlainWriter(db)
	defer stop()

	word := "Write" + e.id
	platform := &writeSide{url: e.base + "/api/v1/assets", token: token, tag: "P" + e.id, word: word, client: client}
	plain := &writeSide{url: baseURL + "/api/v1/assets", token: token, tag: "B" + e.id, word: word, client: client}
	apiURL, apiToken := startAPIOnly(e)
	alone := &writeSide{url: apiURL + "/api/v1/assets", token: apiToken, tag: "A" + e.id, word: word, client: client}

	// Warm every side up (connections, pools, plans) without measuring.
	platform.run(100, false)
	plain.run(100, false)
	alone.run(100, false)
	waitPipelineIdle(e, db, word, platform.next)

	rounds := 2
	per := max(1, n/rounds)
	for r := 0; r < rounds; r++ {
		sides := []*writeSide{platform, alone, plain}
		if r%2 == 1 {
			sides = []*writeSide{plain, alone, platform}
		}
		for _, s := range sides {
			s.run(per, true)
			if s == platform {
				// Let the relay and the indexer in the platform process
				// catch up, so that their work does not land in the
				// baseline's round.
				waitPipelineIdle(e, db, word, platform.next)
			}
		}
	}

	pRate, bRate := float64(len(platform.latencies))/platform.busy.Seconds(), float64(len(plain.latencies))/plain.busy.Seconds()
	aRate, a99 := float64(len(alone.latencies))/alone.busy.Seconds(), percentile(alone.latencies, 99)
	p99, b99 := percentile(platform.latencies, 99), percentile(plain.latencies, 99)
	p50, b50 := percentile(platform.latencies, 50), percentile(plain.latencies, 50)
	notes := fmt.Sprintf("%d POST /api/v1/assets per side from %d concurrent clients on keep-alive connections, in %d alternating rounds after 100 unmeasured warm-up requests per side; "+
		"body {name, asset_tag, category, value, currency}, every asset tag unique. "+
		"The figure is the platform (bin/fluxera serve with every role in one process): session lookup, strict JSON decoding, validation, then one transaction with the assets row, the asset.created event and its outbox row, and a coalesced NOTIFY to the relay after commit. "+
		"The baseline is a minimal fiber handler in the bench process on the same PostgreSQL schema with a pool of the same size (%d): the same session lookup (sessions joined to users by sha256 of the cookie token, on the unique token_hash index), the same strict decoding and domain.AssetCreate Normalize/Validate, then one transaction inserting the row through postgres.InsertAsset, the platform's own insert — "+
		"no event, no outbox row and no NOTIFY. "+
		"The platform's relay and indexer publish and index its events while it serves, on the same cores as PostgreSQL and OpenSearch; the bench waits for them to finish before each baseline round. p50: platform %.1f ms, baseline %.1f ms",
		len(platform.latencies), writeClients, rounds, poolSize(e.dbcfg), ms(p50), ms(b50))
	return []Figure{
		{Name: "api.write_per_s", Value: round(pRate), Unit: "writes/s",
			Baseline: &Baseline{Name: "api_no_outbox.write_per_s", Value: round(bRate)}, Ratio: round2(pRate / bRate), Notes: notes},
		{Name: "api.write_p99_ms", Value: ms(p99), Unit: "ms",
			Baseline: &Baseline{Name: "api_no_outbox.write_p99_ms", Value: ms(b99)}, Ratio: round2(ms(p99) / ms(b99)), Notes: notes},
		{Name: "api_role.write_per_s", Value: round(aRate), Unit: "writes/s",
			Baseline: &Baseline{Name: "api_no_outbox.write_per_s", Value: round(bRate)}, Ratio: round2(aRate / bRate), Notes: apiOnlyNotes},
		{Name: "api_role.write_p99_ms", Value: ms(a99), Unit: "ms",
			Baseline: &Baseline{Name: "api_no_outbox.write_p99_ms", Value: ms(b99)}, Ratio: round2(ms(a99) / ms(b99)), Notes: apiOnlyNotes},
	}
}

// apiOnlyNotes describes the api_role figures.
const apiOnlyNotes = "The same writes, in the same rounds, through a second platform process running only the API role (bin/fluxera api) on a schema of its own with no relay: " +
	"the outbox rows are written and left for later, so the figure is the write path with its event and nothing else, beside the same baseline."

// startAPIOnly starts bin/fluxera api on a schema of its own, creates a
// workspace there and returns the API's address and a session token.
func startAPIOnly(e *env) (string, string) {
	cfg := e.dbcfg
	cfg.Schema += "_api"
	_, base := startAPI(e, cfg, slices.Concat(weakArgon2Env, []string{"FLUXERA_LOG_LEVEL=warn"})...)
	return base, newWorkspaceSession(e, cfg, base, "api")
}

// newWorkspaceSession creates a workspace in cfg's schema, signs its
// owner in at the API at base and returns the session token.
func newWorkspaceSession(e *env, cfg postgres.Config, base, label string) string {
	db, err := postgres.Open(cfg)
	if err != nil {
		fatalf("%v", err)
	}
	defer db.Close()
	email, password := "bench-"+label+"-"+e.id+"@example.com", "bench-password"
	hasher := argon2.Hasher{Params: weakArgon2}
	if _, _, err := postgres.NewWorkspaceService(db, hasher).CreateWorkspace(context.Background(), domain.WorkspaceSetup{Name: "Bench API", OwnerEmail: email, OwnerName: "Bench Owner", OwnerPassword: password}); err != nil {
		fatalf("%v", err)
	}
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil || res.StatusCode != http.StatusOK {
		fatalf("login to the API process at %s failed: %v", base, err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == domainhttp.SessionCookie {
			return c.Value
		}
	}
	fatalf("no session cookie from the API process at %s", base)
	return ""
}

// newWriteClient is the keep-alive client of the write figures.
func newWriteClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * writeClients, MaxIdleConnsPerHost: 2 * writeClients, IdleConnTimeout: time.Minute,
	}}
}

// writeSide is one target of the write figures and what was measured on it.
type writeSide struct {
	url, token, tag, word string
	client                *http.Client

	next      int64 // assets created so far, for unique names and tags
	busy      time.Duration
	latencies []time.Duration
}

// run sends n creates from writeClients clients and, when measure is set,
// adds the wall time and each request's latency to the side's figures.
func (s *writeSide) run(n int, measure bool) {
	first := s.next
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < writeClients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				k := first + i + 1
				body := fmt.Sprintf(`{"name":"%s laptop %d","asset_tag":"%s-%d","category":"Laptop","value":"1299.00","currency":"EUR"}`, s.word, k, s.tag, k)
				t := time.Now()
				s.post(body)
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	s.next += int64(n)
	if measure {
		s.busy += elapsed
		s.latencies = append(s.latencies, lat...)
	}
}

func (s *writeSide) post(body string) {
	req, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	// As the console's own pages send it: the API refuses changes signed
	// in with the session cookie from other sites.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: s.token})
	res, err := s.client.Do(req)
	if err != nil {
		fatalf("POST %s: %v", s.url, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		fatalf("POST %s: status %d: %s", s.url, res.StatusCode, b)
	}
}

// sessionToken is the session the bench logged in with.
func sessionToken(e *env) string {
	u, _ := url.Parse(e.base)
	for _, c := range e.http.Jar.Cookies(u) {
		if c.Name == domainhttp.SessionCookie {
			return c.Value
		}
	}
	fatalf("no %s cookie after login", domainhttp.SessionCookie)
	return ""
}

// waitPipelineIdle waits until the platform's outbox is empty and the
// search API finds every asset created so far, or a minute has passed.
func waitPipelineIdle(e *env, db *postgres.DB, word string, created int64) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var pending int
		if err := db.NewRaw("SELECT count(*) FROM outbox").Scan(context.Background(), &pending); err != nil {
			fatalf("count pending outbox rows: %v", err)
		}
		if pending == 0 && searchTotal(e, word) >= created {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Printf("bench: the platform's pipeline was still busy after a minute; continuing\n")
}

func poolSize(cfg postgres.Config) int {
	cfg.Validate()
	return cfg.MaxConns
}

// startPlainWriter serves the baseline create on a loopback port and
// returns its base URL and a function that stops it.
func startPlainWriter(db *postgres.DB) (string, func()) {
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		BodyLimit:             1 << 20,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          120 * time.Second,
		IdleTimeout:           120 * time.Second,
	})
	app.Post("/api/v1/assets", func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		sum := sha256.Sum256([]byte(c.Cookies(domainhttp.SessionCookie)))
		var who struct {
			SessionID   string `bun:"session_id"`
			UserID      string `bun:"user_id"`
			WorkspaceID string `bun:"workspace_id"`
			Email       string `bun:"email"`
			Name        string `bun:"name"`
			Role        string `bun:"role"`
		}
		err := db.NewSelect().
			TableExpr("sessions AS s").
			Join("JOIN users AS u ON u.id = s.user_id").
			ColumnExpr("s.id AS session_id, u.id AS user_id, u.workspace_id, u.email, u.name, u.role").
			Where("s.token_hash = ?", sum[:]).
			Where("s.ended_at IS NULL AND s.expires_at > ? AND u.active", time.Now().UTC()).
			Scan(ctx, &who)
		if errors.Is(err, sql.ErrNoRows) {
			return fiber.NewError(fiber.StatusUnauthorized, "session expired or unknown")
		}
		if err != nil {
			return err
		}
		var in domain.AssetCreate
		if err := httpapi.DecodeJSON(c, &in); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		in.Normalize()
		if err := in.Validate(); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		if in.Status == domain.AssetAssigned {
			return fiber.NewError(fiber.StatusBadRequest, "create the asset first, then assign it to a member")
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		var asset domain.Asset
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			asset, err = postgres.InsertAsset(ctx, tx, who.WorkspaceID, in, now)
			return err
		})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(asset)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("listen: %v", err)
	}
	go app.Listener(ln)
	return "http://" + ln.Addr().String(), func() { app.ShutdownWithTimeout(10 * time.Second) }
}
