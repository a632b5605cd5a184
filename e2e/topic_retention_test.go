package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/fluxera/activity/internal/app"
)

// TestTopicRetention prepares the topics as the roles that use Kafka do,
// and reads back from the broker that each topic the platform creates has
// the retention configured for it: the raw events carry personal data, so
// how long Kafka keeps them is set on purpose, never left to the broker.
func TestTopicRetention(t *testing.T) {
	cfg := MustStack(t)
	cfg.Publisher.Retention = 30 * time.Hour
	cfg.DeadLetterRetention = 50 * time.Hour
	cfg.AlertRetention = 20 * time.Hour
	cfg.OCSF.Retention = 40 * time.Hour
	if err := app.NewMain(cfg).Prepare(context.Background(), app.RoleOCSF); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		topic     string
		retention time.Duration
	}{
		{"activity", cfg.Publisher.Topic, cfg.Publisher.Retention},
		{"indexer dead letters", cfg.Consumer.DeadLetterTopic, cfg.DeadLetterRetention},
		{"detector dead letters", cfg.DetectDeadLetterTopic, cfg.DeadLetterRetention},
		{"alerts", cfg.AlertTopic, cfg.AlertRetention},
		{"OCSF", cfg.OCSF.Topic, cfg.OCSF.Retention},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conf := describeTopic(t, cfg, tt.topic)
			if got, want := conf["retention.ms"], strconv.FormatInt(tt.retention.Milliseconds(), 10); got != want {
				t.Errorf("retention.ms of %s = %q, want %q", tt.topic, got, want)
			}
		})
	}
}
