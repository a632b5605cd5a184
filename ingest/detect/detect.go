// Package detect watches the activity stream for security red flags. It
// reads the topic in a consumer group of its own, counts events in sliding
// windows scored by each event's own time, and raises an alert when a
// threshold is crossed. Offsets are committed only after the batch is
// fully checked, so a restart re-checks, and the windows (keyed by event id)
// never count a redelivered event twice.
package detect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
)

// AlertTopic carries raised alerts, for notifications and SIEMs.
const AlertTopic = "fluxera.alerts.v1"

// Windows counts events in sliding windows.
type Windows interface {
	// Add records each entry in its window, in order, and returns for each
	// how many members fall within (At-Window, At] once it is added. Adding
	// a member twice counts it once. The whole batch is one round trip.
	Add(ctx context.Context, entries []WindowEntry) ([]int64, error)
	// Claim returns, for each key in order, whether this call claimed it:
	// true the first time a key is claimed within cooldown.
	Claim(ctx context.Context, keys []string, cooldown time.Duration) ([]bool, error)
}

// WindowEntry is one event counted in one window.
type WindowEntry struct {
	Key    string
	Member string
	At     time.Time
	Window time.Duration
}

// Alert is a red flag raised for a workspace.
type Alert struct {
	ID          string         `json:"id"`
	WorkspaceID string         `json:"workspace_id"`
	Rule        string         `json:"rule"`
	Severity    string         `json:"severity"`
	Summary     string         `json:"summary"`
	RaisedAt    time.Time      `json:"raised_at"`
	Count       int64          `json:"count"`
	Window      string         `json:"window"`
	Subject     map[string]any `json:"subject"`
	EventID     string         `json:"event_id"`
}

// Alerts is where raised alerts go.
type Alerts interface {
	Publish(ctx context.Context, alerts []Alert) error
}

// Config holds the thresholds of the built-in rules.
type Config struct {
	FailedLoginThreshold int
	FailedLoginWindow    time.Duration
	Cooldown             time.Duration
	BatchSize            int
	FlushInterval        time.Duration
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.FailedLoginThreshold == 0 {
		c.FailedLoginThreshold = 3
	}
	if c.FailedLoginWindow == 0 {
		c.FailedLoginWindow = 10 * time.Minute
	}
	if c.Cooldown == 0 {
		c.Cooldown = 10 * time.Minute
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 50 * time.Millisecond
	}
	if c.FailedLoginThreshold < 1 || c.FailedLoginWindow <= 0 || c.Cooldown <= 0 || c.BatchSize < 1 {
		return fmt.Errorf("detect: thresholds, windows and batch size must be positive")
	}
	return nil
}

// Detector checks every event against the built-in rules.
type Detector struct {
	Config  Config
	Source  ingest.Source
	Windows Windows
	Alerts  Alerts
	Log     logrus.FieldLogger
	// Prefix starts every Redis key; tests use their own.
	Prefix string
	// Raised counts alerts, if set.
	Raised func(n int)
}

// Run checks events until ctx ends. While Redis or the alert topic is
// unavailable it retries the batch and commits nothing.
func (d *Detector) Run(ctx context.Context) error {
	for {
		msgs, err := ingest.FetchBatch(ctx, d.Source, d.Config.BatchSize, 0, d.Config.FlushInterval)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch: %w", err)
		}
		backoff := 100 * time.Millisecond
		for {
			err := d.check(ctx, msgs)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			d.Log.WithError(err).WithField("retry_in_ms", backoff.Milliseconds()).Warn("Detection degraded; retrying the batch.")
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
		}
		if err := d.Source.Commit(ctx, msgs); err != nil && ctx.Err() == nil {
			d.Log.WithError(err).Warn("Offset commit failed; the batch will be checked again.")
		}
	}
}

// check runs the rules over a batch and publishes what they raise. Redis
// sees two round trips per batch, whatever its size: one to count every
// event in its windows, one to claim the alerts of windows over threshold.
func (d *Detector) check(ctx context.Context, msgs []ingest.Message) error {
	var hits []failedLogin
	for _, m := range msgs {
		e, err := activity.DecodeEvent(m.Value)
		if err != nil {
			continue // the indexer dead-letters it
		}
		hits = append(hits, d.failedLogins(e)...)
	}
	if len(hits) == 0 {
		return nil
	}
	entries := make([]WindowEntry, len(hits))
	for i, h := range hits {
		entries[i] = WindowEntry{Key: h.key, Member: h.event.ID, At: h.event.OccurredAt, Window: d.Config.FailedLoginWindow}
	}
	counts, err := d.Windows.Add(ctx, entries)
	if err != nil {
		return fmt.Errorf("count failed logins: %w", err)
	}
	var over []failedLogin
	var claimKeys []string
	for i, h := range hits {
		if counts[i] >= int64(d.Config.FailedLoginThreshold) {
			h.count = counts[i]
			over = append(over, h)
			claimKeys = append(claimKeys, h.key+":alerted")
		}
	}
	if len(over) == 0 {
		return nil
	}
	claimed, err := d.Windows.Claim(ctx, claimKeys, d.Config.Cooldown)
	if err != nil {
		return fmt.Errorf("claim alerts: %w", err)
	}
	var raised []Alert
	for i, h := range over {
		if claimed[i] {
			raised = append(raised, d.failedLoginAlert(h))
		}
	}
	if len(raised) == 0 {
		return nil
	}
	if err := d.Alerts.Publish(ctx, raised); err != nil {
		return fmt.Errorf("publish alerts: %w", err)
	}
	if d.Raised != nil {
		d.Raised(len(raised))
	}
	for _, a := range raised {
		d.Log.WithFields(logrus.Fields{"workspace_id": a.WorkspaceID, "rule": a.Rule, "alert_id": a.ID, "count": a.Count}).Warn(a.Summary)
	}
	return nil
}

// failedLogin is one failed login counted against one subject: the
// account, or the source address.
type failedLogin struct {
	event           activity.Event
	key             string
	kind, id, label string
	count           int64
}

// failedLogins returns the windows a failed login counts in: one per
// account and one per source address.
func (d *Detector) failedLogins(e activity.Event) []failedLogin {
	if e.Action != "auth.login_failed" {
		return nil
	}
	var out []failedLogin
	add := func(kind, id, label string) {
		// The workspace id in braces is the Redis Cluster hash tag: all of
		// a workspace's keys live on one slot.
		key := fmt.Sprintf("%s{%s}:failed_login:%s:%s", d.Prefix, e.WorkspaceID, kind, id)
		out = append(out, failedLogin{event: e, key: key, kind: kind, id: id, label: label})
	}
	if e.Actor.ID != "" {
		add("user", e.Actor.ID, e.Actor.Email)
	} else if e.Actor.Email != "" {
		add("email", e.Actor.Email, e.Actor.Email)
	}
	if e.Context.IP != "" {
		add("ip", e.Context.IP, e.Context.IP)
	}
	return out
}

func (d *Detector) failedLoginAlert(h failedLogin) Alert {
	sum := sha256.Sum256([]byte(h.key + "|" + h.event.ID))
	return Alert{
		ID:          hex.EncodeToString(sum[:16]),
		WorkspaceID: h.event.WorkspaceID,
		Rule:        "failed_logins",
		Severity:    "high",
		Summary:     fmt.Sprintf("%d failed logins for %s %s within %s", h.count, h.kind, h.label, d.Config.FailedLoginWindow),
		RaisedAt:    h.event.OccurredAt,
		Count:       h.count,
		Window:      d.Config.FailedLoginWindow.String(),
		Subject:     map[string]any{"type": h.kind, "id": h.id, "label": h.label},
		EventID:     h.event.ID,
	}
}
