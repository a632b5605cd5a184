package app

import (
	"strings"
	"testing"
	"time"
)

// TestLoadConfigTopicRetention reads how long the activity, dead-letter
// and alert topics keep messages, and refuses retentions under an hour.
func TestLoadConfigTopicRetention(t *testing.T) {
	tests := []struct {
		name                         string
		env                          map[string]string
		activity, deadLetter, alerts time.Duration
		err                          string
	}{
		{name: "defaults", env: map[string]string{}, activity: 168 * time.Hour, deadLetter: 336 * time.Hour, alerts: 168 * time.Hour},
		{name: "set", env: map[string]string{"FLUXERA_KAFKA_RETENTION": "72h", "FLUXERA_KAFKA_DLQ_RETENTION": "720h", "FLUXERA_KAFKA_ALERT_RETENTION": "24h"},
			activity: 72 * time.Hour, deadLetter: 720 * time.Hour, alerts: 24 * time.Hour},
		{name: "activity under an hour", env: map[string]string{"FLUXERA_KAFKA_RETENTION": "30m"}, err: "activity topic's retention"},
		{name: "dead letters under an hour", env: map[string]string{"FLUXERA_KAFKA_DLQ_RETENTION": "1m"}, err: "FLUXERA_KAFKA_DLQ_RETENTION"},
		{name: "alerts under an hour", env: map[string]string{"FLUXERA_KAFKA_ALERT_RETENTION": "-1h"}, err: "FLUXERA_KAFKA_ALERT_RETENTION"},
		{name: "no duration", env: map[string]string{"FLUXERA_KAFKA_RETENTION": "a week"}, err: "FLUXERA_KAFKA_RETENTION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(name string) string { return tt.env[name] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LoadConfig = %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Publisher.Retention != tt.activity || cfg.DeadLetterRetention != tt.deadLetter || cfg.AlertRetention != tt.alerts {
				t.Errorf("retention: activity %v, dead letters %v, alerts %v; want %v, %v, %v",
					cfg.Publisher.Retention, cfg.DeadLetterRetention, cfg.AlertRetention, tt.activity, tt.deadLetter, tt.alerts)
			}
		})
	}
}
