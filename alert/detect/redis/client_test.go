package redis

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/fluxera/activity/alert/detect"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestCallsToAStalledRedisGiveUp points the detector's store at a Redis
// that accepts connections and never answers: a command and a batch of
// checks, sent without a deadline of their own, each fail with a timeout
// instead of waiting forever.
func TestCallsToAStalledRedisGiveUp(t *testing.T) {
	stall := stacktest.MustStall(t)
	cfg := Config{Addr: stall.Addr, Timeout: 200 * time.Millisecond}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client := NewClient(cfg)
	defer client.Close()
	ctx := context.Background()
	var timeout net.Error
	if err := client.Ping(ctx).Err(); !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("PING answered %v, want a timeout", err)
	}
	check := detect.WindowCheck{Key: "test:stalled:w", EventID: "e-1", At: time.Now(), Window: time.Minute, Keep: time.Hour, Last: 1}
	if _, err := NewStore(client).Check(ctx, detect.Checks{Windows: []detect.WindowCheck{check}}); !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("a batch of checks answered %v, want a timeout", err)
	}
}
