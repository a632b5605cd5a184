package kafka

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/fluxera/activity/internal/stacktest"
)

// TestLagGaugeIsQuietBeforeTheGroupExists reads the lag of a group whose
// topic is not there yet, as on a first start, and expects no warning;
// once a read has worked, a failure warns.
func TestLagGaugeIsQuietBeforeTheGroupExists(t *testing.T) {
	brokers := stacktest.KafkaBrokers()
	stacktest.MustReach(t, "Kafka", brokers[0])
	id := stacktest.RandomID()
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	g := NewLagGauge(Config{Brokers: brokers, Topic: "test.lag.missing." + id, GroupID: "test-lag-" + id}, prometheus.NewRegistry(), log)
	warnings := func() int {
		n := 0
		for _, e := range hook.AllEntries() {
			if e.Level <= logrus.WarnLevel {
				n++
			}
		}
		return n
	}

	g.refresh(context.Background())
	if n := warnings(); n != 0 {
		t.Errorf("before the topic and group exist: %d warnings: %v", n, hook.LastEntry())
	}
	g.Config.Topic = stacktest.MustTopic(t, "lag", 2)
	stacktest.Eventually(t, "the lag is read", func() bool {
		g.refresh(context.Background())
		return g.measured
	})
	if n := warnings(); n != 0 {
		t.Fatalf("while the topic was made: %d warnings: %v", n, hook.LastEntry().Data)
	}
	g.Config.Topic = "test.lag.gone." + id
	g.refresh(context.Background())
	if n := warnings(); n != 1 {
		t.Errorf("a failure after a first read: %d warnings, want 1", n)
	}
}

func TestNotThereYet(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("fetch committed offsets: %w", kafka.GroupCoordinatorNotAvailable), true},
		{fmt.Errorf("fetch committed offsets: %w", kafka.GroupLoadInProgress), true},
		{fmt.Errorf("read topic metadata: %w", kafka.UnknownTopicOrPartition), true},
		{fmt.Errorf("read topic metadata: %w", kafka.LeaderNotAvailable), true},
		{fmt.Errorf("list end offset of partition 1: %w", kafka.NotLeaderForPartition), true},
		{fmt.Errorf("list end offsets: %w", kafka.RequestTimedOut), false},
		{errors.New("dial tcp 127.0.0.1:19092: connection refused"), false},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			if got := notThereYet(tc.err); got != tc.want {
				t.Errorf("notThereYet = %v, want %v", got, tc.want)
			}
		})
	}
}
