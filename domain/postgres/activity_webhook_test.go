package postgres_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/integration"
)

// TestWebhookQueue queues events for the webhooks whose filters pass
// them, each event once however often it is queued, and hands out each
// webhook's deliveries one at a time, in order: the head is claimed by one
// caller, a failed head holds the rest back until it is retried, and the
// third failure in a row pauses the webhook with an event by the platform.
func TestWebhookQueue(t *testing.T) {
	db := postgrestest.MustDB(t)
	ctx := t.Context()
	owner := mustOwner(t, db, "Queued")
	other := mustOwner(t, db, "Not queued")
	box := postgrestest.MustKeyBox(t)
	hooks := postgres.NewWebhookService(db, box, nil)
	queue := postgres.NewWebhookQueue(db, box)
	assets, err := hooks.CreateWebhook(ctx, owner, integration.WebhookCreate{Name: "Assets", URL: "https://93.184.215.14/a", Filter: integration.Filter{Categories: []string{"asset"}}})
	if err != nil {
		t.Fatal(err)
	}
	all, err := hooks.CreateWebhook(ctx, owner, integration.WebhookCreate{Name: "All", URL: "https://93.184.215.14/b"})
	if err != nil {
		t.Fatal(err)
	}
	event := func(ws, action string) (activity.Event, []byte) {
		e := activity.NewEvent(ws, action, time.Now().UTC())
		raw, _ := json.Marshal(e)
		return e, raw
	}
	var events []activity.Event
	for _, action := range []string{"asset.created", "license.created", "asset.updated"} {
		e, raw := event(owner.WorkspaceID, action)
		events = append(events, e)
		for range 2 { // handed over twice, queued once
			if _, err := queue.Enqueue(ctx, e, raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	if e, raw := event(other.WorkspaceID, "asset.created"); true {
		if n, err := queue.Enqueue(ctx, e, raw); err != nil || n != 0 {
			t.Fatalf("another workspace's event queued %d: %v", n, err)
		}
	}
	for _, w := range []struct {
		hook integration.Webhook
		want int
	}{{assets, 2}, {all, 3}} {
		got, err := hooks.FindWebhook(ctx, owner, w.hook.ID)
		if err != nil || got.State.Pending != w.want {
			t.Fatalf("%s waits for %d deliveries, want %d (%v)", w.hook.Name, got.State.Pending, w.want, err)
		}
	}

	claim := func() map[string]integration.Delivery {
		ds, err := queue.Claim(ctx, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]integration.Delivery{}
		for _, d := range ds {
			out[d.WebhookID] = d
		}
		return out
	}
	eventOf := func(d integration.Delivery) string {
		var e activity.Event
		json.Unmarshal(d.Event, &e)
		return e.ID
	}
	heads := claim()
	if len(heads) != 2 || eventOf(heads[assets.ID]) != events[0].ID || eventOf(heads[all.ID]) != events[0].ID || string(heads[all.ID].Secret) != all.Secret {
		t.Fatalf("first claim: %+v", heads)
	}
	if again := claim(); len(again) != 0 {
		t.Fatalf("claimed webhooks were claimed again: %+v", again)
	}
	// The "all" webhook's head fails three times in a row; the assets
	// webhook's goes through.
	if _, err := queue.Finish(ctx, heads[assets.ID], integration.Outcome{Status: 204}); err != nil {
		t.Fatal(err)
	}
	failed := heads[all.ID]
	for i := 1; i <= 3; i++ {
		paused, err := queue.Finish(ctx, failed, integration.Outcome{Status: 500, Err: errors.New("the endpoint answered 500"), RetryAt: time.Now().Add(-time.Second), PauseAfter: 3})
		if err != nil || paused != (i == 3) {
			t.Fatalf("failure %d: paused %v, %v", i, paused, err)
		}
		if i < 3 {
			next := claim()
			if d := next[all.ID]; d.ID != failed.ID || d.Attempts != i {
				t.Fatalf("after failure %d the head is %s (attempts %d), want %s again", i, d.ID, d.Attempts, failed.ID)
			}
			if d, ok := next[assets.ID]; ok {
				if eventOf(d) != events[2].ID {
					t.Fatalf("the assets webhook's second delivery is event %s", eventOf(d))
				}
				queue.Finish(ctx, d, integration.Outcome{Status: 204})
			}
		}
	}
	if next := claim(); len(next) != 0 {
		t.Fatalf("a paused webhook was claimed: %+v", next)
	}
	got, _ := hooks.FindWebhook(ctx, owner, all.ID)
	if s := got.State; !s.Paused || s.Failures != 3 || s.LastStatus != 500 || s.Pending != 3 || s.PausedReason == "" {
		t.Errorf("paused state: %+v", s)
	}
	var payload string
	if err := db.NewSelect().TableExpr("outbox").ColumnExpr("payload::text").OrderExpr("seq DESC").Limit(1).Scan(ctx, &payload); err != nil {
		t.Fatal(err)
	}
	var e activity.Event
	json.Unmarshal([]byte(payload), &e)
	if e.Action != "system.integration_configured" || e.Details["change"] != integration.ChangePaused || e.Actor.Type != activity.ActorSystem || e.Resource.ID != all.ID {
		t.Errorf("the pause was recorded as %s %v by %s", e.Action, e.Details["change"], e.Actor.Type)
	}
}
