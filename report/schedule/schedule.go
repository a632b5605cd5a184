// Package schedule runs the schedules of custom report definitions (the
// role fluxera schedule): it generates each definition's report when it is
// due — one scheduler per due time however many run, thanks to a lease in
// PostgreSQL, and one catch-up run for the latest due time a stopped
// scheduler missed — and sends the generated reports to their recipients,
// by email with the files attached and by signed webhook, retrying each
// delivery apart from the schedule.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/retry"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

// Config tunes the scheduler.
type Config struct {
	// PollInterval is how often due schedules and deliveries are looked
	// for. Default 30s.
	PollInterval time.Duration
	// Lease is how long a claimed schedule is this scheduler's; a run is
	// cut off at half of it, so that it is kept while the lease holds.
	// Default 10 minutes.
	Lease time.Duration
	// BatchSize bounds the schedules, and the deliveries, claimed at once.
	// Default 10.
	BatchSize int
	// RetryAfter is how long after a failed run its schedule is tried
	// again; each further failure in a row doubles it, up to MaxRetryAfter.
	// Default 1 minute.
	RetryAfter time.Duration
	// MaxRetryAfter bounds the wait after failed runs. Default 6 hours.
	MaxRetryAfter time.Duration
	// DeliveryLease is how long a claimed delivery is this scheduler's; a
	// send is cut off at half of it. Default 2 minutes.
	DeliveryLease time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is
	// marked failed. Default 8.
	MaxAttempts int
	// Backoff spaces the attempts at one delivery. Default 1s doubling to
	// 10 minutes.
	Backoff retry.Backoff
	// QueueBackoff spaces the rounds while the database fails. Default
	// 500ms doubling to 30s.
	QueueBackoff retry.Backoff
	// MaxAttachmentBytes is the most an email's files may weigh together;
	// beyond it the email links to them in the archive instead. Default
	// 10 MiB.
	MaxAttachmentBytes int64
	// PublicURL is the address the platform's API is reached at
	// (https://fluxera.example.com), which links start with; without it
	// an email names the files as the archive lists them.
	PublicURL string
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.PollInterval == 0 {
		c.PollInterval = 30 * time.Second
	}
	if c.Lease == 0 {
		c.Lease = 10 * time.Minute
	}
	if c.BatchSize == 0 {
		c.BatchSize = 10
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = time.Minute
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = 6 * time.Hour
	}
	if c.DeliveryLease == 0 {
		c.DeliveryLease = 2 * time.Minute
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.MaxAttachmentBytes == 0 {
		c.MaxAttachmentBytes = 10 << 20
	}
	c.Backoff = c.Backoff.WithDefaults(time.Second, 10*time.Minute)
	c.QueueBackoff = c.QueueBackoff.WithDefaults(500*time.Millisecond, 30*time.Second)
	for _, b := range []retry.Backoff{c.Backoff, c.QueueBackoff} {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
	}
	switch {
	case c.PollInterval < 0:
		return errors.New("schedule: the poll interval must be positive")
	case c.Lease < 2*time.Second || c.DeliveryLease < 2*time.Second:
		return errors.New("schedule: the leases must be at least 2s")
	case c.BatchSize < 1 || c.MaxAttempts < 1:
		return errors.New("schedule: the batch size and the attempts must be positive")
	case c.RetryAfter < 0 || c.MaxRetryAfter < c.RetryAfter:
		return errors.New("schedule: the retry delay must be positive and at most its ceiling")
	case c.MaxAttachmentBytes < 0:
		return errors.New("schedule: the attachment limit must be positive")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return fmt.Errorf("schedule: the public URL %q is not an absolute http or https URL", c.PublicURL)
		}
	}
	return nil
}

// Generator generates the report of a run: report.Definitions.
type Generator interface {
	Generate(ctx context.Context, run report.Run) (report.Report, error)
}

// Scheduler generates the reports of due schedules and sends generated
// reports to their recipients.
type Scheduler struct {
	Config     Config
	Schedules  report.Schedules
	Generator  Generator
	Deliveries report.DeliveryQueue
	// Archive holds the files an email attaches.
	Archive domain.ArchiveStore
	Email   *notify.Email
	Webhook *notify.Webhook
	// Now is the clock of schedules and attempts; time.Now when nil.
	Now     func() time.Time
	Log     logrus.FieldLogger
	Metrics *Metrics
}

// Metrics are the scheduler's Prometheus metrics.
type Metrics struct {
	Runs     *prometheus.CounterVec
	Attempts *prometheus.CounterVec
}

// NewMetrics registers the scheduler's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fluxera_schedule_runs_total",
			Help: "Scheduled runs of custom reports, by result (generated, failed, lost: another scheduler kept it).",
		}, []string{"result"}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fluxera_schedule_delivery_attempts_total",
			Help: "Attempts to send generated reports, by type (email, webhook) and result (delivered, retry, failed).",
		}, []string{"type", "result"}),
	}
	reg.MustRegister(m.Runs, m.Attempts)
	return m
}

// Run generates due reports and sends deliveries until ctx ends, then
// returns nil; the two go on apart, so that a recipient who does not
// answer never holds a schedule up. While the database fails it logs the
// failure and tries again with QueueBackoff. It returns an error only for
// a bad setup.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.setup(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.loop(ctx, "Running due schedules", s.RunDue) })
	wg.Go(func() { s.loop(ctx, "Sending generated reports", s.SendDue) })
	wg.Wait()
	return nil
}

func (s *Scheduler) setup() error {
	if err := s.Config.Validate(); err != nil {
		return err
	}
	if s.Schedules == nil || s.Generator == nil || s.Deliveries == nil || s.Archive == nil {
		return errors.New("schedule: the scheduler needs its schedules, generator, delivery queue and archive")
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = logrus.StandardLogger().WithField("component", "schedule")
	}
	if s.Email == nil {
		s.Email = &notify.Email{}
	}
	if s.Webhook == nil {
		s.Webhook = &notify.Webhook{}
	}
	return nil
}

// loop runs step until ctx ends: again at once while it finds work, after
// the poll interval when it finds none, and with backoff while it fails.
func (s *Scheduler) loop(ctx context.Context, what string, step func(context.Context) (int, error)) {
	failures := s.Config.QueueBackoff.Attempts()
	for ctx.Err() == nil {
		n, err := step(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			pause := failures.Failed()
			s.Log.WithError(err).WithField("retry_in_ms", pause.Milliseconds()).Error(what + " failed; trying again.")
			retry.Sleep(ctx, pause)
		case n == 0:
			if failures.Failures() > 0 {
				s.Log.WithField("failures", failures.Failures()).Info(what + " works again.")
				failures.Succeeded()
			}
			retry.Sleep(ctx, s.Config.PollInterval)
		}
	}
}

// RunDue runs the schedules due now, up to BatchSize of them, claiming
// one at a time so that each run has its whole lease: each generates a
// report for its latest due time, so that a schedule that missed several
// due times runs once, then goes on from its next due time. A run that
// fails is tried again after RetryAfter. It returns how many schedules it
// claimed, and an error when it could not claim one.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	if err := s.setup(); err != nil {
		return 0, err
	}
	n := 0
	for n < s.Config.BatchSize && ctx.Err() == nil {
		claims, err := s.Schedules.ClaimDue(ctx, 1, s.Now(), s.Config.Lease)
		if err != nil {
			return n, err
		}
		if len(claims) == 0 {
			break
		}
		for _, c := range claims {
			s.run(ctx, c)
		}
		n += len(claims)
	}
	return n, nil
}

// run generates the report of one claimed schedule.
func (s *Scheduler) run(ctx context.Context, c report.Claim) {
	d := c.Definition
	due := d.Schedule.Latest(s.Now(), searchapi.Zone(d.TimeZone))
	if d.NextRunAt != nil && due.Before(*d.NextRunAt) {
		// The workspace's time zone changed since: the due time kept.
		due = *d.NextRunAt
	}
	log := s.Log.WithFields(logrus.Fields{"definition_id": d.ID, "workspace_id": d.WorkspaceID, "due": due.UTC().Format(time.RFC3339)})
	if d.NextRunAt != nil && due.After(*d.NextRunAt) {
		log = log.WithField("missed_since", d.NextRunAt.UTC().Format(time.RFC3339))
	}
	runCtx, cancel := context.WithTimeout(ctx, s.Config.Lease/2)
	defer cancel()
	r, err := s.Generator.Generate(runCtx, report.ScheduledRun(d, due, c.LeaseID))
	switch {
	case err == nil:
		s.count("generated")
		log.WithFields(logrus.Fields{"report_id": r.ID, "files": len(r.Files), "actions": r.Result.Total}).Info("Scheduled report generated.")
	case activity.ErrorCode(err) == activity.ECONFLICT:
		s.count("lost")
		log.WithError(err).Warn("A scheduled run was not kept: another scheduler holds the schedule now.")
	case ctx.Err() != nil:
		// Stopping: the lease runs out and the schedule is claimed again.
	default:
		s.count("failed")
		wait := retry.Backoff{Initial: s.Config.RetryAfter, Max: s.Config.MaxRetryAfter, Jitter: retry.DefaultJitter}.Delay(c.Failures + 1)
		at := s.Now().Add(wait)
		log.WithError(err).WithField("retry_at", at.UTC().Format(time.RFC3339)).WithField("failures", c.Failures+1).Error("A scheduled report could not be generated; it will be tried again.")
		retryCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.Schedules.Retry(retryCtx, c, at); err != nil {
			log.WithError(err).Error("Releasing a failed run failed; the schedule is tried again when its lease ends.")
		}
	}
}

func (s *Scheduler) count(result string) {
	if s.Metrics != nil {
		s.Metrics.Runs.WithLabelValues(result).Inc()
	}
}
