package detect_test

import (
	"fmt"
	"slices"
	"testing"

	activity "github.com/fluxera/activity"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/ingest/enrich"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestBatchSizeChangesNoVerdict checks the same working histories (4
// workspaces, every built-in detector on) one event at a time and in
// batches of several sizes, each on keys of its own: every run raises the
// same alerts, with the same counts and events, so checking a batch's
// events together in one script call per kind answers each as if it came
// alone.
func TestBatchSizeChangesNoVerdict(t *testing.T) {
	payloads, configs := profileStream(t, 3000)
	events := make([]activity.Event, len(payloads))
	for i, b := range payloads {
		e, err := activity.DecodeEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		events[i] = e
	}
	run := func(size int) []string {
		client, prefix := stacktest.MustRedis(t, "detect-batching")
		d, sink := newDetector(t, ingestredis.NewStore(client), prefix, configs)
		d.Locator = enrich.Bundled()
		MustDetect(t, d, size, events)
		var out []string
		for _, a := range sink.alerts() {
			out = append(out, fmt.Sprintf("%s %s %d %v", a.ID, brief(a), a.Count, a.EventIDs))
		}
		slices.Sort(out)
		return out
	}
	want := run(1)
	if len(want) == 0 {
		t.Fatal("the histories raised no alert; the test needs some")
	}
	t.Logf("%d events raise %d alerts", len(events), len(want))
	for _, size := range []int{7, 100, 500, len(events)} {
		t.Run(fmt.Sprintf("batches of %d", size), func(t *testing.T) {
			if got := run(size); !slices.Equal(got, want) {
				t.Errorf("batches of %d raised %d alerts, one at a time %d:\n%v\nwant\n%v", size, len(got), len(want), got, want)
			}
		})
	}
}
