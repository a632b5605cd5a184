package e2e

import (
	"context"
	"testing"

	"github.com/fluxera/activity/ingest/kafka"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestConsumerLagIsMeasured produces events before the indexer runs, checks
// the measured lag is all of them, and that it falls to zero once they are
// indexed, on the indexer's gauge too.
func TestConsumerLagIsMeasured(t *testing.T) {
	cfg := MustStack(t)
	m := app.NewMain(cfg)
	if err := m.Prepare(context.Background(), app.RoleIngest); err != nil {
		t.Fatal(err)
	}
	m.Close()
	const n = 500
	MustProduce(t, cfg, n)
	lag, err := kafka.GroupLag(context.Background(), cfg.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	if lag.Total != n {
		t.Fatalf("lag before indexing = %d, want %d (%v)", lag.Total, n, lag.Partitions)
	}
	started := MustStart(t, cfg, app.RoleIngest)
	stacktest.Eventually(t, "the indexer catches up", func() bool {
		lag, err := kafka.GroupLag(context.Background(), cfg.Consumer)
		return err == nil && lag.Total == 0
	})
	stacktest.Eventually(t, "the lag gauge reads zero", func() bool {
		mfs, err := started.Registry.Gather()
		if err != nil {
			return false
		}
		seen := false
		for _, mf := range mfs {
			if mf.GetName() == "fluxera_ingest_consumer_lag" {
				for _, metric := range mf.GetMetric() {
					seen = true
					if metric.GetGauge().GetValue() != 0 {
						return false
					}
				}
			}
		}
		return seen
	})
}
