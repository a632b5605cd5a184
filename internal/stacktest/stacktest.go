// Package stacktest is the one test harness for the local stack
// (PostgreSQL, Kafka, OpenSearch, Redis and SeaweedFS's S3 on loopback,
// brought up by make up): whether a missing service fails or skips a test,
// whether a test may stop or kill services, names of a test's own, waiting
// for a condition, a Redis key prefix and an S3 bucket of a test's own, and
// a stand-in for a service that hangs.
// Tests in every package, and the end-to-end tests in e2e/, use it.
package stacktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxera/activity"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// Required reports whether a missing service must fail the test run
// instead of skipping it: always under make test and in CI.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("FLUXERA_REQUIRE_STACK") == "1"
}

// DisruptiveEnv is the variable that lets tests stop, kill or restart
// services: make test sets it to 1.
const DisruptiveEnv = "FLUXERA_DISRUPTIVE_TESTS"

// SkipUnlessDisruptive skips the test unless FLUXERA_DISRUPTIVE_TESTS=1.
// Every test that stops, kills or restarts a service (a stack service, a
// platform process or a server of the test's own) calls it first, before
// it touches anything, so that a plain go test ./... with the stack
// reachable never stops OpenSearch or Kafka under other tests' feet.
func SkipUnlessDisruptive(tb testing.TB) {
	tb.Helper()
	if os.Getenv(DisruptiveEnv) != "1" {
		tb.Skipf("this test stops, kills or restarts a service; set %s=1 to run it (make test does), with the stack to itself", DisruptiveEnv)
	}
}

// MustReach skips the test, or under make test and in CI fails it, when
// nothing answers at addr; name says which service that is.
func MustReach(tb testing.TB, name, addr string) {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if Required() {
			tb.Fatalf("%s is not reachable at %s: %v (make test starts the stack; run make up)", name, addr, err)
		}
		tb.Skipf("%s is not reachable at %s; run make up to start the local stack", name, addr)
	}
	conn.Close()
}

// RandomID returns ten random hex digits, for the names of a test's own
// schema, topics, indices and keys.
func RandomID() string {
	b := make([]byte, 5)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Eventually polls cond every 100 ms until it holds, and fails the test
// when it still does not after a minute. The deadline only bounds a
// failing test; it asserts nothing about speed.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PostgresURL is the local stack's PostgreSQL: FLUXERA_DATABASE_URL, or
// the port make up serves it on.
func PostgresURL() string {
	if u := os.Getenv("FLUXERA_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://fluxera:fluxera@127.0.0.1:15432/fluxera?sslmode=disable"
}

// OpenSearchURL is the local stack's OpenSearch: the first of
// FLUXERA_OPENSEARCH_URL (comma-separated), or the port make up serves it
// on.
func OpenSearchURL() string {
	if u := os.Getenv("FLUXERA_OPENSEARCH_URL"); u != "" {
		first, _, _ := strings.Cut(u, ",")
		return strings.TrimSpace(first)
	}
	return "http://127.0.0.1:19200"
}

// HostPort is the host:port of a service URL, for MustReach.
func HostPort(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Host
}

// KafkaBrokers are the local stack's Kafka brokers: FLUXERA_KAFKA_BROKERS
// (comma-separated), or the port make up serves Kafka on.
func KafkaBrokers() []string {
	if b := os.Getenv("FLUXERA_KAFKA_BROKERS"); b != "" {
		return strings.Split(b, ",")
	}
	return []string{"127.0.0.1:19092"}
}

// MustTopic creates a topic of the test's own, named under scope, with
// the given partitions on the local stack's Kafka, waits until every
// partition has a leader, and deletes the topic when the test ends.
func MustTopic(tb testing.TB, scope string, partitions int) string {
	tb.Helper()
	brokers := KafkaBrokers()
	MustReach(tb, "Kafka", brokers[0])
	name := "test." + scope + "." + RandomID()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	res, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: name, NumPartitions: partitions, ReplicationFactor: 1}},
	})
	if err != nil {
		tb.Fatalf("create topic %s: %v", name, err)
	}
	if err := res.Errors[name]; err != nil {
		tb.Fatalf("create topic %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{name}})
	})
	Eventually(tb, "every partition of "+name+" has a leader", func() bool {
		meta, err := client.Metadata(context.Background(), &kafka.MetadataRequest{Topics: []string{name}})
		if err != nil || len(meta.Topics) != 1 || meta.Topics[0].Error != nil || len(meta.Topics[0].Partitions) != partitions {
			return false
		}
		for _, p := range meta.Topics[0].Partitions {
			if p.Error != nil || p.Leader.ID < 0 {
				return false
			}
		}
		return true
	})
	return name
}

// RedisAddr is the local stack's Redis: FLUXERA_REDIS_ADDR, or the port
// make up serves it on.
func RedisAddr() string {
	if a := os.Getenv("FLUXERA_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:16379"
}

// MustRedis returns a client of the local stack's Redis and a key prefix
// of the test's own, under scope, whose keys are deleted when the test
// ends.
func MustRedis(tb testing.TB, scope string) (*goredis.Client, string) {
	tb.Helper()
	addr := RedisAddr()
	MustReach(tb, "Redis", addr)
	client := goredis.NewClient(&goredis.Options{Addr: addr})
	prefix := "test:" + scope + ":" + RandomID() + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	return client, prefix
}

// S3 is where and how to reach S3-compatible storage.
type S3 struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Region    string
	Secure    bool
}

// S3Stack is the local stack's S3 storage: the FLUXERA_S3_* settings
// (see deploy/local/stack.sh env), or the port and the fixed local
// credentials make up serves SeaweedFS with.
func S3Stack() S3 {
	get := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	return S3{
		Endpoint:  S3Endpoint(),
		AccessKey: get("FLUXERA_S3_ACCESS_KEY", "fluxera-local"),
		SecretKey: get("FLUXERA_S3_SECRET_KEY", "fluxera-local-secret"),
		Region:    get("FLUXERA_S3_REGION", "us-east-1"),
		Secure:    os.Getenv("FLUXERA_S3_SECURE") == "true" || os.Getenv("FLUXERA_S3_SECURE") == "1",
	}
}

// S3Endpoint is the local stack's S3 storage, host:port:
// FLUXERA_S3_ENDPOINT, or the port make up serves SeaweedFS's S3 on.
func S3Endpoint() string {
	if e := os.Getenv("FLUXERA_S3_ENDPOINT"); e != "" {
		return e
	}
	return "127.0.0.1:18333"
}

// MustS3Bucket returns the local stack's S3 storage and the name of a
// bucket of the test's own, under scope (lower-case letters, digits and
// hyphens), that does not exist yet. The test's end removes the bucket
// with every object and unfinished upload in it.
func MustS3Bucket(tb testing.TB, scope string) (S3, string) {
	tb.Helper()
	s := S3Stack()
	MustReach(tb, "S3 (SeaweedFS)", s.Endpoint)
	client, err := minio.New(s.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Secure: s.Secure, Region: s.Region,
	})
	if err != nil {
		tb.Fatalf("s3 client for %s: %v", s.Endpoint, err)
	}
	bucket := "test-" + scope + "-" + RandomID()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if ok, err := client.BucketExists(ctx, bucket); err != nil || !ok {
			return
		}
		for u := range client.ListIncompleteUploads(ctx, bucket, "", true) {
			if u.Err == nil {
				client.RemoveIncompleteUpload(ctx, bucket, u.Key)
			}
		}
		objects := client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true})
		for res := range client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
			tb.Logf("remove %s from test bucket %s: %v", res.ObjectName, bucket, res.Err)
		}
		if err := client.RemoveBucket(ctx, bucket); err != nil {
			tb.Logf("remove test bucket %s: %v", bucket, err)
		}
	})
	return s, bucket
}

// Stalled is a loopback TCP listener standing in for a service that hangs:
// it accepts every connection and never answers.
type Stalled struct {
	// Addr is where it listens, host:port.
	Addr string

	mu       sync.Mutex
	accepted int
	open     map[net.Conn]bool
}

// MustStall starts a Stalled on 127.0.0.1 that the test's end closes,
// with every connection it holds.
func MustStall(tb testing.TB) *Stalled {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Stalled{Addr: ln.Addr().String(), open: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.accepted++
			s.open[conn] = true
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Read and drop what the client sends until it hangs up.
				io.Copy(io.Discard, conn)
				conn.Close()
				s.mu.Lock()
				delete(s.open, conn)
				s.mu.Unlock()
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for conn := range s.open {
			conn.Close()
		}
		s.mu.Unlock()
		wg.Wait()
	})
	return s
}

// Accepted is how many connections it has accepted.
func (s *Stalled) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Open is how many of them the client has not closed.
func (s *Stalled) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// PDFText returns the text of the PDF doc as pdftotext reads it, page
// after page, with runs of white space made one space, so that a test can
// look for what a reader sees. pdftotext comes with Debian's
// poppler-utils, which make up installs with the stack's other packages;
// without it the test fails, saying so.
func PDFText(tb testing.TB, doc []byte) string {
	tb.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		tb.Fatalf("pdftotext is not installed (%v); run make up, which installs it with poppler-utils", err)
	}
	in := filepath.Join(tb.TempDir(), "doc.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		tb.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-layout", "-enc", "UTF-8", in, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("pdftotext: %v: %s", err, stderr.String())
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// OpenPITs is how many points in time the OpenSearch at url holds open on
// the activity indices under prefix: one search context per shard of each.
func OpenPITs(tb testing.TB, url, prefix string) int {
	tb.Helper()
	res, err := http.Get(url + "/" + activity.IndexPattern(prefix) + "/_stats/search?filter_path=_all.total.search.point_in_time_current")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var stats struct {
		All struct {
			Total struct {
				Search struct {
					Current *int `json:"point_in_time_current"`
				} `json:"search"`
			} `json:"total"`
		} `json:"_all"`
	}
	if err := json.NewDecoder(res.Body).Decode(&stats); err != nil || stats.All.Total.Search.Current == nil {
		tb.Fatalf("read the indices' search stats: %v (status %d)", err, res.StatusCode)
	}
	return *stats.All.Total.Search.Current
}

// MustChromium returns the path of Debian's chromium, which the console's
// browser tests drive headless. Without it the test is skipped, or, under
// make test and in CI, fails: make up installs it.
func MustChromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "chromium is not installed; make up installs it (Debian's chromium package)"
	if Required() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// ProfileCPU writes a CPU profile of the rest of the test to path, and
// does nothing when path is empty: for the opt-in profiling tests.
func ProfileCPU(tb testing.TB, path string) {
	tb.Helper()
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		pprof.StopCPUProfile()
		f.Close()
	})
}
