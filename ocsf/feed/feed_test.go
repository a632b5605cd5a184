package feed

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ocsf"
)

// source hands out its messages once, then blocks until ctx ends; it
// records what was committed.
type source struct {
	mu        sync.Mutex
	msgs      []ingest.Message
	committed []ingest.Message
	done      chan struct{} // closed once everything handed out is committed
	once      sync.Once
}

func (s *source) Fetch(ctx context.Context) (ingest.Message, error) {
	s.mu.Lock()
	if len(s.msgs) > 0 {
		m := s.msgs[0]
		s.msgs = s.msgs[1:]
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	<-ctx.Done()
	return ingest.Message{}, ctx.Err()
}

func (s *source) Commit(_ context.Context, msgs []ingest.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = append(s.committed, msgs...)
	if len(s.msgs) == 0 {
		s.once.Do(func() { close(s.done) })
	}
	return nil
}

// sink refuses its first failures writes, then keeps what it is given.
type sink struct {
	failures  int
	published []Record
}

func (s *sink) Publish(_ context.Context, records []Record) error {
	if s.failures > 0 {
		s.failures--
		return errors.New("broker unavailable")
	}
	s.published = append(s.published, records...)
	return nil
}

func message(t *testing.T, offset int64, e activity.Event) ingest.Message {
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return ingest.Message{Offset: offset, Key: []byte(e.WorkspaceID), Value: b}
}

// TestFeedPublishesThenCommits checks that the feed writes every valid
// event, mapped and keyed by workspace, skips a malformed one, retries a
// refused write, and commits only after the write went through.
func TestFeedPublishesThenCommits(t *testing.T) {
	ws := "0195c1a8-6b1e-7000-8000-000000000001"
	login := activity.NewEvent(ws, "auth.login", time.Now())
	login.Actor = activity.Actor{ID: "0195c1a8-6b1e-7000-8000-0000000000aa", Name: "Ana", Type: activity.ActorUser}
	login.Resource = activity.Resource{Type: "session"}
	asset := activity.NewEvent(ws, "asset.created", time.Now())
	asset.Actor = login.Actor
	asset.Resource = activity.Resource{Type: "asset", ID: "0195c1a8-6b1e-7000-8000-0000000000bb", Name: "Laptop"}
	src := &source{done: make(chan struct{}), msgs: []ingest.Message{
		message(t, 0, login), {Offset: 1, Value: []byte("{not json")}, message(t, 2, asset),
	}}
	out := &sink{failures: 2}
	cfg := Config{FlushInterval: 10 * time.Millisecond, MaxBackoff: time.Millisecond}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	f := &Feed{Config: cfg, Source: src, Sink: out, Log: log}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- f.Run(ctx) }()
	<-src.done
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if len(src.committed) != 3 {
		t.Errorf("committed %d messages, want all 3", len(src.committed))
	}
	if len(out.published) != 2 {
		t.Fatalf("published %d events, want the 2 valid ones", len(out.published))
	}
	for i, want := range []struct {
		id    string
		class int
	}{{login.ID, ocsf.ClassAuthentication}, {asset.ID, ocsf.ClassEntityManagement}} {
		var o ocsf.Event
		if err := json.Unmarshal(out.published[i].Value, &o); err != nil {
			t.Fatal(err)
		}
		if o.Metadata.UID != want.id || o.ClassUID != want.class || string(out.published[i].Key) != ws {
			t.Errorf("record %d: key %s, event %s class %d; want %s class %d", i, out.published[i].Key, o.Metadata.UID, o.ClassUID, want.id, want.class)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for name, tt := range map[string]struct {
		cfg Config
		ok  bool
	}{
		"defaults":          {Config{}, true},
		"retention too low": {Config{Retention: time.Minute}, false},
		"negative batch":    {Config{BatchSize: -1}, false},
	} {
		t.Run(name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate(%+v) = %v", tt.cfg, err)
			}
			if tt.ok && (tt.cfg.Topic != ocsf.Topic || tt.cfg.Retention != 7*24*time.Hour) {
				t.Errorf("defaults %+v", tt.cfg)
			}
		})
	}
}
