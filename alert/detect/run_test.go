package detect_test

import (
	"context"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/ingest"
)

// TestBatchesAreCheckedWhileAnOffsetCommitIsUnderway runs the detector
// over three failed logins from one address, one batch each, with a
// source whose first commit does not return until the alert of the third
// login is stored: the detector checks the next batches while a commit is
// underway, and then commits every batch, in order.
func TestBatchesAreCheckedWhileAnOffsetCommitIsUnderway(t *testing.T) {
	d, sink := MustDetector(t, staticConfigs{})
	d.Config.BatchSize = 1
	ws, who := activity.NewEventID(), person("Ada Lovelace")
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	var events []activity.Event
	for i := range 3 {
		events = append(events, failedLogin(ws, who, "203.0.113.9", at.Add(time.Duration(i)*time.Second)))
	}
	alerted := make(chan struct{})
	d.Sink = &signallingSink{Sink: sink, raised: alerted}
	src := &slowFirstCommit{scriptedSource: newScriptedSource(t, events), until: alerted}
	d.Source = src

	// The deadline only keeps a regression from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var offsets []int64
	for len(offsets) < len(src.msgs) {
		select {
		case msgs := <-src.commits:
			for _, m := range msgs {
				offsets = append(offsets, m.Offset)
			}
		case <-ctx.Done():
			t.Fatalf("committed offsets %v before the first commit gave up waiting for the alert of the last batch", offsets)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, o := range offsets {
		if o != int64(i) {
			t.Fatalf("committed offsets %v, want every offset in order", offsets)
		}
	}
	if got := len(sink.alerts()); got == 0 {
		t.Error("no alert raised for three failed logins")
	}
}

// slowFirstCommit is a scripted source whose first commit waits until
// until is closed.
type slowFirstCommit struct {
	*scriptedSource
	once  sync.Once
	until <-chan struct{}
}

func (s *slowFirstCommit) Commit(ctx context.Context, msgs []ingest.Message) error {
	var err error
	s.once.Do(func() {
		select {
		case <-s.until:
		case <-ctx.Done():
			err = ctx.Err()
		}
	})
	if err != nil {
		return err
	}
	return s.scriptedSource.Commit(ctx, msgs)
}

// signallingSink closes raised once it has stored an alert.
type signallingSink struct {
	alert.Sink
	raised chan struct{}
	once   sync.Once
}

func (s *signallingSink) Raise(ctx context.Context, alerts []alert.Alert) ([]alert.Alert, error) {
	out, err := s.Sink.Raise(ctx, alerts)
	if err == nil && len(out) > 0 {
		s.once.Do(func() { close(s.raised) })
	}
	return out, err
}
