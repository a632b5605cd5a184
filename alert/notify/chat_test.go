package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
)

func TestChatText(t *testing.T) {
	a := testAlert()
	got := ChatText(a)
	want := "[HIGH] 3 failed sign-ins for ana@example.com within 10 minutes." +
		" Detector: failed_logins." +
		" Subject: user ana@example.com." +
		" Events: 3 within 10m0s." +
		" Occurred: 2026-03-01 09:14:00 UTC." +
		" Raised: 2026-03-01 09:15:00 UTC." +
		" Alert id: 7d1f0c3e-5b52-5d61-9a4f-0b8e2f6a1c11."
	if got != want {
		t.Fatalf("ChatText =\n%s\nwant\n%s", got, want)
	}
}

func TestChatTextRuleAndMarkup(t *testing.T) {
	a := testAlert()
	a.Detector, a.RuleID, a.RuleName = "", "r-9", "Licence keys <viewed>"
	a.Severity = "critical"
	a.Summary = "Key viewed by <!channel> & <https://evil.example|click>\r\nSecond line"
	a.Count, a.Window = 1, ""
	got := ChatText(a)
	for _, bad := range []string{"<", ">", "\n", "\r", "https://evil.example|click>"} {
		if strings.Contains(got, bad) {
			t.Errorf("ChatText contains %q: %s", bad, got)
		}
	}
	for _, want := range []string{
		"[CRITICAL] Key viewed by &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; Second line.",
		"Rule: Licence keys &lt;viewed&gt;.",
		"Events: 1.",
		"Alert id: " + a.ID + ".",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ChatText lacks %q: %s", want, got)
		}
	}
}

func TestChatSend(t *testing.T) {
	rcv := newReceiver(t)
	c := &Chat{Client: loopbackClient(), Now: func() time.Time { return testNow }}
	d := testDelivery(alert.ChannelChat, rcv.srv.URL+"/services/T0/B0/token")
	status, err := c.Send(context.Background(), d)
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("Send = %d, %v", status, err)
	}
	req, body, verr := rcv.last()
	if verr != nil {
		t.Fatalf("verify: %v", verr)
	}
	if req.Header.Get("Content-Type") != "application/json" || req.Header.Get(HeaderDelivery) != "d-1" {
		t.Errorf("headers %v", req.Header)
	}
	var p map[string]string
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p["text"] != ChatText(d.Alert) {
		t.Fatalf("body %s", body)
	}

	rcv.set(http.StatusBadRequest, "invalid_payload")
	if _, err := c.Send(context.Background(), d); !IsPermanent(err) {
		t.Fatalf("400: %v, want permanent", err)
	}
}
