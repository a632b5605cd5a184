package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fluxera/activity/alert"
)

// UserAgent is sent with every webhook and chat request.
const UserAgent = "Fluxera-Alerts/1"

// Bounds on what is read of a response: a short excerpt goes into the
// attempt's error, and the rest is drained up to maxResponseBytes so the
// connection can be reused, then dropped.
const (
	maxResponseBytes = 64 << 10
	maxExcerptBytes  = 200
)

// WebhookPayload is the JSON body of a webhook request.
type WebhookPayload struct {
	Type  string      `json:"type"` // always "alert"
	Alert alert.Alert `json:"alert"`
}

// Webhook posts alerts as signed JSON (ChannelWebhook). The zero Webhook
// is ready to use.
type Webhook struct {
	// Client sends the requests; when nil, a client of the zero Policy
	// (public addresses only) with DefaultHTTPTimeout. Build it with
	// Policy.HTTPClient so that the address guard holds.
	Client *http.Client
	// Now stamps the signature; time.Now when nil.
	Now func() time.Time
}

// Send posts {"type":"alert","alert":…} to d.URL, its delivery id,
// timestamp and body signed with d.Secret (see SignRequest). A 2xx answer
// delivers it; 408, 429, 5xx and network failures may be retried; any
// other answer, a refused address, a bad URL, a missing secret and a
// delivery id that cannot be signed are permanent.
func (w *Webhook) Send(ctx context.Context, d alert.Delivery) (int, error) {
	body, err := json.Marshal(WebhookPayload{Type: "alert", Alert: d.Alert})
	if err != nil {
		return 0, Permanent(fmt.Errorf("encode alert %s: %w", d.AlertID, err))
	}
	return post(ctx, w.Client, w.Now, target(d), body)
}

// target is where an alert's delivery goes.
func target(d alert.Delivery) Target { return Target{URL: d.URL, ID: d.ID, Secret: d.Secret} }

// Target is where a signed request goes: the URL, the delivery id it is
// signed and sent as (the same on every retry), and the signing secret.
type Target struct {
	URL    string
	ID     string
	Secret []byte
}

// SendJSON posts body, a JSON document, to t.URL signed as Send signs an
// alert, and classifies the outcome as Send does.
func (w *Webhook) SendJSON(ctx context.Context, t Target, body []byte) (int, error) {
	return post(ctx, w.Client, w.Now, t, body)
}

// defaultClient is the client of senders built without one.
var defaultClient = sync.OnceValue(func() *http.Client { return Policy{}.HTTPClient(DefaultHTTPTimeout) })

// post sends body to t.URL as a signed JSON request and classifies the
// outcome.
func post(ctx context.Context, client *http.Client, now func() time.Time, d Target, body []byte) (int, error) {
	if client == nil {
		client = defaultClient()
	}
	if now == nil {
		now = time.Now
	}
	if len(d.Secret) == 0 {
		return 0, Permanent(errors.New("the delivery has no signing secret"))
	}
	if !ValidDeliveryID(d.ID) {
		return 0, Permanent(fmt.Errorf("delivery id %q cannot be signed", truncate(singleLine(d.ID), 64)))
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return 0, Permanent(errors.New("the url is not an absolute http or https URL without credentials"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, Permanent(fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	SignRequest(req, d.Secret, d.ID, now(), body)

	resp, err := client.Do(req)
	if err != nil {
		// The URL may hold a secret (chat webhooks carry their token in
		// the path): name only the host.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		err = fmt.Errorf("post to %s: %w", u.Host, err)
		var refused *AddressError
		if errors.As(err, &refused) {
			return 0, Permanent(err)
		}
		return 0, err
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	return resp.StatusCode, statusError(resp, excerpt)
}

// statusError says what an answer means for the delivery: nil for 2xx, an
// error to retry for 408, 429 and 5xx, a permanent one otherwise.
func statusError(resp *http.Response, excerpt []byte) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	msg := fmt.Sprintf("the endpoint answered %s", resp.Status)
	if code >= 300 && code < 400 {
		msg += "; redirects are not followed"
	}
	if e := truncate(singleLine(string(excerpt)), maxExcerptBytes); e != "" {
		msg += ": " + e
	}
	err := errors.New(strings.TrimSpace(msg))
	if code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500 {
		return err
	}
	return Permanent(err)
}
