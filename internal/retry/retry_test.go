package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/fluxera/activity/internal/retry"
)

func TestDelayDoublesUpToTheCeiling(t *testing.T) {
	b := retry.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	for i, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		if got := b.Delay(i + 1); got != want*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, want*time.Millisecond)
		}
	}
	if got := b.Delay(10_000); got != time.Second {
		t.Errorf("Delay(10000) = %v, want the ceiling", got)
	}
}

func TestJitterTakesOffAtMostItsShare(t *testing.T) {
	b := retry.Backoff{Initial: time.Second, Max: time.Minute, Jitter: 0.5}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := b.Delay(3)
		if d > 4*time.Second || d < 2*time.Second {
			t.Fatalf("Delay(3) with jitter 0.5 = %v, want within [2s, 4s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Error("jittered delays are all the same")
	}
}

func TestAttemptsCountFailuresInARow(t *testing.T) {
	a := retry.Backoff{Initial: 10 * time.Millisecond, Max: time.Second}.Attempts()
	for i, want := range []time.Duration{10, 20, 40} {
		if got := a.Failed(); got != want*time.Millisecond {
			t.Errorf("failure %d waits %v, want %v", i+1, got, want*time.Millisecond)
		}
	}
	if a.Failures() != 3 {
		t.Errorf("Failures() = %d, want 3", a.Failures())
	}
	a.Succeeded()
	if got := a.Failed(); got != 10*time.Millisecond {
		t.Errorf("after a success the first failure waits %v, want 10ms", got)
	}
}

func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		b  retry.Backoff
		ok bool
	}{
		"valid":            {retry.Backoff{Initial: time.Second, Max: time.Minute, Jitter: 0.2}, true},
		"zero initial":     {retry.Backoff{Max: time.Minute}, false},
		"max below":        {retry.Backoff{Initial: time.Minute, Max: time.Second}, false},
		"negative jitter":  {retry.Backoff{Initial: time.Second, Max: time.Second, Jitter: -0.1}, false},
		"jitter above one": {retry.Backoff{Initial: time.Second, Max: time.Second, Jitter: 1.5}, false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.b.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if retry.Sleep(ctx, time.Hour) {
		t.Error("Sleep on an ended context reports that the delay passed")
	}
	if !retry.Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep reports that a passed delay did not pass")
	}
}
