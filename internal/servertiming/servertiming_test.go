package servertiming_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fluxera/activity/internal/servertiming"
)

func TestHeaderSumsEachMetricAndEndsWithApp(t *testing.T) {
	var timing servertiming.Timing
	ctx := servertiming.With(context.Background(), &timing)
	servertiming.Add(ctx, servertiming.Search, 2*time.Millisecond+231*time.Microsecond)
	servertiming.Add(ctx, servertiming.Decode, 460*time.Microsecond)
	servertiming.Add(ctx, servertiming.Search, time.Millisecond)
	got := timing.Header(4*time.Millisecond + 5*time.Microsecond + 999*time.Nanosecond)
	want := `search;dur=3.231;desc="2 times", decode;dur=0.460, app;dur=4.005`
	if got != want {
		t.Fatalf("header %q, want %q", got, want)
	}
	var none servertiming.Timing
	if got := none.Header(0); got != "app;dur=0.000" {
		t.Fatalf("header of a request that searched nothing %q", got)
	}
}

func TestAddWithoutATimingDoesNothing(t *testing.T) {
	servertiming.Add(context.Background(), servertiming.Search, time.Second) // must not panic
}

// TestWhatComesAfterTheHeaderIsNotTold records a search after the header
// was made, as an export's stream does after its answer began.
func TestWhatComesAfterTheHeaderIsNotTold(t *testing.T) {
	var timing servertiming.Timing
	ctx := servertiming.With(context.Background(), &timing)
	servertiming.Add(ctx, servertiming.Search, time.Millisecond)
	if got := timing.Header(2 * time.Millisecond); got != "search;dur=1.000, app;dur=2.000" {
		t.Fatalf("header %q", got)
	}
	servertiming.Add(ctx, servertiming.Search, time.Millisecond)
	servertiming.Add(ctx, servertiming.Decode, time.Millisecond)
	if got := timing.Header(2 * time.Millisecond); got != "search;dur=1.000, app;dur=2.000" {
		t.Fatalf("header after more was recorded %q", got)
	}
}

// TestAddFromManyGoroutines records from goroutines at once, as the
// searches of one analysis are sent; run it with -race.
func TestAddFromManyGoroutines(t *testing.T) {
	var timing servertiming.Timing
	ctx := servertiming.With(context.Background(), &timing)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				servertiming.Add(ctx, servertiming.Search, time.Microsecond)
			}
		})
	}
	wg.Wait()
	if got, want := timing.Header(time.Millisecond), `search;dur=0.800;desc="800 times", app;dur=1.000`; got != want {
		t.Fatalf("header %q, want %q", got, want)
	}
}
