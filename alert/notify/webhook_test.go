package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
)

var testNow = time.Date(2026, 3, 1, 9, 15, 0, 0, time.UTC)

// testAlert returns an alert like the failed logins detector raises.
func testAlert() alert.Alert {
	return alert.Alert{
		ID:          "7d1f0c3e-5b52-5d61-9a4f-0b8e2f6a1c11",
		WorkspaceID: "ws-1",
		Detector:    alert.DetectFailedLogins,
		Severity:    "high",
		State:       alert.AlertOpen,
		Summary:     "3 failed sign-ins for ana@example.com within 10 minutes",
		Subject:     alert.AlertSubject{Type: "user", ID: "u-1", Label: "ana@example.com"},
		Count:       3,
		Window:      "10m0s",
		OccurredAt:  testNow.Add(-time.Minute),
		RaisedAt:    testNow,
		EventIDs:    []string{"e1", "e2", "e3"},
		Details:     map[string]any{"ip": "203.0.113.9", "country": "NL"},
	}
}

func testDelivery(typ, url string) alert.Delivery {
	a := testAlert()
	return alert.Delivery{
		ID: "d-1", AlertID: a.ID, WorkspaceID: a.WorkspaceID, Type: typ, URL: url,
		Alert: a, Secret: []byte("whsec-test"),
	}
}

// receiver is a webhook endpoint on 127.0.0.1 that verifies signatures
// as a customer's would, and answers with the status it is told.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret []byte

	mu       sync.Mutex
	now      time.Time
	status   int
	reply    []byte
	requests []*http.Request
	bodies   [][]byte
	verified []error
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, secret: []byte("whsec-test"), now: testNow, status: http.StatusNoContent}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read body: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	err = Verify(r.secret, req.Header, body, r.now, 0)
	r.requests = append(r.requests, req)
	r.bodies = append(r.bodies, body)
	r.verified = append(r.verified, err)
	if req.URL.Path == "/moved" {
		http.Redirect(w, req, "/elsewhere", http.StatusMovedPermanently)
		return
	}
	if req.URL.Path == "/elsewhere" {
		r.t.Error("a redirect was followed")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.reply)
}

func (r *receiver) set(status int, reply string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.reply = status, []byte(reply)
}

func (r *receiver) last() (*http.Request, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 {
		r.t.Fatal("the receiver got no request")
	}
	n := len(r.requests) - 1
	return r.requests[n], r.bodies[n], r.verified[n]
}

func loopbackClient() *http.Client { return Policy{AllowLoopback: true}.HTTPClient(5 * time.Second) }

func TestWebhookSignedAndVerified(t *testing.T) {
	rcv := newReceiver(t)
	w := &Webhook{Client: loopbackClient(), Now: func() time.Time { return testNow }}
	d := testDelivery(alert.ChannelWebhook, rcv.srv.URL+"/hooks/fluxera")

	status, err := w.Send(context.Background(), d)
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("Send = %d, %v", status, err)
	}
	req, body, verr := rcv.last()
	if verr != nil {
		t.Fatalf("the receiver could not verify the request: %v", verr)
	}
	for name, want := range map[string]string{
		"Content-Type":         "application/json",
		"User-Agent":           UserAgent,
		HeaderDelivery:         "d-1",
		HeaderTimestamp:        strconv.FormatInt(testNow.Unix(), 10),
		HeaderSignature:        Sign(d.Secret, "d-1", testNow, body),
		HeaderWebhookSignature: SignStandard(d.Secret, "d-1", testNow, body),
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// The names receivers look for, as docs/alerts.md and the Standard
	// Webhooks specification spell them.
	for name, want := range map[string]string{
		"X-Fluxera-Delivery":  "d-1",
		"X-Fluxera-Timestamp": strconv.FormatInt(testNow.Unix(), 10),
		"webhook-id":          "d-1",
		"webhook-timestamp":   strconv.FormatInt(testNow.Unix(), 10),
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if req.Method != http.MethodPost || req.URL.Path != "/hooks/fluxera" {
		t.Errorf("request %s %s", req.Method, req.URL.Path)
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "alert" || p.Alert.ID != d.Alert.ID || p.Alert.Summary != d.Alert.Summary || len(p.Alert.EventIDs) != 3 {
		t.Errorf("payload %+v", p)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw)
	if len(raw) != 2 {
		t.Errorf("payload keys %v, want type and alert", raw)
	}

	t.Run("replayed as another delivery", func(t *testing.T) {
		// A captured request sent again under another delivery id, so
		// that a receiver that drops duplicates by id takes it again.
		for _, header := range []string{"X-Fluxera-Delivery", "webhook-id"} {
			replay, _ := http.NewRequest(http.MethodPost, rcv.srv.URL+"/hooks/fluxera", bytes.NewReader(body))
			replay.Header = req.Header.Clone()
			replay.Header.Set(header, "d-2")
			resp, err := loopbackClient().Do(replay)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if _, _, verr := rcv.last(); !errors.Is(verr, ErrBadSignature) || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("replay with another %s: status %d, verify %v", header, resp.StatusCode, verr)
			}
		}
	})
	t.Run("replayed later", func(t *testing.T) {
		rcv.mu.Lock()
		rcv.now = testNow.Add(6 * time.Minute)
		rcv.mu.Unlock()
		defer func() { rcv.mu.Lock(); rcv.now = testNow; rcv.mu.Unlock() }()
		replay, _ := http.NewRequest(http.MethodPost, rcv.srv.URL+"/hooks/fluxera", bytes.NewReader(body))
		replay.Header = req.Header.Clone()
		resp, err := loopbackClient().Do(replay)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, _, verr := rcv.last(); !errors.Is(verr, ErrStaleTimestamp) || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("replay: status %d, verify %v", resp.StatusCode, verr)
		}
	})
}

// tamperer changes every request body on its way out, after signing.
type tamperer struct{ next http.RoundTripper }

func (t tamperer) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	body = bytes.Replace(body, []byte(`"high"`), []byte(`"low"`), 1)
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	return t.next.RoundTrip(out)
}

func TestWebhookTamperedRejected(t *testing.T) {
	rcv := newReceiver(t)
	client := loopbackClient()
	client.Transport = tamperer{next: client.Transport}
	w := &Webhook{Client: client, Now: func() time.Time { return testNow }}

	status, err := w.Send(context.Background(), testDelivery(alert.ChannelWebhook, rcv.srv.URL))
	if _, body, verr := rcv.last(); !errors.Is(verr, ErrBadSignature) || !bytes.Contains(body, []byte(`"low"`)) {
		t.Fatalf("tampered request: verify %v, body %s", verr, body)
	}
	if status != http.StatusUnauthorized || !IsPermanent(err) {
		t.Fatalf("Send = %d, %v; want 401, permanent", status, err)
	}
}

func TestWebhookStatusClassification(t *testing.T) {
	rcv := newReceiver(t)
	w := &Webhook{Client: loopbackClient(), Now: func() time.Time { return testNow }}
	tests := []struct {
		status    int
		delivered bool
		permanent bool
	}{
		{200, true, false},
		{202, true, false},
		{204, true, false},
		{408, false, false},
		{429, false, false},
		{500, false, false},
		{502, false, false},
		{503, false, false},
		{400, false, true},
		{401, false, true},
		{403, false, true},
		{404, false, true},
		{410, false, true},
		{413, false, true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			rcv.set(tt.status, "the receiver says\nno")
			status, err := w.Send(context.Background(), testDelivery(alert.ChannelWebhook, rcv.srv.URL))
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			if (err == nil) != tt.delivered || IsPermanent(err) != tt.permanent {
				t.Fatalf("Send error %v: want delivered %v, permanent %v", err, tt.delivered, tt.permanent)
			}
			if err != nil && !strings.Contains(err.Error(), "the receiver says no") {
				t.Errorf("error %q does not carry the answer on one line", err)
			}
		})
	}
}

func TestWebhookRedirectNotFollowed(t *testing.T) {
	rcv := newReceiver(t)
	w := &Webhook{Client: loopbackClient(), Now: func() time.Time { return testNow }}
	status, err := w.Send(context.Background(), testDelivery(alert.ChannelWebhook, rcv.srv.URL+"/moved"))
	if status != http.StatusMovedPermanently || !IsPermanent(err) || !strings.Contains(err.Error(), "redirects are not followed") {
		t.Fatalf("Send = %d, %v", status, err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.requests) != 1 {
		t.Fatalf("%d requests, want 1", len(rcv.requests))
	}
}

func TestWebhookLongResponseBounded(t *testing.T) {
	rcv := newReceiver(t)
	rcv.set(http.StatusInternalServerError, strings.Repeat("x", 1<<20))
	w := &Webhook{Client: loopbackClient(), Now: func() time.Time { return testNow }}
	status, err := w.Send(context.Background(), testDelivery(alert.ChannelWebhook, rcv.srv.URL))
	if status != 500 || err == nil || IsPermanent(err) {
		t.Fatalf("Send = %d, %v", status, err)
	}
	if len(err.Error()) > 400 {
		t.Fatalf("error is %d bytes long", len(err.Error()))
	}
}

func TestWebhookFailures(t *testing.T) {
	rcv := newReceiver(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name      string
		w         *Webhook
		d         alert.Delivery
		permanent bool
		contains  string
	}{
		{
			name: "default client refuses loopback", w: &Webhook{},
			d: testDelivery(alert.ChannelWebhook, rcv.srv.URL), permanent: true, contains: "loopback address",
		},
		{
			name: "connection refused", w: &Webhook{Client: loopbackClient()},
			d: testDelivery(alert.ChannelWebhook, closedURL), permanent: false, contains: "post to 127.0.0.1",
		},
		{
			name: "no secret", w: &Webhook{Client: loopbackClient()},
			d:         func() alert.Delivery { d := testDelivery(alert.ChannelWebhook, rcv.srv.URL); d.Secret = nil; return d }(),
			permanent: true, contains: "signing secret",
		},
		{
			name: "delivery id with a dot", w: &Webhook{Client: loopbackClient()},
			d:         func() alert.Delivery { d := testDelivery(alert.ChannelWebhook, rcv.srv.URL); d.ID = "d.1"; return d }(),
			permanent: true, contains: "cannot be signed",
		},
		{
			name: "not http", w: &Webhook{Client: loopbackClient()},
			d: testDelivery(alert.ChannelWebhook, "file:///etc/passwd"), permanent: true, contains: "http or https",
		},
		{
			name: "credentials in url", w: &Webhook{Client: loopbackClient()},
			d: testDelivery(alert.ChannelWebhook, strings.Replace(rcv.srv.URL, "://", "://u:p@", 1)), permanent: true, contains: "without credentials",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.w.Send(context.Background(), tt.d)
			if err == nil || IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("Send = %v; want permanent %v containing %q", err, tt.permanent, tt.contains)
			}
		})
	}
}

func TestWebhookErrorHidesURLPath(t *testing.T) {
	// Chat webhook URLs carry their token in the path; errors name only
	// the host.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w := &Webhook{Client: loopbackClient()}
	_, err = w.Send(context.Background(), testDelivery(alert.ChannelWebhook, "http://"+addr+"/services/T000/B000/SECRETTOKEN"))
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("error %v shows the URL's path", err)
	}
}

func TestWebhookCancelled(t *testing.T) {
	rcv := newReceiver(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Webhook{Client: loopbackClient()}).Send(ctx, testDelivery(alert.ChannelWebhook, rcv.srv.URL))
	if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want a retryable context.Canceled", err)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("boom")
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	p := Permanent(base)
	if !IsPermanent(p) || !errors.Is(p, base) || p.Error() != "boom" {
		t.Errorf("Permanent(boom) = %v", p)
	}
	wrapped := errors.Join(errors.New("context"), p)
	if !IsPermanent(wrapped) {
		t.Error("a wrapped permanent error is not permanent")
	}
	if IsPermanent(base) || IsPermanent(nil) {
		t.Error("a plain error is permanent")
	}
	if Permanent(p) != p {
		t.Error("Permanent wraps twice")
	}
}
