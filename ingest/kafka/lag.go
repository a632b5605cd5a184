package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/sirupsen/logrus"
)

// Lag is how far a consumer group is behind the end of its topic.
type Lag struct {
	// Partitions maps each partition to the messages not yet committed.
	Partitions map[int]int64
	Total      int64
}

// GroupLag asks the brokers how far cfg's consumer group is behind: the end
// offset of each partition minus the group's committed offset (all of the
// partition when the group has committed nothing there).
func GroupLag(ctx context.Context, cfg Config) (Lag, error) {
	client := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
	if err != nil {
		return Lag{}, fmt.Errorf("read topic metadata: %w", err)
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name == cfg.Topic {
			if t.Error != nil {
				return Lag{}, fmt.Errorf("read topic metadata: %w", t.Error)
			}
			for _, p := range t.Partitions {
				parts = append(parts, p.ID)
			}
		}
	}
	var reqs []kafka.OffsetRequest
	for _, p := range parts {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{cfg.Topic: reqs}})
	if err != nil {
		return Lag{}, fmt.Errorf("list end offsets: %w", err)
	}
	committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: cfg.GroupID, Topics: map[string][]int{cfg.Topic: parts}})
	if err != nil {
		return Lag{}, fmt.Errorf("fetch committed offsets: %w", err)
	}
	if committed.Error != nil {
		return Lag{}, fmt.Errorf("fetch committed offsets: %w", committed.Error)
	}
	done := map[int]int64{}
	for _, p := range committed.Topics[cfg.Topic] {
		done[p.Partition] = p.CommittedOffset
	}
	lag := Lag{Partitions: map[int]int64{}}
	for _, p := range ends.Topics[cfg.Topic] {
		if p.Error != nil {
			return Lag{}, fmt.Errorf("list end offset of partition %d: %w", p.Partition, p.Error)
		}
		start, ok := done[p.Partition]
		if !ok || start < 0 {
			start = p.FirstOffset
		}
		n := max(0, p.LastOffset-start)
		lag.Partitions[p.Partition] = n
		lag.Total += n
	}
	return lag, nil
}

// LagGauge publishes the group's lag per partition as the Prometheus gauge
// fluxera_ingest_consumer_lag, refreshed every interval until ctx ends.
type LagGauge struct {
	Config   Config
	Interval time.Duration
	Log      logrus.FieldLogger
	gauge    *prometheus.GaugeVec
	// measured is whether a read of the lag has worked yet.
	measured bool
}

// NewLagGauge registers the lag gauge of cfg's group on reg.
func NewLagGauge(cfg Config, reg prometheus.Registerer, log logrus.FieldLogger) *LagGauge {
	g := &LagGauge{Config: cfg, Interval: 5 * time.Second, Log: log, gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fluxera_ingest_consumer_lag", Help: "Messages of the activity topic not yet committed by the indexer's group, per partition.",
	}, []string{"partition"})}
	reg.MustRegister(g.gauge)
	return g
}

// Run refreshes the gauge until ctx ends. Failures are logged and tried
// again at the next interval; they never stop the indexer.
func (g *LagGauge) Run(ctx context.Context) {
	t := time.NewTicker(g.Interval)
	defer t.Stop()
	for {
		g.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh reads the lag once into the gauge. Until a first read works, a
// group or topic that is not there yet (see notThereYet) is no failure: on
// a first start the indexer has not joined, or the broker not made the
// group's coordinator, and the lag is read once they are. Every other
// failure, and every failure after a first read, is logged as a warning.
func (g *LagGauge) refresh(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, g.Interval)
	lag, err := GroupLag(c, g.Config)
	cancel()
	switch {
	case err == nil:
		g.measured = true
	case ctx.Err() != nil:
	case !g.measured && notThereYet(err):
		g.Log.WithError(err).Debug("The consumer group is not there yet; its lag is read once it is.")
	default:
		g.Log.WithError(err).Warn("Reading the consumer lag failed.")
	}
	for p, n := range lag.Partitions {
		g.gauge.WithLabelValues(strconv.Itoa(p)).Set(float64(n))
	}
}

// notThereYet reports whether err says that the group's coordinator or the
// topic does not exist yet, or is still being loaded or given its leaders,
// as just after the topic is created.
func notThereYet(err error) bool {
	for _, e := range []kafka.Error{kafka.GroupCoordinatorNotAvailable, kafka.GroupLoadInProgress, kafka.NotCoordinatorForGroup,
		kafka.UnknownTopicOrPartition, kafka.LeaderNotAvailable, kafka.NotLeaderForPartition} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
