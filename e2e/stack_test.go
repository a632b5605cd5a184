package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// MustStack skips (or, under make test and CI, fails) the test when the
// local stack does not answer, and returns a configuration isolated for
// this test: its own schema, topics, consumer group and index prefix.
func MustStack(tb testing.TB) app.Config {
	tb.Helper()
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		tb.Fatal(err)
	}
	for name, addr := range map[string]string{
		"PostgreSQL": stacktest.HostPort(cfg.Postgres.URL),
		"Kafka":      cfg.Publisher.Brokers[0],
		"OpenSearch": stacktest.HostPort(cfg.OpenSearch.URLs[0]),
		"Redis":      cfg.Redis.Addr,
	} {
		stacktest.MustReach(tb, name, addr)
	}
	id := stacktest.RandomID()
	cfg.Postgres.Schema = "test_" + id
	cfg.Postgres.NotifyChannel = ""
	cfg.Publisher.Topic = "test.activity." + id
	cfg.Consumer.Topic = cfg.Publisher.Topic
	cfg.Consumer.DeadLetterTopic = "test.dlq." + id
	cfg.Consumer.GroupID = "test-indexer-" + id
	cfg.DetectGroup = "test-detector-" + id
	cfg.Deliver.Group = "test-deliverer-" + id
	cfg.AlertTopic = "test.alerts." + id
	cfg.DetectDeadLetterTopic = "test.detect.dlq." + id
	cfg.OCSF.Topic = "test.ocsf." + id
	cfg.OCSF.GroupID = "test-ocsf-" + id
	cfg.RedisPrefix = "test:" + id + ":"
	cfg.OpenSearch.IndexPrefix = "test-" + id
	cfg.Ingest.IndexPrefix = cfg.OpenSearch.IndexPrefix
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.OpsAddr = "127.0.0.1:0"
	// Hashing is cheap here, and says so: the tests check behaviour, not
	// the hash's cost.
	cfg.Argon2.Params, cfg.Argon2.WeakOK = postgrestest.Argon2, true
	key := make([]byte, 32)
	rand.Read(key)
	cfg.SecretKey = base64.StdEncoding.EncodeToString(key)
	cfg.ImageDir = tb.TempDir()
	// Archived files go to a folder of the test's own; tests of the S3
	// store give it a bucket of their own (see mustS3Archive).
	cfg.Archive, cfg.ArchiveDir = app.ArchiveDir, tb.TempDir()
	// The tests talk plain HTTP on loopback, where a Secure cookie would
	// never be sent back.
	cfg.HTTP.CookieSecure = false
	cfg.LogLevel = "warn"
	if err := cfg.Postgres.Validate(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dropTestData(tb, cfg) })
	return cfg
}

// dropTestData removes the test's schema and indices.
func dropTestData(tb testing.TB, cfg app.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if db, err := postgres.Open(cfg.Postgres); err == nil {
		db.DropSchema(ctx)
		db.Close()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, cfg.OpenSearch.URLs[0]+"/"+cfg.OpenSearch.IndexPrefix+"-activity-*", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	kc := &kafka.Client{Addr: kafka.TCP(cfg.Publisher.Brokers...), Timeout: 10 * time.Second}
	kc.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{cfg.Publisher.Topic, cfg.Consumer.DeadLetterTopic, cfg.DetectDeadLetterTopic, cfg.AlertTopic, cfg.OCSF.Topic}})
	req, _ = http.NewRequestWithContext(ctx, http.MethodDelete, cfg.OpenSearch.URLs[0]+"/_index_template/"+cfg.OpenSearch.IndexPrefix+"-activity", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

// MustStart runs the roles in-process until the test ends.
func MustStart(tb testing.TB, cfg app.Config, roles ...string) *app.Main {
	tb.Helper()
	m := app.NewMain(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, roles...) }()
	select {
	case <-m.Started:
	case err := <-done:
		cancel()
		tb.Fatalf("platform did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		tb.Fatal("platform did not start within a minute")
	}
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("platform stopped with an error: %v", err)
		}
		m.Close()
	})
	return m
}

// MustWorkspace creates a workspace whose owner has the returned email and
// password.
func MustWorkspace(tb testing.TB, cfg app.Config, name string) (email, password string) {
	tb.Helper()
	db, err := postgres.Open(cfg.Postgres)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	return postgrestest.MustWorkspace(tb, db, argon2.Hasher{Params: cfg.Argon2.Params}, name)
}

// client talks to the API like a browser on the console's own pages: it
// keeps the session cookie and says where its requests come from.
type client struct {
	tb   testing.TB
	base string
	http *http.Client
}

func newClient(tb testing.TB, m *app.Main) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: "http://" + m.HTTPAddr, http: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: contractCheck{tb: tb, next: sameOrigin{}}}}
}

// sameOrigin sends every request with the Origin header a browser sends
// from a page of the same origin, unless the request says otherwise.
type sameOrigin struct{}

func (sameOrigin) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Origin") == "" && req.Header.Get("Sec-Fetch-Site") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// do sends a request and decodes a JSON answer into out (if not nil). It
// returns the status.
func (c *client) do(method, path, contentType, body string, out any) int {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "fluxera-test/1.0")
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.tb.Fatalf("%s %s: answer is not JSON (%d): %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode
}

func (c *client) mustLogin(email, password string) {
	c.tb.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	if status := c.do("POST", "/api/v1/auth/login", "application/json", string(body), nil); status != http.StatusOK {
		c.tb.Fatalf("login as %s: status %d", email, status)
	}
}
