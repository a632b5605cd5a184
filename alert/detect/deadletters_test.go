package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/internal/topic"
)

// refusingSink stores alerts as recordingSink does, but refuses for good
// (EINVALID) every batch holding an alert of the refused workspace, or of
// a workspace whose id is not a UUID, as the PostgreSQL sink does.
type refusingSink struct {
	*recordingSink
	refused string
}

func (s refusingSink) Raise(ctx context.Context, alerts []alert.Alert) ([]alert.Alert, error) {
	for _, a := range alerts {
		if a.WorkspaceID == s.refused || uuid.Validate(a.WorkspaceID) != nil {
			return nil, activity.Errorf(activity.EINVALID, "", "the alert store refuses alert %s of workspace %q", a.ID, a.WorkspaceID)
		}
	}
	return s.recordingSink.Raise(ctx, alerts)
}

// TestDetectSetsAsideWhatItCanNeverCheck runs a detector on a Kafka
// partition of its own, with a dead-letter topic of its own, and sends it
// an event whose workspace id is not a UUID, an event whose alert the
// store refuses for good, a good event and garbage. The partition must
// move on: the good event's alert is stored and every offset committed;
// the refused event, and it alone, lands in the dead-letter topic with its
// bytes, the reason and where it came from; the invalid event and the
// garbage are skipped (the indexer sets them aside).
func TestDetectSetsAsideWhatItCanNeverCheck(t *testing.T) {
	consumer := ingestkafka.Config{
		Brokers:         stacktest.KafkaBrokers(),
		Topic:           stacktest.MustTopic(t, "detect", 1),
		DeadLetterTopic: stacktest.MustTopic(t, "detect-dlq", 1),
		GroupID:         "test-detector-" + stacktest.RandomID(),
	}
	if err := consumer.Validate(); err != nil {
		t.Fatal(err)
	}
	client, prefix := stacktest.MustRedis(t, "detect")
	good, refused, invalid := activity.NewEventID(), activity.NewEventID(), "not-a-workspace"
	deletions := alert.AlertRule{ID: activity.NewEventID(), Name: "License deletions", Enabled: true, ActivityTypes: []string{"license.deleted"}, Threshold: 1, GroupBy: alert.GroupByActor, Severity: "low"}
	configs := staticConfigs{}
	for _, ws := range []string{good, refused, invalid} {
		cfg := alwaysWorking()
		cfg.Rules = []alert.AlertRule{deletions}
		configs[ws] = cfg
	}
	d, recorded := newDetector(t, ingestredis.NewStore(client), prefix, configs)
	d.Now = nil
	d.Config.MaxBackoff = 200 * time.Millisecond
	d.Sink = refusingSink{recordingSink: recorded, refused: refused}
	src := ingestkafka.NewSource(consumer)
	dlq := ingestkafka.NewDeadLetters(consumer)
	d.Source, d.DeadLetters = src, dlq
	d.Metrics = detect.NewMetrics(prometheus.NewRegistry())

	gus := person("Gus Gold")
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	var msgs []kafka.Message
	var refusedBytes []byte
	for i, ws := range []string{invalid, refused, good} {
		e := event(ws, "license.deleted", gus, at.Add(time.Duration(i)*time.Second))
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if ws == refused {
			refusedBytes = b
		}
		msgs = append(msgs, kafka.Message{Key: []byte(ws), Value: b})
	}
	msgs = append(msgs, kafka.Message{Key: []byte(good), Value: []byte("{not json")})
	w := topic.NewWriter(consumer.Brokers, consumer.Topic)
	defer w.Close()
	if err := w.WriteMessages(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("detector stopped with an error: %v", err)
		}
		src.Close()
		dlq.Close()
	})

	lag := func() int64 {
		l, err := ingestkafka.GroupLag(t.Context(), consumer)
		if err != nil {
			return -1
		}
		return l.Total
	}
	stacktest.Eventually(t, "the good event's alert stored and every offset committed", func() bool {
		return len(recorded.alerts()) == 1 && lag() == 0
	})
	if a := recorded.alerts()[0]; a.WorkspaceID != good || a.RuleID != deletions.ID {
		t.Errorf("alert = %s in workspace %s, want the deletion rule's in %s", brief(a), a.WorkspaceID, good)
	}
	if n := testutil.ToFloat64(d.Metrics.DeadLettered); n != 1 {
		t.Errorf("dead-lettered counter = %v, want 1", n)
	}
	if g := testutil.ToFloat64(d.Metrics.Degraded); g != 0 {
		t.Errorf("degraded gauge = %v after the batch went through, want 0", g)
	}

	letters := readAll(t, consumer.Brokers[0], consumer.DeadLetterTopic)
	if len(letters) != 1 {
		t.Fatalf("the dead-letter topic holds %d messages, want the refused event alone", len(letters))
	}
	l := letters[0]
	headers := map[string]string{}
	for _, h := range l.Headers {
		headers[h.Key] = string(h.Value)
	}
	if string(l.Value) != string(refusedBytes) || string(l.Key) != refused {
		t.Errorf("dead letter %s: %s, want the refused event's key and bytes", l.Key, l.Value)
	}
	if !strings.Contains(headers["reason"], "refuses") || headers["source_topic"] != consumer.Topic || headers["source_partition"] != "0" || headers["source_offset"] != "1" {
		t.Errorf("dead letter headers = %v, want the store's refusal and %s/0/1", headers, consumer.Topic)
	}
}

// readAll reads every message of partition 0 of topic.
func readAll(tb testing.TB, broker, topic string) []kafka.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafka.DialLeader(ctx, "tcp", broker, topic, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	end, err := conn.ReadLastOffset()
	if err != nil {
		tb.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	var out []kafka.Message
	for int64(len(out)) < end {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			tb.Fatal(fmt.Errorf("read %s: %w", topic, err))
		}
		out = append(out, m)
	}
	return out
}
