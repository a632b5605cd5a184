package detect_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/internal/stacktest"
)

// clock is the injected time alerts are raised at.
var clock = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// MustDetector returns a detector on the test's Redis keys, with the
// given workspace configurations and a recording sink.
func MustDetector(tb testing.TB, configs staticConfigs) (*detect.Detector, *recordingSink) {
	tb.Helper()
	client, prefix := stacktest.MustRedis(tb, "detect")
	return newDetector(tb, ingestredis.NewStore(client), prefix, configs)
}

func newDetector(tb testing.TB, store detect.Store, prefix string, configs staticConfigs) (*detect.Detector, *recordingSink) {
	tb.Helper()
	cfg := detect.Config{BatchSize: 50, FlushInterval: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	sink := &recordingSink{stored: map[string]alert.Alert{}}
	return &detect.Detector{
		Config:  cfg,
		Store:   store,
		Configs: configs,
		Sink:    sink,
		Log:     log.WithField("component", "detect"),
		Prefix:  prefix,
		Now:     func() time.Time { return clock },
	}, sink
}

// staticConfigs gives each workspace a fixed configuration, and berlin()
// to any other.
type staticConfigs map[string]alert.WorkspaceConfig

func (c staticConfigs) Config(_ context.Context, workspaceID string) (alert.WorkspaceConfig, error) {
	if ws, ok := c[workspaceID]; ok {
		return ws, nil
	}
	return berlin(), nil
}

// berlin is a workspace in Europe/Berlin working Monday to Friday, 09:00
// to 17:00, with the default detection settings.
func berlin() alert.WorkspaceConfig {
	loc, _ := time.LoadLocation("Europe/Berlin")
	return alert.WorkspaceConfig{
		Location:    loc,
		WorkStart:   9 * 60,
		WorkEnd:     17 * 60,
		WorkingDays: weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday),
		Detection:   alert.DefaultDetectionSettings(),
	}
}

// alwaysWorking is a UTC workspace working all day every day, so that
// unusual_time only ever speaks from learned hours.
func alwaysWorking() alert.WorkspaceConfig {
	return alert.WorkspaceConfig{
		Location:    time.UTC,
		WorkingDays: weekdays(time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday),
		Detection:   alert.DefaultDetectionSettings(),
	}
}

func weekdays(days ...time.Weekday) [7]bool {
	var out [7]bool
	for _, d := range days {
		out[d] = true
	}
	return out
}

// recordingSink stores alerts in memory by id, as the PostgreSQL sink
// does, and can be told to fail.
type recordingSink struct {
	mu     sync.Mutex
	stored map[string]alert.Alert
	order  []alert.Alert
	calls  int
	// failures is how many of the next calls fail.
	failures int
}

var errSinkDown = errors.New("sink down")

func (s *recordingSink) Raise(_ context.Context, alerts []alert.Alert) ([]alert.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failures > 0 {
		s.failures--
		return nil, errSinkDown
	}
	var out []alert.Alert
	for _, a := range alerts {
		if _, ok := s.stored[a.ID]; ok {
			continue
		}
		s.stored[a.ID] = a
		s.order = append(s.order, a)
		out = append(out, a)
	}
	return out, nil
}

func (s *recordingSink) alerts() []alert.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]alert.Alert(nil), s.order...)
}

func (s *recordingSink) failNext(n int) {
	s.mu.Lock()
	s.failures = n
	s.mu.Unlock()
}

// brief is an alert in a few words: "failed_logins user:<id> 3".
func brief(a alert.Alert) string {
	source := a.Detector
	if source == "" {
		source = "rule " + a.RuleName
	}
	return fmt.Sprintf("%s %s:%s %d", source, a.Subject.Type, a.Subject.ID, a.Count)
}

func briefs(alerts []alert.Alert) []string {
	out := make([]string, len(alerts))
	for i, a := range alerts {
		out[i] = brief(a)
	}
	sort.Strings(out)
	return out
}

// MustDetect checks events in batches of size, failing the test on error.
func MustDetect(tb testing.TB, d *detect.Detector, size int, events []activity.Event) {
	tb.Helper()
	for len(events) > 0 {
		n := min(size, len(events))
		if err := d.Detect(context.Background(), events[:n]); err != nil {
			tb.Fatal(err)
		}
		events = events[n:]
	}
}

// person is a user of the workspace.
func person(name string) activity.Actor {
	return activity.Actor{ID: activity.NewEventID(), Email: strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@example.com", Name: name, Type: activity.ActorUser, Role: activity.RoleMember}
}

// event returns a successful action of actor in ws at the given time.
func event(ws, action string, actor activity.Actor, at time.Time, opts ...func(*activity.Event)) activity.Event {
	e := activity.NewEvent(ws, action, at)
	e.Actor = actor
	e.Resource = activity.Resource{Type: activity.CategoryOf(action), ID: activity.NewEventID(), Name: "Thing"}
	e.Context = activity.Context{Method: activity.MethodWeb}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func failedLogin(ws string, actor activity.Actor, ip string, at time.Time) activity.Event {
	return event(ws, "auth.login_failed", actor, at, fromIP(ip), func(e *activity.Event) {
		e.Outcome = activity.OutcomeFailure
		e.Resource = activity.Resource{Type: "user", ID: actor.ID, Name: actor.Email}
	})
}

func fromIP(ip string) func(*activity.Event) {
	return func(e *activity.Event) { e.Context.IP = ip }
}

func inSession(id string) func(*activity.Event) {
	return func(e *activity.Event) { e.Context.SessionID = id }
}

func locatedAt(country, city, network string) func(*activity.Event) {
	return func(e *activity.Event) {
		e.Context.Location = &activity.Location{Country: country, City: city, Network: network}
	}
}

// equal reports whether two sorted lists are the same.
func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
