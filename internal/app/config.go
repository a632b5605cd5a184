package app

import (
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
	detectredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	"github.com/fluxera/activity/domain/s3"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ingest/enrich/maxmind"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/integration/deliver"
	"github.com/fluxera/activity/integration/stream"
	"github.com/fluxera/activity/internal/retry"
	"github.com/fluxera/activity/ocsf/feed"
	"github.com/fluxera/activity/privacy"
	"github.com/fluxera/activity/report/schedule"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
	"github.com/fluxera/activity/searchapi/retention"
)

// Config is the whole platform's configuration, one block per component.
// It is read from FLUXERA_* environment variables (see the README).
type Config struct {
	LogLevel string
	OpsAddr  string
	Auth     postgres.AuthConfig
	Argon2   argon2.Config
	// InvitationTTL is how long an invitation can be accepted.
	InvitationTTL time.Duration
	// SignupEnabled opens POST /api/v1/signup, where anyone can create a
	// workspace; Signup limits how often one address may.
	SignupEnabled bool
	Signup        postgres.SignupConfig
	// SecretKey encrypts license keys at rest (32 bytes, base64); when it
	// is empty, SecretKeyFile holds it and is created on first start.
	SecretKey          string
	SecretKeyFile      string
	PreviousSecretKeys []string
	// ImageDir keeps asset images; ImageMaxBytes bounds one image.
	ImageDir      string
	ImageMaxBytes int
	HTTP          domainhttp.Config
	Postgres      postgres.Config
	Publisher     domainkafka.Config
	Relay         relay.Config
	// Chain tunes each workspace's hash chain, which the relay fixes, and
	// its signed checkpoints.
	Chain      postgres.ChainConfig
	Consumer   ingestkafka.Config
	Ingest     ingest.Config
	OpenSearch ingestos.Config
	// Search bounds the points in time the search routes hold open.
	Search searchos.Config
	// GeoIPFile is a CSV table of address ranges and their locations; the
	// bundled example table is used when it is empty.
	GeoIPFile string
	// GeoIP names MaxMind-format databases (City and ASN), used instead
	// of GeoIPFile when either file is set, and reloaded when they change.
	GeoIP maxmind.Config
	Redis detectredis.Config
	// DetectGroup is the detector's consumer group; AlertTopic its output;
	// DetectDeadLetterTopic receives the events it can never check.
	DetectGroup           string
	AlertTopic            string
	DetectDeadLetterTopic string
	// DeadLetterRetention is how long the indexer's and the detector's
	// dead-letter topics keep what they set aside, and AlertRetention how
	// long the alert topic keeps alerts; both are set when the platform
	// creates the topics (the activity topic's is Publisher.Retention).
	DeadLetterRetention time.Duration
	AlertRetention      time.Duration
	// AnonymizeWait bounds how long an anonymization on request waits for
	// the workspace's recorded events to be indexed.
	AnonymizeWait time.Duration
	RedisPrefix   string
	Detect        detect.Config
	// AlertConfigTTL is how long the detector trusts a workspace's
	// settings and rules before reading them again.
	AlertConfigTTL time.Duration
	// Targets says which addresses webhooks may reach; the API checks
	// saved URLs and the notifier every connection against it.
	Targets notify.Policy
	SMTP    notify.SMTPConfig
	Notify  notify.Config
	// Schedule tunes the scheduler of custom reports; it sends emails
	// through SMTP and webhooks through Targets.
	Schedule schedule.Config
	// OCSF is the feed that maps the activity topic to OCSF events on
	// their own topic.
	OCSF feed.Config
	// Deliver tunes the deliverer of activity webhooks, which reach only
	// what Targets allows; Stream bounds the live activity streams.
	Deliver deliver.Config
	Stream  stream.Config
	// Retention tunes the retention role, which moves entries past each
	// workspace's active retention into the archive.
	Retention retention.Config

	// Archive says where generated exports, reports and backups are kept:
	// with ArchiveDir in the folder ArchiveDir, with ArchiveS3 in the
	// bucket S3 names.
	Archive    string
	ArchiveDir string
	S3         s3.Config

	// LogViewDebounce is how long a session's search of the activity log
	// with one filter is recorded (system.log_viewed) only once.
	LogViewDebounce time.Duration
}

// Archive stores FLUXERA_ARCHIVE chooses from.
const (
	ArchiveDir = "dir" // a folder, FLUXERA_ARCHIVE_DIR
	ArchiveS3  = "s3"  // a bucket on S3-compatible storage, FLUXERA_S3_*
)

// Retention of the topics beside the activity topic, unless configured
// otherwise: dead letters stay two weeks for an operator to look at and
// replay, alerts a week like the activity topic.
const (
	DefaultDeadLetterRetention = 14 * 24 * time.Hour
	DefaultAlertRetention      = 7 * 24 * time.Hour
)

// env reads one variable with its default; errs collects parse failures.
type env struct {
	get  func(string) string
	errs []string
}

func (e *env) str(name, def string) string {
	if v := strings.TrimSpace(e.get(name)); v != "" {
		return v
	}
	return def
}

func (e *env) int(name string, def int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a whole number", name, v))
	}
	return n
}

func (e *env) duration(name string, def time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a duration such as 500ms or 2s", name, v))
	}
	return d
}

func (e *env) bool(name string, def bool) bool {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not true or false", name, v))
	}
	return b
}

func (e *env) list(name, def string) []string {
	var out []string
	for _, s := range strings.Split(e.str(name, def), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (e *env) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range e.list(name, "") {
		if !strings.Contains(s, "/") {
			if a, err := netip.ParseAddr(s); err == nil {
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s: %q is not an address or CIDR range", name, s))
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

// LoadConfig reads the configuration through getenv and validates every
// component's block.
func LoadConfig(getenv func(string) string) (Config, error) {
	e := &env{get: getenv}
	brokers := e.list("FLUXERA_KAFKA_BROKERS", "127.0.0.1:19092")
	topic := e.str("FLUXERA_KAFKA_TOPIC", "fluxera.activity.v1")
	prefix := e.str("FLUXERA_INDEX_PREFIX", "fluxera")
	c := Config{
		LogLevel: e.str("FLUXERA_LOG_LEVEL", "info"),
		OpsAddr:  e.str("FLUXERA_OPS_ADDR", "127.0.0.1:9464"),
		Auth: postgres.AuthConfig{
			SessionTTL:            e.duration("FLUXERA_SESSION_TTL", 12*time.Hour),
			MaxFailuresPerAccount: e.int("FLUXERA_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
			MaxFailuresPerIP:      e.int("FLUXERA_LOGIN_MAX_FAILURES_PER_IP", 20),
			ThrottleWindow:        e.duration("FLUXERA_LOGIN_THROTTLE_WINDOW", 15*time.Minute),
			CacheTTL:              e.duration("FLUXERA_AUTH_CACHE_TTL", 30*time.Second),
			CacheSize:             e.int("FLUXERA_AUTH_CACHE_SIZE", postgres.DefaultAuthCacheSize),
		},
		InvitationTTL: e.duration("FLUXERA_INVITATION_TTL", 7*24*time.Hour),
		SignupEnabled: e.bool("FLUXERA_SIGNUP_ENABLED", false),
		Signup: postgres.SignupConfig{
			MaxPerAddress: e.int("FLUXERA_SIGNUP_MAX_PER_ADDRESS", 5),
			Window:        e.duration("FLUXERA_SIGNUP_WINDOW", time.Hour),
		},
		SecretKey:          e.str("FLUXERA_SECRET_KEY", ""),
		SecretKeyFile:      e.str("FLUXERA_SECRET_KEY_FILE", "var/secret.key"),
		PreviousSecretKeys: e.list("FLUXERA_PREVIOUS_SECRET_KEYS", ""),
		ImageDir:           e.str("FLUXERA_IMAGE_DIR", "var/images"),
		ImageMaxBytes:      e.int("FLUXERA_IMAGE_MAX_BYTES", 5<<20),
		Archive:            e.str("FLUXERA_ARCHIVE", ArchiveDir),
		ArchiveDir:         e.str("FLUXERA_ARCHIVE_DIR", "var/archive"),
		S3: s3.Config{
			Endpoint:  e.str("FLUXERA_S3_ENDPOINT", ""),
			Bucket:    e.str("FLUXERA_S3_BUCKET", "fluxera-archive"),
			AccessKey: e.str("FLUXERA_S3_ACCESS_KEY", ""),
			SecretKey: e.str("FLUXERA_S3_SECRET_KEY", ""),
			Region:    e.str("FLUXERA_S3_REGION", s3.DefaultRegion),
			Secure:    e.bool("FLUXERA_S3_SECURE", true),
		},
		Argon2: argon2.Config{
			Params: argon2.Params{
				MemoryKiB: uint32(e.int("FLUXERA_ARGON2_MEMORY_KIB", int(argon2.DefaultParams.MemoryKiB))),
				Time:      uint32(e.int("FLUXERA_ARGON2_TIME", int(argon2.DefaultParams.Time))),
				Threads:   uint8(e.int("FLUXERA_ARGON2_THREADS", int(argon2.DefaultParams.Threads))),
			},
			WeakOK:      e.bool("FLUXERA_ARGON2_WEAK_OK", false),
			Concurrency: e.int("FLUXERA_ARGON2_CONCURRENCY", 2*runtime.NumCPU()),
			QueueWait:   e.duration("FLUXERA_ARGON2_QUEUE_WAIT", 2*time.Second),
		},
		HTTP: domainhttp.Config{
			Addr:           e.str("FLUXERA_HTTP_ADDR", "127.0.0.1:8080"),
			TrustedProxies: e.prefixes("FLUXERA_TRUSTED_PROXIES"),
			CookieSecure:   e.bool("FLUXERA_COOKIE_SECURE", true),
			RequestTimeout: e.duration("FLUXERA_HTTP_REQUEST_TIMEOUT", domainhttp.DefaultRequestTimeout),
		},
		Postgres: postgres.Config{
			URL:              e.str("FLUXERA_DATABASE_URL", "postgres://fluxera:fluxera@127.0.0.1:15432/fluxera?sslmode=disable"),
			Schema:           e.str("FLUXERA_DATABASE_SCHEMA", "public"),
			ConnectTimeout:   e.duration("FLUXERA_DATABASE_CONNECT_TIMEOUT", postgres.DefaultConnectTimeout),
			StatementTimeout: e.duration("FLUXERA_DATABASE_STATEMENT_TIMEOUT", postgres.DefaultStatementTimeout),
			Retention:        retentionLimits(e),
		},
		Publisher: domainkafka.Config{
			Brokers:           brokers,
			Topic:             topic,
			Partitions:        e.int("FLUXERA_KAFKA_PARTITIONS", 3),
			ReplicationFactor: e.int("FLUXERA_KAFKA_REPLICATION", 1),
			Retention:         e.duration("FLUXERA_KAFKA_RETENTION", domainkafka.DefaultRetention),
		},
		Relay: relay.Config{
			BatchSize:    e.int("FLUXERA_RELAY_BATCH_SIZE", 1000),
			BatchBytes:   e.int("FLUXERA_RELAY_BATCH_BYTES", relay.DefaultBatchBytes),
			PollInterval: e.duration("FLUXERA_RELAY_POLL_INTERVAL", time.Second),
		},
		Chain: postgres.ChainConfig{
			Disabled:           !e.bool("FLUXERA_CHAIN_ENABLED", true),
			CheckpointEvery:    e.int("FLUXERA_CHECKPOINT_EVERY", postgres.DefaultCheckpointEvery),
			CheckpointInterval: e.duration("FLUXERA_CHECKPOINT_INTERVAL", postgres.DefaultCheckpointInterval),
		},
		Consumer: ingestkafka.Config{
			Brokers:         brokers,
			Topic:           topic,
			DeadLetterTopic: e.str("FLUXERA_KAFKA_DLQ_TOPIC", "fluxera.activity.dlq"),
			GroupID:         e.str("FLUXERA_INGEST_GROUP", "fluxera-indexer"),
		},
		Ingest: ingest.Config{
			IndexPrefix:   prefix,
			BatchSize:     e.int("FLUXERA_INGEST_BATCH_SIZE", 1000),
			BatchBytes:    e.int("FLUXERA_INGEST_BATCH_BYTES", 5<<20),
			FlushInterval: e.duration("FLUXERA_INGEST_FLUSH_INTERVAL", 200*time.Millisecond),
			Workers:       e.int("FLUXERA_INGEST_WORKERS", 2),
		},
		OpenSearch: ingestos.Config{
			URLs:                  e.list("FLUXERA_OPENSEARCH_URL", "http://127.0.0.1:19200"),
			IndexPrefix:           prefix,
			Shards:                e.int("FLUXERA_INDEX_SHARDS", 1),
			Replicas:              e.int("FLUXERA_INDEX_REPLICAS", 0),
			RefreshInterval:       e.str("FLUXERA_INDEX_REFRESH_INTERVAL", "1s"),
			DialTimeout:           e.duration("FLUXERA_OPENSEARCH_DIAL_TIMEOUT", ingestos.DefaultDialTimeout),
			ResponseHeaderTimeout: e.duration("FLUXERA_OPENSEARCH_RESPONSE_HEADER_TIMEOUT", ingestos.DefaultResponseHeaderTimeout),
			RequestTimeout:        e.duration("FLUXERA_OPENSEARCH_TIMEOUT", ingestos.DefaultRequestTimeout),
		},
		GeoIPFile: e.str("FLUXERA_GEOIP_FILE", ""),
		GeoIP: maxmind.Config{
			CityFile:       e.str("FLUXERA_GEOIP_CITY_FILE", ""),
			ASNFile:        e.str("FLUXERA_GEOIP_ASN_FILE", ""),
			ReloadInterval: e.duration("FLUXERA_GEOIP_RELOAD_INTERVAL", time.Minute),
		},
		Redis: detectredis.Config{
			Addr:        e.str("FLUXERA_REDIS_ADDR", "127.0.0.1:16379"),
			DialTimeout: e.duration("FLUXERA_REDIS_DIAL_TIMEOUT", detectredis.DefaultDialTimeout),
			Timeout:     e.duration("FLUXERA_REDIS_TIMEOUT", detectredis.DefaultTimeout),
		},
		Search: searchos.Config{
			MaxPITsPerUser:      e.int("FLUXERA_SEARCH_MAX_PITS_PER_USER", searchos.DefaultMaxPITsPerUser),
			MaxPITsPerWorkspace: e.int("FLUXERA_SEARCH_MAX_PITS_PER_WORKSPACE", searchos.DefaultMaxPITsPerWorkspace),
		},
		RedisPrefix:           e.str("FLUXERA_REDIS_PREFIX", "fluxera:"),
		DetectGroup:           e.str("FLUXERA_DETECT_GROUP", "fluxera-detector"),
		AlertTopic:            e.str("FLUXERA_KAFKA_ALERT_TOPIC", alert.AlertTopic),
		DetectDeadLetterTopic: e.str("FLUXERA_DETECT_DLQ_TOPIC", detect.DeadLetterTopic),
		DeadLetterRetention:   e.duration("FLUXERA_KAFKA_DLQ_RETENTION", DefaultDeadLetterRetention),
		AlertRetention:        e.duration("FLUXERA_KAFKA_ALERT_RETENTION", DefaultAlertRetention),
		AnonymizeWait:         e.duration("FLUXERA_ANONYMIZE_WAIT", privacy.DefaultCatchUp),
		Detect: detect.Config{
			BatchSize:     e.int("FLUXERA_DETECT_BATCH_SIZE", detect.DefaultBatchSize),
			BatchBytes:    e.int("FLUXERA_DETECT_BATCH_BYTES", detect.DefaultBatchBytes),
			FlushInterval: e.duration("FLUXERA_DETECT_FLUSH_INTERVAL", 50*time.Millisecond),
			History:       e.duration("FLUXERA_DETECT_HISTORY", 60*24*time.Hour),
			ReplayHorizon: e.duration("FLUXERA_DETECT_REPLAY_HORIZON", 7*24*time.Hour),
			Cooldowns: map[string]time.Duration{
				alert.DetectFailedLogins:         e.duration("FLUXERA_DETECT_COOLDOWN_FAILED_LOGINS", detect.DefaultCooldowns[alert.DetectFailedLogins]),
				alert.DetectUnusualTime:          e.duration("FLUXERA_DETECT_COOLDOWN_UNUSUAL_TIME", detect.DefaultCooldowns[alert.DetectUnusualTime]),
				alert.DetectBulkExports:          e.duration("FLUXERA_DETECT_COOLDOWN_BULK_EXPORTS", detect.DefaultCooldowns[alert.DetectBulkExports]),
				alert.DetectPermissionChanges:    e.duration("FLUXERA_DETECT_COOLDOWN_RAPID_PERMISSION_CHANGES", detect.DefaultCooldowns[alert.DetectPermissionChanges]),
				alert.DetectUnusualLocation:      e.duration("FLUXERA_DETECT_COOLDOWN_UNUSUAL_LOCATION", detect.DefaultCooldowns[alert.DetectUnusualLocation]),
				alert.DetectSimultaneousSessions: e.duration("FLUXERA_DETECT_COOLDOWN_SIMULTANEOUS_SESSIONS", detect.DefaultCooldowns[alert.DetectSimultaneousSessions]),
			},
		},
		AlertConfigTTL: e.duration("FLUXERA_DETECT_CONFIG_TTL", postgres.DefaultAlertConfigTTL),
		Targets: notify.Policy{
			AllowLoopback: e.bool("FLUXERA_NOTIFY_ALLOW_LOOPBACK", false),
			AllowPrivate:  e.bool("FLUXERA_NOTIFY_ALLOW_PRIVATE", false),
		},
		SMTP: notify.SMTPConfig{
			Addr:     e.str("FLUXERA_SMTP_ADDR", ""),
			From:     e.str("FLUXERA_SMTP_FROM", "Fluxera Alerts <alerts@fluxera.invalid>"),
			TLS:      e.str("FLUXERA_SMTP_TLS", ""),
			Username: e.str("FLUXERA_SMTP_USERNAME", ""),
			Password: e.str("FLUXERA_SMTP_PASSWORD", ""),
		},
		Notify: notify.Config{
			MaxAttempts: e.int("FLUXERA_NOTIFY_MAX_ATTEMPTS", 8),
			Concurrency: e.int("FLUXERA_NOTIFY_CONCURRENCY", 8),
		},
		Schedule: schedule.Config{
			PollInterval:       e.duration("FLUXERA_SCHEDULE_POLL_INTERVAL", 30*time.Second),
			Lease:              e.duration("FLUXERA_SCHEDULE_LEASE", 10*time.Minute),
			MaxAttempts:        e.int("FLUXERA_SCHEDULE_MAX_ATTEMPTS", 8),
			MaxAttachmentBytes: int64(e.int("FLUXERA_REPORT_EMAIL_MAX_BYTES", 10<<20)),
			PublicURL:          e.str("FLUXERA_PUBLIC_URL", ""),
		},
		OCSF: feed.Config{
			Topic:     e.str("FLUXERA_OCSF_TOPIC", "fluxera.activity.ocsf.v1"),
			GroupID:   e.str("FLUXERA_OCSF_GROUP", "fluxera-ocsf"),
			Retention: e.duration("FLUXERA_OCSF_RETENTION", 7*24*time.Hour),
		},
		Deliver: deliver.Config{
			Group:        e.str("FLUXERA_DELIVER_GROUP", deliver.DefaultGroup),
			PollInterval: e.duration("FLUXERA_WEBHOOK_POLL_INTERVAL", deliver.DefaultPollInterval),
			Concurrency:  e.int("FLUXERA_WEBHOOK_CONCURRENCY", deliver.DefaultConcurrency),
			MaxFailures:  e.int("FLUXERA_WEBHOOK_MAX_FAILURES", deliver.DefaultMaxFailures),
			Retry: retry.Backoff{
				Initial: e.duration("FLUXERA_WEBHOOK_RETRY_INITIAL", deliver.DefaultRetryInitial),
				Max:     e.duration("FLUXERA_WEBHOOK_RETRY_MAX", deliver.DefaultRetryMax),
				Jitter:  retry.DefaultJitter,
			},
		},
		Stream: stream.Config{
			MaxPerWorkspace: e.int("FLUXERA_STREAM_MAX_PER_WORKSPACE", stream.DefaultMaxPerWorkspace),
			Heartbeat:       e.duration("FLUXERA_STREAM_HEARTBEAT", stream.DefaultHeartbeat),
		},
		LogViewDebounce: e.duration("FLUXERA_LOG_VIEW_DEBOUNCE", postgres.DefaultLogViewDebounce),
		Retention: retention.Config{
			Interval:        e.duration("FLUXERA_RETENTION_INTERVAL", retention.DefaultInterval),
			Lease:           e.duration("FLUXERA_RETENTION_LEASE", retention.DefaultLease),
			RestoreInterval: e.duration("FLUXERA_RESTORE_INTERVAL", retention.DefaultRestoreInterval),
			// How long an owner's restore of an archived period may stay
			// searchable, in days.
			RestoreMaxDays: e.int("FLUXERA_RESTORE_MAX_DAYS", retention.DefaultRestoreMaxDays),
		},
	}
	if len(e.errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(e.errs, "; "))
	}
	if c.ImageMaxBytes < 1024 || c.ImageMaxBytes > 100<<20 {
		return c, fmt.Errorf("configuration: FLUXERA_IMAGE_MAX_BYTES must be between 1024 and 104857600")
	}
	if c.AlertConfigTTL < 0 || c.AlertConfigTTL > time.Hour {
		return c, fmt.Errorf("configuration: FLUXERA_DETECT_CONFIG_TTL must be between 0 and 1h")
	}
	if c.LogViewDebounce < time.Second || c.LogViewDebounce > 24*time.Hour {
		return c, fmt.Errorf("configuration: FLUXERA_LOG_VIEW_DEBOUNCE must be between 1s and 24h")
	}
	if c.DeadLetterRetention < time.Hour {
		return c, fmt.Errorf("configuration: FLUXERA_KAFKA_DLQ_RETENTION must be at least an hour")
	}
	if c.AlertRetention < time.Hour {
		return c, fmt.Errorf("configuration: FLUXERA_KAFKA_ALERT_RETENTION must be at least an hour")
	}
	if c.AnonymizeWait <= 0 || c.AnonymizeWait > 10*time.Minute {
		return c, fmt.Errorf("configuration: FLUXERA_ANONYMIZE_WAIT must be more than 0 and at most 10m")
	}
	if c.InvitationTTL < time.Minute {
		return c, fmt.Errorf("configuration: FLUXERA_INVITATION_TTL must be at least a minute")
	}
	switch c.Archive {
	case ArchiveDir:
		if c.ArchiveDir == "" {
			return c, fmt.Errorf("configuration: FLUXERA_ARCHIVE_DIR is required when FLUXERA_ARCHIVE=dir")
		}
	case ArchiveS3:
		if err := c.S3.Validate(); err != nil {
			return c, fmt.Errorf("configuration: FLUXERA_ARCHIVE=s3 needs the FLUXERA_S3_* settings: %w", err)
		}
	default:
		return c, fmt.Errorf("configuration: FLUXERA_ARCHIVE=%q must be dir or s3", c.Archive)
	}
	if c.GeoIP.CityFile != "" || c.GeoIP.ASNFile != "" {
		if c.GeoIPFile != "" {
			return c, fmt.Errorf("configuration: set FLUXERA_GEOIP_FILE (a CSV table) or FLUXERA_GEOIP_CITY_FILE and FLUXERA_GEOIP_ASN_FILE (MaxMind databases), not both")
		}
		if err := c.GeoIP.Validate(); err != nil {
			return c, fmt.Errorf("configuration: FLUXERA_GEOIP_RELOAD_INTERVAL: %w", err)
		}
	}
	// A request may carry one image and its multipart envelope.
	c.HTTP.BodyLimit = max(1<<20, c.ImageMaxBytes+64<<10)
	for _, v := range []interface{ Validate() error }{&c.Auth, &c.Signup, &c.Argon2, &c.HTTP, &c.Postgres, &c.Publisher, &c.Relay, &c.Chain, &c.Consumer, &c.Ingest, &c.OpenSearch, &c.Search, &c.Redis, &c.Detect, &c.SMTP, &c.Notify, &c.Schedule, &c.Deliver, &c.Stream, &c.OCSF, &c.Retention} {
		if err := v.Validate(); err != nil {
			return c, fmt.Errorf("configuration: %w", err)
		}
	}
	return c, nil
}

// retentionLimits reads the platform's defaults and limits of the three
// retention settings of workspaces.
func retentionLimits(e *env) domain.RetentionLimits {
	def := domain.DefaultRetentionLimits()
	return domain.RetentionLimits{
		ActiveLog: domain.RetentionBounds{
			Default: e.int("FLUXERA_RETENTION_DEFAULT_ACTIVE_LOG_DAYS", def.ActiveLog.Default),
			Min:     e.int("FLUXERA_RETENTION_MIN_ACTIVE_LOG_DAYS", def.ActiveLog.Min),
			Max:     e.int("FLUXERA_RETENTION_MAX_ACTIVE_LOG_DAYS", def.ActiveLog.Max),
		},
		Log: domain.RetentionBounds{
			Default: e.int("FLUXERA_RETENTION_DEFAULT_LOG_DAYS", def.Log.Default),
			Min:     e.int("FLUXERA_RETENTION_MIN_LOG_DAYS", def.Log.Min),
			Max:     e.int("FLUXERA_RETENTION_MAX_LOG_DAYS", def.Log.Max),
		},
		DeletedUserLog: domain.RetentionBounds{
			Default: e.int("FLUXERA_RETENTION_DEFAULT_DELETED_USER_LOG_DAYS", def.DeletedUserLog.Default),
			Min:     e.int("FLUXERA_RETENTION_MIN_DELETED_USER_LOG_DAYS", def.DeletedUserLog.Min),
			Max:     e.int("FLUXERA_RETENTION_MAX_DELETED_USER_LOG_DAYS", def.DeletedUserLog.Max),
		},
	}
}
