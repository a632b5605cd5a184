package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestFailedLoginsNotifyEveryChannel runs the platform as deployed (API,
// relay, detect, notify) and fails a login three times over HTTP: the alert must
// reach a signed webhook (retried after the receiver's first 503), a
// signed chat message, an email through an SMTP server and the alert
// topic, and the alert's deliveries must say so.
func TestFailedLoginsNotifyEveryChannel(t *testing.T) {
	cfg := MustStack(t)
	cfg.Targets.AllowLoopback = true
	cfg.AlertConfigTTL = 50 * time.Millisecond
	smtp := newTestSMTP(t)
	cfg.SMTP.Addr = smtp.addr
	cfg.SMTP.TLS = notify.SMTPOpportunistic // the test's server is a relay without TLS
	hooks := newHookReceiver(t)
	hooks.failFirst("/hook", http.StatusServiceUnavailable)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleDetect, app.RoleNotify)

	email, password := MustWorkspace(t, cfg, "Notified")
	c := newClient(t, m)
	c.mustLogin(email, password)
	var secret struct {
		Secret string `json:"signing_secret"`
	}
	if status := c.do("POST", "/api/v1/detection/signing-secret", "", "", &secret); status != http.StatusOK || secret.Secret == "" {
		t.Fatalf("rotate signing secret: %d", status)
	}
	settings := fmt.Sprintf(`{"channels":[{"type":"webhook","url":%q},{"type":"chat","url":%q},{"type":"email","to":["security@example.com"],"roles":["owner"]}]}`,
		hooks.url+"/hook", hooks.url+"/chat")
	if status := c.do("PATCH", "/api/v1/detection", "application/json", settings, nil); status != http.StatusOK {
		t.Fatalf("save detection channels: %d", status)
	}

	// Three wrong passwords from one address for the owner's account.
	intruder := newClient(t, m)
	for i := 0; i < 3; i++ {
		body := fmt.Sprintf(`{"email":%q,"password":"wrong-%d"}`, email, i)
		if status := intruder.do("POST", "/api/v1/auth/login", "application/json", body, nil); status != http.StatusUnauthorized {
			t.Fatalf("failed login %d: status %d", i, status)
		}
	}

	// The webhook: refused once, then delivered, signed with the secret.
	var raised alert.Alert
	stacktest.Eventually(t, "the webhook of the account's failed_logins alert", func() bool {
		for _, r := range hooks.received("/hook") {
			// Both schemes: the platform's headers with the secret as
			// shown, and the Standard Webhooks ones alone with the secret
			// written as that specification's libraries take it.
			if err := notify.Verify([]byte(secret.Secret), onlyHeaders(r.header, notify.HeaderDelivery, notify.HeaderTimestamp, notify.HeaderSignature), r.body, time.Now(), notify.DefaultTolerance); err != nil {
				t.Fatalf("webhook signature: %v", err)
			}
			standard := onlyHeaders(r.header, notify.HeaderWebhookID, notify.HeaderWebhookTimestamp, notify.HeaderWebhookSignature)
			if err := notify.Verify([]byte(notify.StandardSecret([]byte(secret.Secret))), standard, r.body, time.Now(), notify.DefaultTolerance); err != nil {
				t.Fatalf("webhook Standard Webhooks signature: %v", err)
			}
			if id := r.header.Get(notify.HeaderDelivery); id == "" || r.header.Get("webhook-id") != id {
				t.Fatalf("webhook ids %q and %q", id, r.header.Get("webhook-id"))
			}
			var p notify.WebhookPayload
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Type == "alert" && p.Alert.Detector == alert.DetectFailedLogins && p.Alert.Subject.Type == "user" {
				raised = p.Alert
				return true
			}
		}
		return false
	})
	if raised.Count != 3 || len(raised.EventIDs) != 3 || raised.Severity != "high" || raised.State != alert.AlertOpen {
		t.Errorf("alert = %+v, want 3 events, severity high, open", raised)
	}
	// The project's own verifier refuses the same request tampered with.
	r := hooks.received("/hook")[0]
	tampered := []byte(strings.Replace(string(r.body), `"state":"open"`, `"state":"resolved"`, 1))
	if string(tampered) == string(r.body) {
		t.Fatal("the webhook body has no state to tamper with")
	}
	if err := notify.Verify([]byte(secret.Secret), r.header, tampered, time.Now(), notify.DefaultTolerance); err == nil {
		t.Error("a tampered webhook body passed verification")
	}
	// And the same request sent again as another delivery, under either
	// scheme's id.
	for _, name := range []string{notify.HeaderDelivery, notify.HeaderWebhookID} {
		replayed := r.header.Clone()
		replayed.Set(name, "0195f0c2-7a51-7cc3-b1a4-3d8e5b1f2a9c")
		if err := notify.Verify([]byte(secret.Secret), replayed, r.body, time.Now(), notify.DefaultTolerance); err == nil {
			t.Errorf("a webhook replayed under another %s passed verification", name)
		}
	}

	stacktest.Eventually(t, "the chat message", func() bool {
		for _, r := range hooks.received("/chat") {
			var p notify.ChatPayload
			json.Unmarshal(r.body, &p)
			if strings.Contains(p.Text, raised.ID) {
				return notify.Verify([]byte(secret.Secret), r.header, r.body, time.Now(), notify.DefaultTolerance) == nil
			}
		}
		return false
	})
	stacktest.Eventually(t, "the email to the listed address and the owner", func() bool {
		for _, msg := range smtp.messages() {
			if msg.has("security@example.com") && msg.has(email) && strings.Contains(msg.data, "Subject: [Fluxera] high:") {
				return true
			}
		}
		return false
	})
	stacktest.Eventually(t, "the alert on the alert topic", func() bool { return topicHasAlert(t, cfg, raised.ID) })

	// The alert's deliveries: all delivered, the webhook on its second attempt.
	var detail struct {
		Deliveries []struct {
			Type     string `json:"type"`
			State    string `json:"state"`
			Attempts []struct {
				Status    int  `json:"status"`
				Delivered bool `json:"delivered"`
			} `json:"attempts"`
		} `json:"deliveries"`
	}
	stacktest.Eventually(t, "every delivery of the alert delivered", func() bool {
		if status := c.do("GET", "/api/v1/alerts/"+raised.ID, "", "", &detail); status != http.StatusOK {
			t.Fatalf("alert detail: %d", status)
		}
		for _, d := range detail.Deliveries {
			if d.State != "delivered" {
				return false
			}
		}
		return len(detail.Deliveries) == 4
	})
	for _, d := range detail.Deliveries {
		if d.Type == alert.ChannelWebhook && (len(d.Attempts) != 2 || d.Attempts[0].Status != http.StatusServiceUnavailable || !d.Attempts[1].Delivered) {
			t.Errorf("webhook attempts = %+v, want a 503 then a delivery", d.Attempts)
		}
	}
}

// onlyHeaders returns the named headers of h.
func onlyHeaders(h http.Header, names ...string) http.Header {
	out := http.Header{}
	for _, name := range names {
		if v := h.Get(name); v != "" {
			out.Set(name, v)
		}
	}
	return out
}

// topicHasAlert reads the test's alert topic from the start for a while.
func topicHasAlert(t *testing.T, cfg app.Config, id string) bool {
	found := false
	for p := 0; p < cfg.Publisher.Partitions && !found; p++ {
		pr := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.AlertTopic, Partition: p, MaxWait: 100 * time.Millisecond})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		for {
			m, err := pr.ReadMessage(ctx)
			if err != nil {
				break
			}
			var a alert.Alert
			if json.Unmarshal(m.Value, &a) == nil && a.ID == id {
				found = true
				break
			}
		}
		cancel()
		pr.Close()
	}
	return found
}

// hookReceiver is a webhook and chat receiver on loopback that keeps every
// request and can refuse the first request of each alert on a path.
type hookReceiver struct {
	url     string
	mu      sync.Mutex
	reqs    map[string][]hookRequest
	fail    map[string]int
	refused map[string]bool
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hookReceiver{url: "http://" + ln.Addr().String(), reqs: map[string][]hookRequest{}, fail: map[string]int{}, refused: map[string]bool{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p notify.WebhookPayload
		json.Unmarshal(body, &p)
		h.mu.Lock()
		status := h.fail[r.URL.Path]
		if key := r.URL.Path + " " + p.Alert.ID; h.refused[key] {
			status = 0
		} else {
			h.refused[key] = true
		}
		h.reqs[r.URL.Path] = append(h.reqs[r.URL.Path], hookRequest{header: r.Header.Clone(), body: body})
		h.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

func (h *hookReceiver) failFirst(path string, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail[path] = status
}

// received returns the requests to path, refused ones included.
func (h *hookReceiver) received(path string) []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs[path]...)
}

// testSMTP is an SMTP server on loopback that accepts every message.
type testSMTP struct {
	addr string
	mu   sync.Mutex
	msgs []smtpMessage
}

type smtpMessage struct {
	rcpt []string
	data string
}

func (m smtpMessage) has(rcpt string) bool {
	for _, r := range m.rcpt {
		if strings.EqualFold(r, rcpt) {
			return true
		}
	}
	return false
}

func newTestSMTP(t *testing.T) *testSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testSMTP{addr: ln.Addr().String()}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *testSMTP) serve(conn net.Conn) {
	defer conn.Close()
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	reply := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	reply("220 test ESMTP")
	var msg smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			reply("250 test")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			msg = smtpMessage{}
			reply("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			addr := strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<> ")
			msg.rcpt = append(msg.rcpt, addr)
			reply("250 ok")
		case cmd == "DATA":
			reply("354 go on")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			msg.data = data.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, msg)
			s.mu.Unlock()
			reply("250 queued")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 ok")
		}
	}
}

func (s *testSMTP) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}
