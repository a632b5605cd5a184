// Package app wires the platform's components into the roles a process
// runs (the API, the outbox relay, the indexer, the detector and the
// notifier) and into the commands that prepare and seed the stack. Main
// holds the wiring; cmd/fluxera and the end-to-end tests both run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/alert/notify"
	notifykafka "github.com/fluxera/activity/alert/notify/kafka"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/disk"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ingest/enrich"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	searchhttp "github.com/fluxera/activity/searchapi/http"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// Roles a process can run. The detector raises alerts and stores them with
// their deliveries; the notifier sends those deliveries, so the two scale
// apart.
const (
	RoleAPI    = "api"
	RoleRelay  = "relay"
	RoleIngest = "ingest"
	RoleDetect = "detect"
	RoleNotify = "notify"
)

// Main wires the platform's components together. Tests use it to run the
// real wiring in-process.
type Main struct {
	Config   Config
	Log      *logrus.Logger
	Registry *prometheus.Registry

	// Started is closed once every role is up (the HTTP listener bound).
	Started chan struct{}
	// HTTPAddr is the address the API listens on, known once Started.
	HTTPAddr string
	// API is the HTTP server of the API role, once Started.
	API *domainhttp.Server

	// AlertSink and AlertConfigs, when set, stand in for the PostgreSQL
	// ones the detector stores alerts in and reads workspaces' working
	// hours, detection settings and rules from.
	AlertSink    alert.Sink
	AlertConfigs alert.Configs

	// DB is the PostgreSQL connection, once a role or command has opened it.
	DB *postgres.DB
	os *opensearchapi.Client
}

// NewMain returns a Main for cfg with a JSON logger on stderr.
func NewMain(cfg Config) *Main {
	log := logrus.New()
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetOutput(os.Stderr)
	if lvl, err := logrus.ParseLevel(cfg.LogLevel); err == nil {
		log.SetLevel(lvl)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Main{Config: cfg, Log: log, Registry: reg, Started: make(chan struct{})}
}

// Close releases connections.
func (m *Main) Close() {
	if m.DB != nil {
		m.DB.Close()
	}
}

func (m *Main) Database() (*postgres.DB, error) {
	if m.DB == nil {
		db, err := postgres.Open(m.Config.Postgres)
		if err != nil {
			return nil, err
		}
		m.DB = db
	}
	return m.DB, nil
}

func (m *Main) search() (*opensearchapi.Client, error) {
	if m.os == nil {
		c, err := ingestos.NewClient(m.Config.OpenSearch.URLs)
		if err != nil {
			return nil, fmt.Errorf("opensearch client: %w", err)
		}
		m.os = c
	}
	return m.os, nil
}

// Migrate applies the database migrations, installs the index template and
// creates the Kafka topics.
func (m *Main) Migrate(ctx context.Context) error {
	if err := m.Prepare(ctx, RoleAPI, RoleRelay, RoleIngest); err != nil {
		return err
	}
	m.Log.WithField("component", "migrate").Info("Database, index template and topics are up to date.")
	return nil
}

// Prepare brings what the roles need up to date, and nothing else: the
// database for the API, the relay and the detector, topics for the relay,
// the indexer and the detector, the index template for the indexer. Every
// step is idempotent.
func (m *Main) Prepare(ctx context.Context, roles ...string) error {
	var needDB, needTopics, needTemplate bool
	for _, r := range roles {
		needDB = needDB || r == RoleAPI || r == RoleRelay || r == RoleDetect || r == RoleNotify
		needTopics = needTopics || r == RoleRelay || r == RoleIngest || r == RoleDetect || r == RoleNotify
		needTemplate = needTemplate || r == RoleIngest
	}
	if needDB {
		db, err := m.Database()
		if err != nil {
			return err
		}
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	if needTemplate {
		osc, err := m.search()
		if err != nil {
			return err
		}
		if err := ingestos.EnsureTemplate(ctx, osc, m.Config.OpenSearch); err != nil {
			return err
		}
	}
	if needTopics {
		if err := m.ensureTopics(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ensureTopics creates the activity and dead-letter topics unless they exist.
func (m *Main) ensureTopics(ctx context.Context) error {
	p := m.Config.Publisher
	client := &kafka.Client{Addr: kafka.TCP(p.Brokers...), Timeout: 10 * time.Second}
	var topics []kafka.TopicConfig
	for _, t := range []string{p.Topic, m.Config.Consumer.DeadLetterTopic, m.Config.AlertTopic} {
		topics = append(topics, kafka.TopicConfig{Topic: t, NumPartitions: p.Partitions, ReplicationFactor: p.ReplicationFactor})
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("create topics on %v: %w", p.Brokers, err)
	}
	for topic, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", topic, err)
		}
	}
	return nil
}

// Run runs the given roles until ctx ends or one of them fails, then stops
// the others and returns the first failure.
func (m *Main) Run(ctx context.Context, roles ...string) error {
	if err := m.Prepare(ctx, roles...); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(roles)+1)
	start := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	hasAPI := false
	for _, r := range roles {
		switch r {
		case RoleAPI:
			hasAPI = true
			srv, ln, err := m.apiServer()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error { return serveFiber(ctx, srv, ln) })
		case RoleRelay:
			rl, closeFn, err := m.relay()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error { defer closeFn(); return rl.Run(ctx) })
		case RoleIngest:
			ix, closeFn, err := m.indexer()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error { defer closeFn(); return ix.Run(ctx) })
			lag := ingestkafka.NewLagGauge(m.Config.Consumer, m.Registry, m.Log.WithField("component", "ingest"))
			start("lag", func(ctx context.Context) error { lag.Run(ctx); return nil })
		case RoleDetect:
			d, closeFn, err := m.detector()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error { defer closeFn(); return d.Run(ctx) })
		case RoleNotify:
			n, closeFn, err := m.notifier()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error { defer closeFn(); return n.Run(ctx) })
		default:
			return fmt.Errorf("unknown role %q", r)
		}
	}
	if !hasAPI {
		ln, err := net.Listen("tcp", m.Config.OpsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics on %s: %w", m.Config.OpsAddr, err)
		}
		start("ops", func(ctx context.Context) error { return serveOps(ctx, ln, m.Registry) })
	}
	m.Log.WithField("component", "main").WithField("roles", roles).Info("Fluxera is running.")
	close(m.Started)
	wg.Wait()
	close(errs)
	return <-errs
}

func (m *Main) apiServer() (*domainhttp.Server, net.Listener, error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	osc, err := m.search()
	if err != nil {
		return nil, nil, err
	}
	hasher := argon2.Hasher{Params: m.Config.Argon2}
	auth, err := postgres.NewAuthService(db, hasher, m.Config.Auth)
	if err != nil {
		return nil, nil, err
	}
	box, err := m.KeyBox()
	if err != nil {
		return nil, nil, err
	}
	assets := postgres.NewAssetService(db)
	assets.Images = disk.Store{Dir: m.Config.ImageDir}
	assets.ImagePolicy = domain.ImagePolicy{MaxBytes: int64(m.Config.ImageMaxBytes)}
	// Webhook and chat URLs are checked when saved against the policy the
	// notifier connects with: public addresses only.
	targets := m.Config.Targets
	srv := domainhttp.NewServer(m.Config.HTTP, domainhttp.Services{
		Auth:          auth,
		Authenticator: auth,
		Users:         postgres.NewUserService(db, hasher),
		Tokens:        postgres.NewTokenService(db),
		Invitations:   postgres.NewInvitationService(db, hasher, m.Config.InvitationTTL),
		Assets:        assets,
		Licenses:      postgres.NewLicenseService(db, box),
		Settings:      postgres.NewSettingsService(db),
		AlertRules:    postgres.NewAlertRuleService(db, targets),
		Alerts:        postgres.NewAlertService(db),
		Detection:     postgres.NewDetectionService(db, box, targets),
		Denials:       postgres.NewAccessRecorder(db),
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("database: %w", err)
			}
			return nil
		},
	}, m.Log.WithField("component", "api"))
	srv.App.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})))
	// Cursors are signed with a key derived from the secret key, which
	// every instance shares.
	secret, err := m.secretKey()
	if err != nil {
		return nil, nil, err
	}
	finder := searchos.NewFinder(osc, m.Config.OpenSearch.IndexPrefix, searchos.WithCursorKey(secret))
	searchhttp.Register(srv.API, searchhttp.Services{Finder: finder, Analyst: finder, Entries: finder})
	srv.NotFound()
	ln, err := net.Listen("tcp", m.Config.HTTP.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", m.Config.HTTP.Addr, err)
	}
	m.HTTPAddr, m.API = ln.Addr().String(), srv
	return srv, ln, nil
}

func serveFiber(ctx context.Context, srv *domainhttp.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.App.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}

func serveOps(ctx context.Context, ln net.Listener, reg *prometheus.Registry) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (m *Main) relay() (*relay.Relay, func(), error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	pub := domainkafka.NewPublisher(m.Config.Publisher)
	return &relay.Relay{
		Config:    m.Config.Relay,
		Outbox:    postgres.NewOutbox(db),
		Publisher: pub,
		Metrics:   relay.NewMetrics(m.Registry),
		Log:       m.Log.WithField("component", "relay"),
	}, func() { pub.Close() }, nil
}

func (m *Main) indexer() (*ingest.Indexer, func(), error) {
	osc, err := m.search()
	if err != nil {
		return nil, nil, err
	}
	locator, err := m.locator()
	if err != nil {
		return nil, nil, err
	}
	src := ingestkafka.NewSource(m.Config.Consumer)
	dlq := ingestkafka.NewDeadLetters(m.Config.Consumer)
	return &ingest.Indexer{
		Config:      m.Config.Ingest,
		Source:      src,
		Sink:        ingestos.NewSink(osc),
		DeadLetters: dlq,
		Metrics:     ingest.NewMetrics(m.Registry),
		Enricher:    enrich.Enricher{Locator: locator},
		Log:         m.Log.WithField("component", "ingest"),
	}, func() { src.Close(); dlq.Close() }, nil
}

// detector wires the detection engine: the detector's consumer group,
// Redis for what the detectors remember, and PostgreSQL for workspaces'
// configurations and the alerts raised, unless m.AlertSink or
// m.AlertConfigs stand in for them.
func (m *Main) detector() (*detect.Detector, func(), error) {
	sink, configs := m.AlertSink, m.AlertConfigs
	if sink == nil || configs == nil {
		db, err := m.Database()
		if err != nil {
			return nil, nil, err
		}
		if sink == nil {
			sink = postgres.NewAlertSink(db)
		}
		if configs == nil {
			configs = postgres.NewAlertConfigs(db, m.Config.AlertConfigTTL)
		}
	}
	locator, err := m.locator()
	if err != nil {
		return nil, nil, err
	}
	consumer := m.Config.Consumer
	consumer.GroupID = m.Config.DetectGroup
	src := ingestkafka.NewSource(consumer)
	rdb := goredis.NewClient(&goredis.Options{Addr: m.Config.RedisAddr})
	return &detect.Detector{
		Config:  m.Config.Detect,
		Source:  src,
		Store:   ingestredis.NewStore(rdb),
		Configs: configs,
		Sink:    sink,
		Locator: locator,
		Log:     m.Log.WithField("component", "detect"),
		Prefix:  m.Config.RedisPrefix,
		Metrics: detect.NewMetrics(m.Registry),
	}, func() { src.Close(); rdb.Close() }, nil
}

// notifier sends the deliveries of stored alerts: webhooks and chat
// messages through the address policy, emails through the SMTP server,
// and every alert to the alert topic.
func (m *Main) notifier() (*notify.Worker, func(), error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	box, err := m.KeyBox()
	if err != nil {
		return nil, nil, err
	}
	queue := postgres.NewAlertQueue(db, box)
	topic := notifykafka.NewTopicSender(m.Config.Publisher.Brokers, m.Config.AlertTopic)
	client := m.Config.Targets.HTTPClient(notify.DefaultHTTPTimeout)
	return &notify.Worker{
		Config: m.Config.Notify,
		Queue:  queue,
		Senders: map[string]notify.Sender{
			alert.ChannelWebhook: &notify.Webhook{Client: client},
			alert.ChannelChat:    &notify.Chat{Client: client},
			alert.ChannelEmail:   &notify.Email{Config: m.Config.SMTP},
			alert.TargetTopic:    topic,
		},
		Log:     m.Log.WithField("component", "notify"),
		Metrics: notify.NewMetrics(m.Registry),
	}, func() { topic.Close(); queue.Close() }, nil
}

// locator is the table addresses are located with: the configured file,
// or the bundled example table.
func (m *Main) locator() (*enrich.Table, error) {
	if m.Config.GeoIPFile == "" {
		return enrich.Bundled(), nil
	}
	f, err := os.Open(m.Config.GeoIPFile)
	if err != nil {
		return nil, fmt.Errorf("FLUXERA_GEOIP_FILE: %w", err)
	}
	defer f.Close()
	t, err := enrich.LoadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("FLUXERA_GEOIP_FILE %s: %w", m.Config.GeoIPFile, err)
	}
	return t, nil
}
