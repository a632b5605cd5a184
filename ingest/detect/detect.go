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
	// Add records member at time at in the window key and returns how many
	// members fall within (at-window, at]. Adding a member twice counts once.
	Add(ctx context.Context, key, member string, at time.Time, window time.Duration) (int64, error)
	// Claim returns true the first time key is claimed within cooldown.
	Claim(ctx context.Context, key string, cooldown time.Duration) (bool, error)
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
		msgs, err := d.fetch(ctx)
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

func (d *Detector) fetch(ctx context.Context) ([]ingest.Message, error) {
	first, err := d.Source.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	msgs := []ingest.Message{first}
	fill, cancel := context.WithTimeout(ctx, d.Config.FlushInterval)
	defer cancel()
	for len(msgs) < d.Config.BatchSize {
		m, err := d.Source.Fetch(fill)
		if err != nil {
			break
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// check runs the rules over a batch and publishes what they raise.
func (d *Detector) check(ctx context.Context, msgs []ingest.Message) error {
	var raised []Alert
	for _, m := range msgs {
		e, err := activity.DecodeEvent(m.Value)
		if err != nil {
			continue // the indexer dead-letters it
		}
		alerts, err := d.failedLogins(ctx, e)
		if err != nil {
			return err
		}
		raised = append(raised, alerts...)
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

// failedLogins raises an alert at the threshold of failed logins within the
// window, per account and per source address.
func (d *Detector) failedLogins(ctx context.Context, e activity.Event) ([]Alert, error) {
	if e.Action != "auth.login_failed" {
		return nil, nil
	}
	type subject struct{ kind, id, label string }
	var subjects []subject
	if id := e.Actor.ID; id != "" {
		subjects = append(subjects, subject{"user", id, e.Actor.Email})
	} else if e.Actor.Email != "" {
		subjects = append(subjects, subject{"email", e.Actor.Email, e.Actor.Email})
	}
	if e.Context.IP != "" {
		subjects = append(subjects, subject{"ip", e.Context.IP, e.Context.IP})
	}
	var out []Alert
	for _, s := range subjects {
		// The workspace id in braces is the Redis Cluster hash tag: all of
		// a workspace's keys live on one slot.
		key := fmt.Sprintf("%s{%s}:failed_login:%s:%s", d.Prefix, e.WorkspaceID, s.kind, s.id)
		n, err := d.Windows.Add(ctx, key, e.ID, e.OccurredAt, d.Config.FailedLoginWindow)
		if err != nil {
			return nil, fmt.Errorf("count failed logins: %w", err)
		}
		if n < int64(d.Config.FailedLoginThreshold) {
			continue
		}
		first, err := d.Windows.Claim(ctx, key+":alerted", d.Config.Cooldown)
		if err != nil {
			return nil, fmt.Errorf("claim alert: %w", err)
		}
		if !first {
			continue
		}
		sum := sha256.Sum256([]byte(key + "|" + e.ID))
		out = append(out, Alert{
			ID:          hex.EncodeToString(sum[:16]),
			WorkspaceID: e.WorkspaceID,
			Rule:        "failed_logins",
			Severity:    "high",
			Summary:     fmt.Sprintf("%d failed logins for %s %s within %s", n, s.kind, s.label, d.Config.FailedLoginWindow),
			RaisedAt:    e.OccurredAt,
			Count:       n,
			Window:      d.Config.FailedLoginWindow.String(),
			Subject:     map[string]any{"type": s.kind, "id": s.id, "label": s.label},
			EventID:     e.ID,
		})
	}
	return out, nil
}
