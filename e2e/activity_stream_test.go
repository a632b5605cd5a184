package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// sseEvent is one event of a live stream.
type sseEvent struct {
	id, name string
	entry    searchapi.Entry
}

// liveStream is an open GET /api/v1/activity/stream.
type liveStream struct {
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
	// comments receives the comment lines (heartbeats, the goodbye).
	comments chan string
}

// openStream opens the stream at path as c, resuming after lastID when
// it is not empty, and fails the test unless it answers 200.
func openStream(t *testing.T, c *client, path, lastID string) *liveStream {
	t.Helper()
	s, a := tryStream(t, c, path, lastID)
	if s == nil {
		t.Fatalf("open %s: %d %s", path, a.status, a.body)
	}
	return s
}

// tryStream opens the stream, or returns the refusal.
func tryStream(t *testing.T, c *client, path, lastID string) (*liveStream, answer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	// No overall timeout: a stream lasts until the test closes it.
	h := &http.Client{Jar: c.http.Jar, Transport: c.http.Transport}
	res, err := h.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		defer cancel()
		defer res.Body.Close()
		return nil, answer{status: res.StatusCode, body: readBody(res), header: res.Header}
	}
	s := &liveStream{events: make(chan sseEvent, 100), cancel: cancel, done: make(chan struct{}), comments: make(chan string, 1000)}
	go func() {
		defer close(s.done)
		defer close(s.events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		var data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data != "" {
					json.Unmarshal([]byte(data), &ev.entry)
					s.events <- ev
				}
				ev, data = sseEvent{}, ""
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, ":"):
				select {
				case s.comments <- strings.TrimSpace(strings.TrimPrefix(line, ":")):
				default:
				}
			}
		}
	}()
	t.Cleanup(s.close)
	return s, answer{status: res.StatusCode, header: res.Header}
}

// close hangs up and waits for the reader to end.
func (s *liveStream) close() {
	s.cancel()
	<-s.done
}

// next waits for the stream's next event; the bound only ends a failing
// test.
func (s *liveStream) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(60 * time.Second):
		t.Fatal("gave up waiting for the stream's next event")
	}
	return sseEvent{}
}

func streamConfig(t *testing.T) app.Config {
	cfg := MustStack(t)
	cfg.Relay.PollInterval = 50 * time.Millisecond
	cfg.Stream.Heartbeat = 50 * time.Millisecond
	return cfg
}

// TestActivityStreamLiveAndResumed opens the live stream as an owner: new
// entries arrive as they happen, filtered by category; closed and opened
// again with the last id, the stream sends what happened meanwhile and
// then what happens next, without gaps or repeats.
func TestActivityStreamLiveAndResumed(t *testing.T) {
	cfg := streamConfig(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay)
	owner := mustOwner(t, m, cfg, "Streamed")
	s := openStream(t, owner.client, "/api/v1/activity/stream?category=asset", "")
	mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Not streamed", "seats": 1}, nil), "license")
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Live 1"}, nil), "asset")
	first := s.next(t)
	if first.name != "activity" || first.entry.Action != "asset.created" || first.entry.Resource.Name != "Live 1" || first.id == "" || first.entry.Summary == "" {
		t.Fatalf("first event: %+v", first)
	}
	s.close()

	for _, name := range []string{"Missed 1", "Missed 2"} {
		mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": name}, nil), "asset")
	}
	resumed := openStream(t, owner.client, "/api/v1/activity/stream?category=asset", first.id)
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Live 2"}, nil), "asset")
	ids := map[string]bool{first.id: true}
	for _, want := range []string{"Missed 1", "Missed 2", "Live 2"} {
		ev := resumed.next(t)
		if ev.entry.Resource.Name != want || ids[ev.id] {
			t.Fatalf("resumed stream sent %q (id %s), want %q once", ev.entry.Resource.Name, ev.id, want)
		}
		ids[ev.id] = true
	}
	// The same id works through the query, for clients that cannot set
	// headers.
	again := openStream(t, owner.client, "/api/v1/activity/stream?category=asset&last_event_id="+first.id, "")
	if ev := again.next(t); ev.entry.Resource.Name != "Missed 1" {
		t.Errorf("resumed through the query with %q", ev.entry.Resource.Name)
	}
}

// TestActivityStreamScope streams to a member only their own actions, as
// the log shows them, while the owner sees the whole workspace.
func TestActivityStreamScope(t *testing.T) {
	cfg := streamConfig(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay)
	owner := mustOwner(t, m, cfg, "Scoped stream")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	mine := openStream(t, member.client, "/api/v1/activity/stream?action=asset.created", "")
	all := openStream(t, owner.client, "/api/v1/activity/stream?action=asset.created", "")
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Owner's"}, nil), "asset")
	mustID(t, member.call("POST", "/api/v1/assets", map[string]string{"name": "Member's"}, nil), "asset")
	// Entries come in the order they were published: had the owner's
	// been sent to the member, it would come first.
	if ev := mine.next(t); ev.entry.Resource.Name != "Member's" || ev.entry.Actor.ID != member.id {
		t.Errorf("the member's stream sent %q by %s", ev.entry.Resource.Name, ev.entry.Actor.ID)
	}
	for _, want := range []string{"Owner's", "Member's"} {
		if ev := all.next(t); ev.entry.Resource.Name != want {
			t.Errorf("the owner's stream sent %q, want %q", ev.entry.Resource.Name, want)
		}
	}
}

// TestActivityStreamLimitAndBadInput holds a workspace to its number of
// streams (429 naming the limit, until one closes) and refuses forged,
// foreign and malformed ids and unreadable filters with 400 naming them.
func TestActivityStreamLimitAndBadInput(t *testing.T) {
	cfg := streamConfig(t)
	cfg.Stream.MaxPerWorkspace = 2
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay)
	owner := mustOwner(t, m, cfg, "Limited stream")
	other := mustOwner(t, m, cfg, "Other stream")
	const path = "/api/v1/activity/stream"

	// An id of another workspace's stream.
	foreign := openStream(t, other.client, path, "")
	mustID(t, other.call("POST", "/api/v1/assets", map[string]string{"name": "Elsewhere"}, nil), "asset")
	foreignID := foreign.next(t).id
	foreign.close()

	// The limit holds across API processes: a second one, on the same
	// database, serves the owner's session too.
	m2 := MustStart(t, cfg, app.RoleAPI)
	elsewhere := *owner.client
	elsewhere.base = "http://" + m2.HTTPAddr
	first := openStream(t, owner.client, path, "")
	openStream(t, &elsewhere, path, "")
	for _, c := range []*client{owner.client, &elsewhere} {
		_, a := tryStream(t, c, path, "")
		wantRefusal(t, "a third stream", a, http.StatusTooManyRequests, activity.ETOOMANY, "streams", "FLUXERA_STREAM_MAX_PER_WORKSPACE")
	}
	// Another workspace has streams of its own.
	openStream(t, other.client, path, "")
	first.close()
	stacktest.Eventually(t, "a closed stream makes room for another", func() bool {
		s, _ := tryStream(t, owner.client, path, "")
		if s != nil {
			s.close()
		}
		return s != nil
	})

	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Mine"}, nil), "asset")
	parts := strings.Split(foreignID, "-")
	for _, tc := range []struct{ name, path, lastID, field string }{
		{"forged id", path, "0-1-AAAAAAAAAAAAAAAAAAAAAA", "Last-Event-ID"},
		{"altered id", path, parts[0] + "-0-" + parts[2], "Last-Event-ID"},
		{"another workspace's id", path, foreignID, "Last-Event-ID"},
		{"not an id", path, "yesterday", "Last-Event-ID"},
		{"unknown category", path + "?category=nope", "", "category"},
		{"bad action", path + "?action=not%20an%20action", "", "action"},
		{"bad user", path + "?user=someone", "", "user"},
		{"bad ip", path + "?ip=999.1.1.1", "", "ip"},
		{"bad outcome", path + "?outcome=maybe", "", "outcome"},
		{"search text", path + "?q=laptop", "", "q"},
		{"a period", path + "?range=7d", "", "range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, a := tryStream(t, owner.client, tc.path, tc.lastID)
			if s != nil {
				s.close()
				t.Fatalf("opened with %s", tc.name)
			}
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%d %s, want 400 on %s", a.status, a.body, tc.field)
			}
		})
	}
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	reader := mustToken(t, viewer.client, "activity:read")
	if s, a := tryStreamWith(t, owner.client, path, bearer(reader.Token)); s == nil {
		t.Errorf("a token with activity:read: %d %s", a.status, a.body)
	} else {
		s.close()
	}
}

// tryStreamWith opens the stream with the given headers and no cookie.
func tryStreamWith(t *testing.T, c *client, path string, header map[string]string) (*liveStream, answer) {
	t.Helper()
	plain := *c
	plain.http = &http.Client{Transport: c.http.Transport}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := plain.http.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		defer cancel()
		defer res.Body.Close()
		return nil, answer{status: res.StatusCode, body: readBody(res), header: res.Header}
	}
	s := &liveStream{events: make(chan sseEvent), cancel: cancel, done: make(chan struct{})}
	go func() { defer close(s.done); readBody(res); res.Body.Close() }()
	return s, answer{status: res.StatusCode}
}

// TestActivityStreamHeartbeatAndShutdown keeps an idle stream alive with
// heartbeats, and ends it with a word when the API stops, which then
// stops cleanly instead of waiting on the stream.
func TestActivityStreamHeartbeatAndShutdown(t *testing.T) {
	cfg := streamConfig(t)
	m := app.NewMain(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- m.Run(ctx, app.RoleAPI) }()
	select {
	case <-m.Started:
	case err := <-stopped:
		t.Fatalf("the API did not start: %v", err)
	}
	defer m.Close()
	owner := mustOwner(t, m, cfg, "Heartbeat")
	s := openStream(t, owner.client, "/api/v1/activity/stream", "")
	want := []string{"connected", "heartbeat", "heartbeat"}
	for _, w := range want {
		select {
		case got := <-s.comments:
			if got != w {
				t.Fatalf("comment %q, want %q", got, w)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("gave up waiting for the comment %q", w)
		}
	}
	if metrics := opsMetrics(t, m); !strings.Contains(metrics, "fluxera_activity_streams_open 1\n") {
		t.Error("the metrics do not count the open stream")
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("the API stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the API did not stop while a stream was open")
	}
	<-s.done
	var said []string
	for len(s.comments) > 0 {
		said = append(said, <-s.comments)
	}
	if len(said) == 0 || !strings.Contains(said[len(said)-1], "shutting down") {
		t.Errorf("the stream's last words were %q", said)
	}
}
