// Package app wires the platform's components into the roles a process
// runs (the API, the outbox relay, the indexer, the detector, the notifier,
// the report scheduler and the deliverer of activity webhooks) and into the
// commands that prepare and seed the stack. Main holds the wiring;
// cmd/fluxera and the end-to-end tests both run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/segmentio/kafka-go"
	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/ingest/enrich/maxmind"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/integration/stream"
	ocsfkafka "github.com/fluxera/activity/ocsf/kafka"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// Roles a process can run. The detector raises alerts and stores them with
// their deliveries; the notifier sends those deliveries, so the two scale
// apart. The scheduler generates and sends the custom reports whose
// schedules are due.
const (
	RoleAPI      = "api"
	RoleRelay    = "relay"
	RoleIngest   = "ingest"
	RoleDetect   = "detect"
	RoleNotify   = "notify"
	RoleSchedule = "schedule"
	// RoleOCSF maps the activity topic to OCSF on the OCSF topic.
	RoleOCSF = "ocsf"
	// RoleDeliver sends activity webhooks from the activity topic.
	RoleDeliver = "deliver"
	// RoleRetention moves entries past each workspace's active retention
	// into the archive and removes them from the index.
	RoleRetention = "retention"
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
	// OpsAddr is the address metrics and health are served on, known once
	// Started.
	OpsAddr string
	// API is the HTTP server of the API role, once Started.
	API *domainhttp.Server

	// AlertSink and AlertConfigs, when set, stand in for the PostgreSQL
	// ones the detector stores alerts in and reads workspaces' working
	// hours, detection settings and rules from.
	AlertSink    alert.Sink
	AlertConfigs alert.Configs

	// DB is the PostgreSQL connection, once a role or command has opened it.
	DB *postgres.DB
	// Hasher hashes and checks passwords, once a role or command has
	// built it; every hash of the process waits for one of its turns.
	Hasher *argon2.Hasher
	os     *opensearchapi.Client
	// archive is the archive store, once built (see Archive).
	archive domain.ArchiveStore
	// finder is the process's one search API reader, so that its limits
	// on points in time hold for every role of the process.
	reader *searchos.Finder
	// geo is the MaxMind GeoIP locator, once a role has opened it.
	geo *maxmind.Locator
	// streams are the API's live activity streams, once built.
	streams *stream.Service
	// auth resolves the API's callers; its cache listens for changes
	// while the API role runs.
	auth *postgres.AuthService
	// choices lists what the console's filters offer; its cache listens
	// for changes while the API role runs.
	choices *postgres.ChoiceService
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
	if m.geo != nil {
		m.geo.Close()
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

// PasswordHasher returns the process's one password hasher, so that every
// hash in it takes its turn from the same few.
func (m *Main) PasswordHasher() (argon2.Hasher, error) {
	if m.Hasher == nil {
		h, err := argon2.New(m.Config.Argon2)
		if err != nil {
			return argon2.Hasher{}, fmt.Errorf("configuration: %w", err)
		}
		if !h.Params.Strong() {
			m.Log.WithField("component", "main").WithField("argon2", fmt.Sprintf("m=%d,t=%d,p=%d", h.Params.MemoryKiB, h.Params.Time, h.Params.Threads)).
				Warn("Passwords are hashed with parameters below OWASP's minimum, as FLUXERA_ARGON2_WEAK_OK allows; this is for tests and benchmarks only.")
		}
		m.Hasher = &h
	}
	return *m.Hasher, nil
}

func (m *Main) search() (*opensearchapi.Client, error) {
	if m.os == nil {
		c, err := ingestos.NewClient(m.Config.OpenSearch)
		if err != nil {
			return nil, fmt.Errorf("opensearch client: %w", err)
		}
		m.os = c
	}
	return m.os, nil
}

// finder returns the process's search API reader: cursors signed with a
// key derived from the secret key, which every instance shares.
func (m *Main) finder() (*searchos.Finder, error) {
	if m.reader != nil {
		return m.reader, nil
	}
	osc, err := m.search()
	if err != nil {
		return nil, err
	}
	secret, err := m.secretKey()
	if err != nil {
		return nil, err
	}
	direct, err := ingestos.NewHTTP(m.Config.OpenSearch)
	if err != nil {
		return nil, fmt.Errorf("opensearch client: %w", err)
	}
	m.reader = searchos.NewFinder(osc, m.Config.OpenSearch.IndexPrefix, searchos.WithCursorKey(secret), searchos.WithConfig(m.Config.Search), searchos.WithHTTP(direct))
	return m.reader, nil
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
		needDB = needDB || r == RoleAPI || r == RoleRelay || r == RoleDetect || r == RoleNotify || r == RoleSchedule || r == RoleDeliver || r == RoleRetention
		needTopics = needTopics || r == RoleRelay || r == RoleIngest || r == RoleDetect || r == RoleNotify || r == RoleOCSF || r == RoleDeliver
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
	} else if slices.Contains(roles, RoleAPI) {
		// The live activity stream reads the activity topic, which may
		// not exist yet when no other role has run; the API works without
		// Kafka all the same, so a broker that does not answer is only
		// logged.
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := m.ensureTopics(tctx); err != nil {
			m.Log.WithField("component", "main").WithError(err).Warn("The activity topic could not be checked; live activity streams answer 503 until it exists.")
		}
	}
	return nil
}

// ensureTopics creates the activity topic, the indexer's and the
// detector's dead-letter topics, the alert topic and the OCSF topic unless
// they exist, each with its retention set explicitly: the raw events carry
// personal data, and how long Kafka keeps them is part of the GDPR
// statement (docs/compliance.md). A topic that exists keeps its own.
func (m *Main) ensureTopics(ctx context.Context) error {
	p := m.Config.Publisher
	client := &kafka.Client{Addr: kafka.TCP(p.Brokers...), Timeout: 10 * time.Second}
	var topics []kafka.TopicConfig
	for _, t := range []struct {
		name      string
		retention time.Duration
	}{
		{p.Topic, p.Retention},
		{m.Config.Consumer.DeadLetterTopic, m.Config.DeadLetterRetention},
		{m.Config.DetectDeadLetterTopic, m.Config.DeadLetterRetention},
		{m.Config.AlertTopic, m.Config.AlertRetention},
	} {
		topics = append(topics, kafka.TopicConfig{Topic: t.name, NumPartitions: p.Partitions, ReplicationFactor: p.ReplicationFactor,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(t.retention.Milliseconds(), 10)}}})
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
	return ocsfkafka.EnsureTopic(ctx, p.Brokers, m.Config.OCSF.Topic, p.Partitions, p.ReplicationFactor, m.Config.OCSF.Retention)
}

// Run runs the given roles until ctx ends or one of them fails, then stops
// the others and returns the first failure.
func (m *Main) Run(ctx context.Context, roles ...string) error {
	if err := m.Prepare(ctx, roles...); err != nil {
		return err
	}
	// Every process serves its metrics and health on the ops address, the
	// API's too: metrics are for operators, not for the API's public.
	opsLn, err := net.Listen("tcp", m.Config.OpsAddr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w", m.Config.OpsAddr, err)
	}
	m.OpsAddr = opsLn.Addr().String()
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
	start("ops", func(ctx context.Context) error { return serveOps(ctx, opsLn, m.Registry) })
	for _, r := range roles {
		switch r {
		case RoleAPI:
			srv, ln, err := m.apiServer()
			if err != nil {
				return err
			}
			auth := m.auth
			start("auth-cache", func(ctx context.Context) error {
				log := m.Log.WithField("component", "auth")
				auth.ListenForChanges(ctx, func(err error) {
					log.WithError(err).Warn("The session cache lost its listener; sessions are looked up in the database until it listens again.")
				})
				return nil
			})
			choices := m.choices
			start("choice-cache", func(ctx context.Context) error {
				log := m.Log.WithField("component", "console")
				choices.ListenForChanges(ctx, func(err error) {
					log.WithError(err).Warn("The cache of the filters' choices lost its listener; they are read from the database until it listens again.")
				})
				return nil
			})
			start(r, func(ctx context.Context) error {
				// Live streams end first, so that the server's shutdown
				// does not wait on them.
				stop := context.AfterFunc(ctx, m.streams.Close)
				defer stop()
				return serveFiber(ctx, srv, ln)
			})
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
		case RoleOCSF:
			f, closeFn, err := m.ocsfFeed()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error { defer closeFn(); return f.Run(ctx) })
		case RoleSchedule:
			s, err := m.scheduler()
			if err != nil {
				return err
			}
			start(r, s.Run)
			b, err := m.Backups()
			if err != nil {
				return err
			}
			start("backup", func(ctx context.Context) error { return runBackups(ctx, b, backupCheckInterval) })
			er, err := m.eraser()
			if err != nil {
				return err
			}
			start("erase", er.Run)
		case RoleRetention:
			j, err := m.Retention()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error {
				return runRetention(ctx, j, m.Config.Retention.Interval, m.Config.Retention.RestoreInterval)
			})
		case RoleDeliver:
			d, closeFn, err := m.deliverer()
			if err != nil {
				return err
			}
			start(r, func(ctx context.Context) error { defer closeFn(); return d.Run(ctx) })
		default:
			return fmt.Errorf("unknown role %q", r)
		}
	}
	if m.geo != nil {
		geo := m.geo
		start("geoip", func(ctx context.Context) error { geo.Watch(ctx, m.Log.WithField("component", "geoip")); return nil })
	}
	m.Log.WithField("component", "main").WithField("roles", roles).Info("Fluxera is running.")
	close(m.Started)
	wg.Wait()
	close(errs)
	return <-errs
}
