// Package detect watches the activity stream for security red flags. It
// reads the topic in a consumer group of its own and checks every event
// against the built-in detectors, tuned per workspace, and against the
// workspace's alert rules. What the detectors remember (sliding windows,
// each user's active hours, places and sessions, cooldowns) lives in a
// Store, keyed by event id and scored by each event's own time, so a
// redelivered or replayed event gets the verdict it got the first time and
// is never counted twice. Raised alerts go to a alert.Sink, which stores each
// once by its id. Offsets are committed only after a batch is fully
// checked and its alerts are stored, so a restart checks again what was
// not confirmed.
package detect

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/internal/retry"
)

// MaxAlertEvents bounds the event ids an alert lists: the latest of its
// window, the one that crossed the line last.
const MaxAlertEvents = 20

// DefaultCooldowns are how long each built-in detector stays quiet about
// one subject after raising an alert about it, in event time.
var DefaultCooldowns = map[string]time.Duration{
	alert.DetectFailedLogins:         30 * time.Minute,
	alert.DetectUnusualTime:          6 * time.Hour,
	alert.DetectBulkExports:          time.Hour,
	alert.DetectPermissionChanges:    30 * time.Minute,
	alert.DetectUnusualLocation:      time.Hour,
	alert.DetectSimultaneousSessions: time.Hour,
}

// DefaultBatchSize and DefaultBatchBytes bound a batch of events checked
// together. A batch costs Redis a few script calls whatever its size, and
// a user's events in one batch are counted from one read of what Redis
// keeps of them, so a backlog of 2,000 events a batch costs both sides
// less CPU per event than 500 did; the bytes keep a batch of large events
// small.
const (
	DefaultBatchSize  = 2000
	DefaultBatchBytes = 8 << 20
)

// Config tunes the detector process. The thresholds and windows of the
// detectors are each workspace's own (alert.DetectionSettings).
type Config struct {
	// BatchSize is how many events are checked together, BatchBytes how
	// many bytes of messages a batch takes at most (it stops filling once
	// it holds that many), and FlushInterval the longest wait to fill a
	// batch.
	BatchSize     int
	BatchBytes    int
	FlushInterval time.Duration
	// Cooldowns say, per built-in detector, how long it stays quiet about
	// one subject (an account, an address, a user) after an alert about
	// it; missing detectors get DefaultCooldowns. An alert rule with a
	// threshold stays quiet for its own window; one without raises an
	// alert for every matching event.
	Cooldowns map[string]time.Duration
	// History is how far back unusual_time looks at a user's active
	// hours, and how long unusual_location remembers a user's places after
	// their last located event.
	History time.Duration
	// ReplayHorizon is how long cooldown claims, and history beyond
	// History, are kept, so that a stream replayed within it raises no new
	// alerts. Set it to the activity topic's retention.
	ReplayHorizon time.Duration
	// MaxBackoff is the ceiling of the delay between retries of a failing
	// batch.
	MaxBackoff time.Duration
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 50 * time.Millisecond
	}
	cooldowns := make(map[string]time.Duration, len(DefaultCooldowns))
	for name, d := range DefaultCooldowns {
		cooldowns[name] = d
	}
	for name, d := range c.Cooldowns {
		if _, ok := DefaultCooldowns[name]; !ok {
			return fmt.Errorf("detect: %q is not a detector", name)
		}
		if d != 0 {
			cooldowns[name] = d
		}
	}
	c.Cooldowns = cooldowns
	if c.History == 0 {
		c.History = 60 * 24 * time.Hour
	}
	if c.ReplayHorizon == 0 {
		c.ReplayHorizon = 7 * 24 * time.Hour
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 10 * time.Second
	}
	for name, d := range c.Cooldowns {
		if d < 0 {
			return fmt.Errorf("detect: the cooldown of %s must not be negative", name)
		}
	}
	switch {
	case c.BatchSize < 1 || c.BatchBytes < 1 || c.FlushInterval <= 0:
		return fmt.Errorf("detect: batch size, batch bytes and flush interval must be positive")
	case c.History < 24*time.Hour:
		return fmt.Errorf("detect: history must be at least a day")
	case c.ReplayHorizon < 0 || c.MaxBackoff <= 0:
		return fmt.Errorf("detect: replay horizon and backoff must be positive")
	}
	return nil
}

// Locator finds where an address is.
type Locator interface {
	Locate(ip netip.Addr) (activity.Location, bool)
}

// Detector checks every event of a stream against the built-in detectors
// and the workspaces' alert rules.
type Detector struct {
	Config  Config
	Source  ingest.Source
	Store   Store
	Configs alert.Configs
	Sink    alert.Sink
	// Locator, if set, places events that carry an address but no
	// location, for unusual_location.
	Locator Locator
	Log     logrus.FieldLogger
	// Prefix starts every key in the store; tests use their own.
	Prefix string
	// Now is the clock alerts are raised by; time.Now when nil.
	Now func() time.Time
	// Metrics, if set, counts raised alerts and shows when detection is
	// degraded.
	Metrics *Metrics
	// DeadLetters is where events the detector can never check go, with
	// the reason, so that the partition moves on; when it is nil they are
	// logged and skipped.
	DeadLetters ingest.DeadLetters
}

// Run checks events until ctx ends. While the store or the sink fails it
// retries the batch with backoff and commits nothing. An event it can never
// check, or whose alert the sink refuses for good, goes to DeadLetters with
// the reason, and the partition moves on. It returns an error only when
// the source fails.
//
// Fetching and decoding the next batch, and committing the offsets of the
// last one, run beside the checking of a batch, so that a backlog is
// checked without waiting on Kafka between batches. Offsets are still
// committed in order, and only once their batch is checked and its alerts
// are stored.
func (d *Detector) Run(ctx context.Context) error {
	fetchCtx, stopFetching := context.WithCancel(ctx)
	batches := make(chan fetched, 1)
	fetching := make(chan struct{})
	go func() {
		defer close(fetching)
		d.fetch(fetchCtx, batches)
	}()
	commits := make(chan []ingest.Message, 1)
	committing := make(chan struct{})
	go func() {
		defer close(committing)
		for msgs := range commits {
			if err := d.Source.Commit(ctx, msgs); err != nil && ctx.Err() == nil {
				d.Log.WithError(err).Warn("Offset commit failed; the batch will be checked again.")
			}
		}
	}()
	defer func() {
		close(commits)
		<-committing
		stopFetching()
		<-fetching
	}()
	degraded := false
	for {
		var next fetched
		select {
		case next = <-batches:
		case <-ctx.Done():
			return nil
		}
		if next.err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch: %w", next.err)
		}
		tries := retry.Backoff{Initial: 100 * time.Millisecond, Max: d.Config.MaxBackoff, Jitter: retry.DefaultJitter}.Attempts()
		var dead []ingest.DeadLetter
		for {
			var err error
			dead, err = d.check(ctx, next.batch)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			if !degraded {
				degraded = true
				d.degraded(true)
			}
			pause := tries.Failed()
			d.Log.WithError(err).WithField("retry_in_ms", pause.Milliseconds()).Warn("Detection is degraded; retrying the batch.")
			if !retry.Sleep(ctx, pause) {
				return nil
			}
		}
		if degraded {
			degraded = false
			d.degraded(false)
			d.Log.Info("Detection recovered.")
		}
		if !d.setAside(ctx, dead) {
			return nil
		}
		select {
		case commits <- next.msgs:
		case <-ctx.Done():
			return nil
		}
	}
}

// fetched is a batch of messages and the events decoded from them, or the
// error that ended fetching.
type fetched struct {
	msgs  []ingest.Message
	batch []pending
	err   error
}

// fetch reads batches of messages and decodes their events until ctx ends
// or the source fails, and hands each to out.
func (d *Detector) fetch(ctx context.Context, out chan<- fetched) {
	for {
		msgs, err := ingest.FetchBatch(ctx, d.Source, d.Config.BatchSize, d.Config.BatchBytes, d.Config.FlushInterval)
		if err != nil {
			select {
			case out <- fetched{err: err}:
			case <-ctx.Done():
			}
			return
		}
		batch := make([]pending, 0, len(msgs))
		for _, m := range msgs {
			e, err := activity.DecodeEvent(m.Value)
			if err != nil {
				continue // the indexer sets it aside in the dead-letter topic
			}
			batch = append(batch, pending{msg: m, event: e})
		}
		select {
		case out <- fetched{msgs: msgs, batch: batch}:
		case <-ctx.Done():
			return
		}
	}
}

// Detect checks one batch of events, in order, and stores the alerts they
// raise. The store sees two round trips per batch, whatever its size: one
// for every check, one to claim the cooldowns of the alerts. It returns an
// error when a workspace's configuration, the store or the sink fails;
// the batch may then be checked again as a whole. The error is EINVALID
// (or another code meant for users) when the failure is for good: an
// event no detector can plan, or alerts the sink refuses for their
// content.
func (d *Detector) Detect(ctx context.Context, events []activity.Event) error {
	p := &plan{}
	workspaces := map[string]*workspace{}
	for i := range events {
		e := &events[i]
		ws, ok := workspaces[e.WorkspaceID]
		if !ok {
			cfg, err := d.Configs.Config(ctx, e.WorkspaceID)
			if err != nil {
				return fmt.Errorf("configuration of workspace %s: %w", e.WorkspaceID, err)
			}
			ws = newWorkspace(&cfg)
			workspaces[e.WorkspaceID] = ws
		}
		if err := d.planSafely(p, ws, e); err != nil {
			return err
		}
	}
	results, err := d.Store.Check(ctx, p.checks)
	if err != nil {
		return fmt.Errorf("check events: %w", err)
	}
	candidates := p.verdicts(results)
	var claims []Claim
	var claimed []int
	for i, c := range candidates {
		if c.claim != "" {
			claims = append(claims, Claim{Key: c.claim, AlertID: c.alert.ID, At: c.alert.OccurredAt, Cooldown: c.cooldown, Keep: max(c.cooldown, d.Config.ReplayHorizon)})
			claimed = append(claimed, i)
		}
	}
	granted, err := d.Store.Claim(ctx, claims)
	if err != nil {
		return fmt.Errorf("claim cooldowns: %w", err)
	}
	refused := map[int]bool{}
	for j, ok := range granted {
		if !ok {
			refused[claimed[j]] = true
		}
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	raisedAt := now().UTC()
	var alerts []alert.Alert
	seen := map[string]bool{}
	for i, c := range candidates {
		if refused[i] || seen[c.alert.ID] {
			continue // a replayed event in the same batch raises its alert once
		}
		seen[c.alert.ID] = true
		c.alert.RaisedAt = raisedAt
		alerts = append(alerts, c.alert)
	}
	if len(alerts) == 0 {
		return nil
	}
	stored, err := d.Sink.Raise(ctx, alerts)
	if err != nil {
		return fmt.Errorf("store %d alerts: %w", len(alerts), err)
	}
	if d.Metrics != nil {
		d.Metrics.Alerts.Add(float64(len(stored)))
	}
	for _, a := range stored {
		source := a.Detector
		if source == "" {
			source = "rule " + a.RuleID
		}
		d.Log.WithFields(logrus.Fields{"workspace_id": a.WorkspaceID, "alert_id": a.ID, "source": source, "severity": a.Severity, "count": a.Count}).Info(a.Summary)
	}
	return nil
}

// builtIn are the built-in detectors, in the order they check an event.
var builtIn = [...]string{alert.DetectFailedLogins, alert.DetectUnusualTime, alert.DetectBulkExports,
	alert.DetectPermissionChanges, alert.DetectUnusualLocation, alert.DetectSimultaneousSessions}

// workspace is a workspace's configuration with the settings of each
// built-in detector (in the order of builtIn), worked out once per batch.
type workspace struct {
	*alert.WorkspaceConfig
	settings [len(builtIn)]alert.DetectorSettings
	enabled  [len(builtIn)]bool
}

func newWorkspace(cfg *alert.WorkspaceConfig) *workspace {
	ws := &workspace{WorkspaceConfig: cfg}
	for i, name := range builtIn {
		ws.settings[i], ws.enabled[i] = settings(cfg, name)
	}
	return ws
}

// plan adds the checks of one event: every enabled built-in detector, then
// every rule of its workspace.
func (d *Detector) plan(p *plan, ws *workspace, e *activity.Event) {
	for i, on := range ws.enabled {
		if !on {
			continue
		}
		s := ws.settings[i]
		switch builtIn[i] {
		case alert.DetectFailedLogins:
			d.planFailedLogins(p, s, e)
		case alert.DetectUnusualTime:
			d.planUnusualTime(p, ws.WorkspaceConfig, s, e)
		case alert.DetectBulkExports:
			d.planBulkExports(p, s, e)
		case alert.DetectPermissionChanges:
			d.planPermissionChanges(p, s, e)
		case alert.DetectUnusualLocation:
			d.planUnusualLocation(p, s, e)
		case alert.DetectSimultaneousSessions:
			d.planSessions(p, s, e)
		}
	}
	for i := range ws.Rules {
		d.planRule(p, &ws.Rules[i], e)
	}
}

// settings returns a workspace's settings of a detector, with defaults for
// what is missing, and whether it is enabled.
func settings(ws *alert.WorkspaceConfig, name string) (alert.DetectorSettings, bool) {
	s := ws.Detection.Detector(name)
	def := alert.DefaultDetectorSettings[name]
	if s.Threshold <= 0 {
		s.Threshold = def.Threshold
	}
	if s.WindowMinutes <= 0 {
		s.WindowMinutes = def.WindowMinutes
	}
	if !alert.ValidSeverity(s.Severity) {
		s.Severity = def.Severity
	}
	return s, s.Enabled
}

// cooldown is the cooldown of a built-in detector.
func (d *Detector) cooldown(name string) time.Duration {
	if c, ok := d.Config.Cooldowns[name]; ok {
		return c
	}
	return DefaultCooldowns[name]
}

// degraded sets the degraded gauge: 1 while batches fail (the store or the
// sink cannot be reached), 0 once one succeeds again.
func (d *Detector) degraded(on bool) {
	if d.Metrics == nil {
		return
	}
	v := 0.0
	if on {
		v = 1
	}
	d.Metrics.Degraded.Set(v)
}

// Metrics are the detector's Prometheus metrics.
type Metrics struct {
	Alerts       prometheus.Counter
	Degraded     prometheus.Gauge
	DeadLettered prometheus.Counter
}

// NewMetrics registers the detector's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Alerts:       prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_detect_alerts_total", Help: "Alerts raised by the detector."}),
		Degraded:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "fluxera_detect_degraded", Help: "1 while the detector cannot check events or store alerts (Redis or PostgreSQL unreachable), else 0."}),
		DeadLettered: prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_detect_dead_lettered_total", Help: "Events the detector could never check, or whose alerts the store refused for good, set aside in its dead-letter topic."}),
	}
	reg.MustRegister(m.Alerts, m.Degraded, m.DeadLettered)
	return m
}
