package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"

	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestConcurrentEditsReachTheStreamInOrder edits one asset from many
// clients at once and checks that the stream tells a consistent story:
// every edit's before is the previous edit's after.
func TestConcurrentEditsReachTheStreamInOrder(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay)
	owner := mustOwner(t, m, cfg, "Order")
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Shared laptop", "location": "start"}, nil), "asset")
	const clients, edits = 8, 15
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < edits; i++ {
				a := owner.call("PATCH", "/api/v1/assets/"+asset, map[string]string{"location": fmt.Sprintf("desk %d-%d", c, i)}, nil)
				if a.status != 200 {
					t.Errorf("edit: %d %s", a.status, a.body)
				}
			}
		}()
	}
	wg.Wait()

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.Publisher.Topic, GroupID: "test-order-" + stacktest.RandomID(), StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seen := map[string]bool{}
	last := "start"
	for n := 0; n < clients*edits; {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d of %d edits: %v", n, clients*edits, err)
		}
		e, err := activity.DecodeEvent(msg.Value)
		if err != nil || e.Action != "asset.updated" || e.Resource.ID != asset || seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		n++
		c, _ := changeOf(e, "location")
		if c.Before != last {
			t.Fatalf("edit %d changed location from %q, but the previous edit left %q", n, c.Before, last)
		}
		last = c.After
	}
}
