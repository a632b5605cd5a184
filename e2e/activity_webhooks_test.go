package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/integration"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/retry"
	"github.com/fluxera/activity/internal/stacktest"
)

// activityHookConfig is the stack of the webhook tests: webhooks may
// reach the test's receiver on loopback, and retries come quickly.
func activityHookConfig(t *testing.T) app.Config {
	cfg := MustStack(t)
	cfg.Targets.AllowLoopback = true
	cfg.Relay.PollInterval = 50 * time.Millisecond
	cfg.Deliver.PollInterval = 20 * time.Millisecond
	cfg.Deliver.Retry = retry.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	return cfg
}

// activityHooks is a webhook receiver on loopback that answers with the
// statuses it is given, in turn, then with 204 (or always with fail).
type activityHooks struct {
	url     string
	mu      sync.Mutex
	reqs    []activityHookRequest
	answers []int
	fail    int
}

type activityHookRequest struct {
	header  http.Header
	body    []byte
	status  int
	payload struct {
		Type     string         `json:"type"`
		Delivery string         `json:"delivery"`
		Webhook  string         `json:"webhook"`
		Replay   string         `json:"replay"`
		Event    activity.Event `json:"event"`
	}
}

func newActivityHooks(t *testing.T) *activityHooks {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &activityHooks{url: "http://" + ln.Addr().String() + "/activity"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := activityHookRequest{header: r.Header.Clone()}
		req.body, _ = io.ReadAll(r.Body)
		json.Unmarshal(req.body, &req.payload)
		h.mu.Lock()
		req.status = http.StatusNoContent
		switch {
		case h.fail != 0:
			req.status = h.fail
		case len(h.answers) > 0:
			req.status, h.answers = h.answers[0], h.answers[1:]
		}
		h.reqs = append(h.reqs, req)
		h.mu.Unlock()
		w.WriteHeader(req.status)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

// all returns every request received, refused ones included.
func (h *activityHooks) all() []activityHookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]activityHookRequest(nil), h.reqs...)
}

// accepted returns the requests answered with a 2xx.
func (h *activityHooks) accepted() []activityHookRequest {
	var out []activityHookRequest
	for _, r := range h.all() {
		if r.status < 300 {
			out = append(out, r)
		}
	}
	return out
}

func (h *activityHooks) setFail(status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail = status
}

// mustWebhook creates an activity webhook as c and returns it with its
// secret.
func mustWebhook(t *testing.T, c *client, url string, filter map[string]any) integration.Webhook {
	t.Helper()
	a := c.call("POST", "/api/v1/integrations/webhooks", map[string]any{"name": "SIEM " + stacktest.RandomID(), "url": url, "filter": filter}, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", a.status, a.body)
	}
	var w integration.Webhook
	a.decode(t, &w)
	if w.Secret == "" || w.StandardSecret == "" {
		t.Fatalf("a new webhook shows no secret: %s", a.body)
	}
	return w
}

func findWebhook(t *testing.T, c *client, id string) integration.Webhook {
	t.Helper()
	a := c.call("GET", "/api/v1/integrations/webhooks/"+id, nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("get webhook: %d %s", a.status, a.body)
	}
	var w integration.Webhook
	a.decode(t, &w)
	return w
}

// wantSigned checks every request against the webhook's secret, both
// the platform's headers and the Standard Webhooks ones.
func wantSigned(t *testing.T, w integration.Webhook, reqs []activityHookRequest) {
	t.Helper()
	for i, r := range reqs {
		if err := notify.Verify([]byte(w.Secret), r.header, r.body, time.Now(), notify.DefaultTolerance); err != nil {
			t.Errorf("request %d does not verify with the webhook's secret: %v", i, err)
		}
		standard := http.Header{}
		for _, k := range []string{notify.HeaderWebhookID, notify.HeaderWebhookTimestamp, notify.HeaderWebhookSignature} {
			standard.Set(k, r.header.Get(k))
		}
		if err := notify.Verify([]byte(w.StandardSecret), standard, r.body, time.Now(), notify.DefaultTolerance); err != nil {
			t.Errorf("request %d does not verify the Standard Webhooks way: %v", i, err)
		}
		if r.header.Get(notify.HeaderWebhookID) != r.payload.Delivery || r.payload.Type != integration.PayloadType || r.payload.Webhook != w.ID {
			t.Errorf("request %d: webhook-id %q, payload %s", i, r.header.Get(notify.HeaderWebhookID), r.body)
		}
	}
}

// TestActivityWebhooksDeliverInOrder runs the API, the relay and the
// deliverer: the events a webhook's filter passes reach a loopback
// receiver signed, once each, in the order they happened; the first
// attempt's 503 is retried with the same delivery id before anything
// after it is sent; the API shows the delivery state.
func TestActivityWebhooksDeliverInOrder(t *testing.T) {
	cfg := activityHookConfig(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleDeliver)
	owner := mustOwner(t, m, cfg, "Hooked")
	hooks := newActivityHooks(t)
	hooks.answers = []int{http.StatusServiceUnavailable}
	w := mustWebhook(t, owner.client, hooks.url, map[string]any{"categories": []string{"asset"}, "actions": []string{"asset.created"}})

	var names []string
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("Hooked laptop %d", i)
		names = append(names, name)
		mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": name}, nil), "asset")
		if i == 2 {
			// Not passed by the filter.
			mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Figma", "seats": 3}, nil), "license")
		}
	}
	stacktest.Eventually(t, "five accepted deliveries", func() bool { return len(hooks.accepted()) >= 5 })
	all, got := hooks.all(), hooks.accepted()
	wantSigned(t, w, all)
	if len(got) != 5 {
		t.Fatalf("%d deliveries accepted, want 5", len(got))
	}
	if all[0].status != http.StatusServiceUnavailable || all[1].payload.Delivery != all[0].payload.Delivery {
		t.Errorf("the refused first delivery was not sent again first with its id: %q then %q", all[0].payload.Delivery, all[1].payload.Delivery)
	}
	seen := map[string]bool{}
	for i, r := range got {
		if r.payload.Event.Action != "asset.created" || r.payload.Event.Resource.Name != names[i] {
			t.Errorf("delivery %d is %s of %q, want asset.created of %q", i, r.payload.Event.Action, r.payload.Event.Resource.Name, names[i])
		}
		if seen[r.payload.Delivery] || seen[r.payload.Event.ID] {
			t.Errorf("delivery %d repeats a delivery or an event", i)
		}
		seen[r.payload.Delivery], seen[r.payload.Event.ID] = true, true
	}
	stacktest.Eventually(t, "the webhook shows its deliveries", func() bool {
		s := findWebhook(t, owner.client, w.ID).State
		return s.Pending == 0 && s.LastDeliveryAt != nil && s.Failures == 0 && s.LastStatus == http.StatusNoContent && !s.Paused
	})
	if again := findWebhook(t, owner.client, w.ID); again.Secret != "" || again.StandardSecret != "" {
		t.Error("a webhook's secret is shown after its creation")
	}
}

// integrationEvents reads the activity topic from its start until it
// finds want events of system.integration_configured for resource id.
func integrationEvents(t *testing.T, cfg app.Config, id string, want int) []activity.Event {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.Publisher.Topic, GroupID: "test-reader-" + stacktest.RandomID(), StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	var out []activity.Event
	stacktest.Eventually(t, fmt.Sprintf("%d integration events on the topic", want), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for len(out) < want {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				return false
			}
			var e activity.Event
			if json.Unmarshal(m.Value, &e) == nil && e.Action == "system.integration_configured" && e.Resource.ID == id {
				out = append(out, e)
			}
		}
		return true
	})
	return out
}

// TestActivityWebhookPausesAfterFailures lets a receiver fail every
// attempt: after the configured number in a row the webhook is paused,
// the API says why, and the pause is recorded in the workspace's log as
// the platform's; resumed, it sends the waiting event with the same
// delivery id, and each change is recorded.
func TestActivityWebhookPausesAfterFailures(t *testing.T) {
	cfg := activityHookConfig(t)
	cfg.Deliver.MaxFailures = 3
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleDeliver)
	owner := mustOwner(t, m, cfg, "Paused hooks")
	hooks := newActivityHooks(t)
	hooks.setFail(http.StatusInternalServerError)
	w := mustWebhook(t, owner.client, hooks.url, map[string]any{"categories": []string{"asset"}})
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Unlucky"}, nil), "asset")

	stacktest.Eventually(t, "the webhook is paused", func() bool { return findWebhook(t, owner.client, w.ID).State.Paused })
	state := findWebhook(t, owner.client, w.ID).State
	if state.Failures != 3 || state.PausedReason == "" || state.LastStatus != http.StatusInternalServerError || state.Pending != 1 {
		t.Errorf("paused state: %+v", state)
	}
	if n := len(hooks.all()); n != 3 {
		t.Errorf("%d attempts before the pause, want 3", n)
	}
	hooks.setFail(0)
	if a := owner.call("PATCH", "/api/v1/integrations/webhooks/"+w.ID, map[string]any{"paused": false, "note": "receiver fixed"}, nil); a.status != http.StatusOK {
		t.Fatalf("resume: %d %s", a.status, a.body)
	}
	stacktest.Eventually(t, "the waiting event is delivered", func() bool { return len(hooks.accepted()) == 1 })
	all := hooks.all()
	wantSigned(t, w, all)
	if last := all[len(all)-1]; last.payload.Delivery != all[0].payload.Delivery || last.payload.Event.Resource.Name != "Unlucky" {
		t.Errorf("after the resume, %s of %q was sent as %q", last.payload.Event.Action, last.payload.Event.Resource.Name, last.payload.Delivery)
	}
	events := integrationEvents(t, cfg, w.ID, 3)
	for i, want := range []struct{ change, actor string }{
		{integration.ChangeCreated, activity.ActorUser}, {integration.ChangePaused, activity.ActorSystem}, {integration.ChangeResumed, activity.ActorUser},
	} {
		e := events[i]
		if e.Details["change"] != want.change || e.Actor.Type != want.actor || e.WorkspaceID != owner.workspace {
			t.Errorf("integration event %d: change %v by %s, want %s by %s", i, e.Details["change"], e.Actor.Type, want.change, want.actor)
		}
	}
	if events[1].Outcome != activity.OutcomeFailure || events[1].Details["reason"] == "" {
		t.Errorf("the pause event does not say why: %+v", events[1])
	}
	// The deliverer counts an attempt as it records it, just after the
	// receiver answered.
	stacktest.Eventually(t, "the metrics count the attempts and the pause", func() bool {
		metrics := opsMetrics(t, m)
		for _, want := range []string{"fluxera_webhook_pauses_total 1", `fluxera_webhook_attempts_total{result="retry"} 3`, `fluxera_webhook_attempts_total{result="delivered"} 1`} {
			if !strings.Contains(metrics, want+"\n") {
				return false
			}
		}
		return true
	})
}

// opsMetrics reads the process's metrics from its ops address.
func opsMetrics(t *testing.T, m *app.Main) string {
	t.Helper()
	res, err := http.Get("http://" + m.OpsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return string(raw)
}

// TestActivityWebhookReplay replays a webhook from a time before its
// events: they are sent again, in order, as new deliveries of the replay.
func TestActivityWebhookReplay(t *testing.T) {
	cfg := activityHookConfig(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleDeliver)
	owner := mustOwner(t, m, cfg, "Replayed hooks")
	hooks := newActivityHooks(t)
	w := mustWebhook(t, owner.client, hooks.url, map[string]any{"categories": []string{"asset"}})
	from := time.Now().Add(-time.Second).UTC()
	for _, name := range []string{"First", "Second", "Third"} {
		mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": name}, nil), "asset")
	}
	stacktest.Eventually(t, "three deliveries", func() bool { return len(hooks.accepted()) == 3 })
	a := owner.call("POST", "/api/v1/integrations/webhooks/"+w.ID+"/replay?from="+url.QueryEscape(from.Format(time.RFC3339Nano)), nil, nil)
	if a.status != http.StatusAccepted {
		t.Fatalf("replay: %d %s", a.status, a.body)
	}
	var replay integration.Replay
	a.decode(t, &replay)
	stacktest.Eventually(t, "three replayed deliveries", func() bool { return len(hooks.accepted()) == 6 })
	got := hooks.accepted()
	wantSigned(t, w, got)
	for i := 0; i < 3; i++ {
		live, again := got[i], got[i+3]
		if live.payload.Replay != "" || again.payload.Replay != replay.ID {
			t.Errorf("delivery %d: replay %q then %q, want none then %q", i, live.payload.Replay, again.payload.Replay, replay.ID)
		}
		if again.payload.Event.ID != live.payload.Event.ID || again.payload.Delivery == live.payload.Delivery {
			t.Errorf("replayed delivery %d is event %s as %s, the live one event %s as %s", i, again.payload.Event.ID, again.payload.Delivery, live.payload.Event.ID, live.payload.Delivery)
		}
	}
}

// TestActivityWebhookInputIsChecked refuses bad webhooks with 400 naming
// the field (a URL that is not public among them, as no loopback is
// allowed here), who may not manage integrations with 403, and writes
// nothing for a refusal.
func TestActivityWebhookInputIsChecked(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Checked hooks")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	good := func(change func(map[string]any)) map[string]any {
		b := map[string]any{"name": "SIEM", "url": "https://93.184.215.14/hook", "filter": map[string]any{"categories": []string{"auth"}}}
		change(b)
		return b
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"loopback url", good(func(b map[string]any) { b["url"] = "http://127.0.0.1:9/hook" }), "url"},
		{"private url", good(func(b map[string]any) { b["url"] = "http://10.1.2.3/hook" }), "url"},
		{"metadata url", good(func(b map[string]any) { b["url"] = "http://169.254.169.254/latest" }), "url"},
		{"not a url", good(func(b map[string]any) { b["url"] = "hook" }), "url"},
		{"no name", good(func(b map[string]any) { b["name"] = " " }), "name"},
		{"unknown category", good(func(b map[string]any) { b["filter"] = map[string]any{"categories": []string{"nope"}} }), "filter.categories[0]"},
		{"bad action", good(func(b map[string]any) {
			b["filter"] = map[string]any{"actions": []string{"asset.created", "not an action"}}
		}), "filter.actions[1]"},
		{"bad outcome", good(func(b map[string]any) { b["filter"] = map[string]any{"outcome": "maybe"} }), "filter.outcome"},
		{"unknown field", good(func(b map[string]any) { b["secret"] = "mine" }), "secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := owner.call("POST", "/api/v1/integrations/webhooks", tc.body, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Field != tc.field {
				t.Errorf("%d %s, want 400 on %s", a.status, a.body, tc.field)
			}
		})
	}
	var list struct{ Webhooks []integration.Webhook }
	if a := owner.call("GET", "/api/v1/integrations/webhooks", nil, nil); a.status != http.StatusOK {
		t.Fatalf("list: %d %s", a.status, a.body)
	} else if a.decode(t, &list); len(list.Webhooks) != 0 {
		t.Errorf("refused webhooks were kept: %+v", list.Webhooks)
	}
	w := mustWebhook(t, owner.client, "https://93.184.215.14/hook", nil)
	for _, tc := range []struct{ name, query, field string }{
		{"no from", "", "from"},
		{"bad from", "?from=yesterday", "from"},
		{"future from", "?from=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), "from"},
		{"unknown parameter", "?since=2026-01-01T00:00:00Z", "since"},
	} {
		a := owner.call("POST", "/api/v1/integrations/webhooks/"+w.ID+"/replay"+tc.query, nil, nil)
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusBadRequest || e.Error.Field != tc.field {
			t.Errorf("replay %s: %d %s, want 400 on %s", tc.name, a.status, a.body, tc.field)
		}
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"private url", map[string]any{"url": "http://192.168.0.1/"}, "url"},
		{"unknown action", map[string]any{"filter": map[string]any{"actions": []string{"asset.teleported"}}}, "filter.actions[0]"},
		{"paused not a boolean", map[string]any{"paused": "yes"}, "paused"},
	} {
		a := owner.call("PATCH", "/api/v1/integrations/webhooks/"+w.ID, tc.body, nil)
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusBadRequest || e.Error.Field != tc.field {
			t.Errorf("update with %s: %d %s, want 400 on %s", tc.name, a.status, a.body, tc.field)
		}
	}
	// Paused and resumed by hand.
	if a := owner.call("PATCH", "/api/v1/integrations/webhooks/"+w.ID, map[string]any{"paused": true}, nil); a.status != http.StatusOK {
		t.Fatalf("pause: %d %s", a.status, a.body)
	}
	if s := findWebhook(t, owner.client, w.ID).State; !s.Paused || !strings.Contains(s.PausedReason, "paused by") || s.PausedAt == nil {
		t.Errorf("paused by hand: %+v", s)
	}
	if a := owner.call("PATCH", "/api/v1/integrations/webhooks/"+w.ID, map[string]any{"paused": false}, nil); a.status != http.StatusOK {
		t.Fatalf("resume: %d %s", a.status, a.body)
	}
	if s := findWebhook(t, owner.client, w.ID).State; s.Paused || s.PausedReason != "" {
		t.Errorf("resumed by hand: %+v", s)
	}
	if a := member.call("GET", "/api/v1/integrations/webhooks", nil, nil); a.status != http.StatusForbidden {
		t.Errorf("a member lists webhooks: %d %s", a.status, a.body)
	}
	if a := member.call("POST", "/api/v1/integrations/webhooks/"+w.ID+"/replay?from=2026-01-01T00:00:00Z", nil, nil); a.status != http.StatusForbidden {
		t.Errorf("a member replays a webhook: %d %s", a.status, a.body)
	}
	reader := mustToken(t, owner.client, "activity:read")
	wantRefusal(t, "a token without integrations:manage", owner.callWithout("GET", "/api/v1/integrations/webhooks", nil, bearer(reader.Token)), http.StatusForbidden, activity.EFORBIDDEN, "", "integrations:manage")
	manager := mustToken(t, owner.client, "integrations:manage")
	if a := owner.callWithout("DELETE", "/api/v1/integrations/webhooks/"+w.ID, nil, bearer(manager.Token)); a.status != http.StatusNoContent {
		t.Errorf("a token with integrations:manage deletes a webhook: %d %s", a.status, a.body)
	}
	if a := owner.call("GET", "/api/v1/integrations/webhooks/"+w.ID, nil, nil); a.status != http.StatusNotFound {
		t.Errorf("a deleted webhook: %d %s", a.status, a.body)
	}
}
