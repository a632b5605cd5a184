package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
)

func TestSignKnownValue(t *testing.T) {
	// HMAC-SHA256("secret", "d-1.1700000000.{}"), computed independently
	// with `printf %s 'd-1.1700000000.{}' | openssl dgst -sha256 -hmac secret`
	// (and -binary | base64 for the Standard Webhooks form).
	ts := time.Unix(1700000000, 0)
	if got, want := Sign([]byte("secret"), "d-1", ts, []byte("{}")), "v2="+knownMAC; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if got, want := SignStandard([]byte("secret"), "d-1", ts, []byte("{}")), "v1,"+knownMACBase64; got != want {
		t.Errorf("SignStandard = %s, want %s", got, want)
	}
	if got, want := StandardSecret([]byte("secret")), "whsec_c2VjcmV0"; got != want {
		t.Errorf("StandardSecret = %s, want %s", got, want)
	}
}

func TestSignRequestSetsHeaders(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	SignRequest(req, []byte("secret"), "d-1", ts, []byte("{}"))
	for name, want := range map[string]string{
		"X-Fluxera-Delivery":  "d-1",
		"X-Fluxera-Timestamp": "1700000000",
		"X-Fluxera-Signature": "v2=" + knownMAC,
		"webhook-id":          "d-1",
		"webhook-timestamp":   "1700000000",
		"webhook-signature":   "v1," + knownMACBase64,
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("whsec-1")
	signedAt := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"alert","alert":{"id":"a1"}}`)
	ts := strconv.FormatInt(signedAt.Unix(), 10)
	sig := Sign(secret, "d-1", signedAt, body)
	std := SignStandard(secret, "d-1", signedAt, body)
	// own and standard return the headers of one scheme.
	own := func(id, ts, sig string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{HeaderDelivery: id, HeaderTimestamp: ts, HeaderSignature: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		return h
	}
	standard := func(id, ts, sig string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{HeaderWebhookID: id, HeaderWebhookTimestamp: ts, HeaderWebhookSignature: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		return h
	}
	// both joins the headers of both schemes.
	both := func(a, b http.Header) http.Header {
		h := a.Clone()
		for k, v := range b {
			h[k] = v
		}
		return h
	}
	// formerV1 is the signature this platform sent before the delivery
	// id was signed: of "<timestamp>.<body>" only.
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts + "."))
	h.Write(body)
	formerV1 := "v1=" + hex.EncodeToString(h.Sum(nil))

	tests := []struct {
		name      string
		secret    []byte
		header    http.Header
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "round trip", secret: secret, header: own("d-1", ts, sig), body: body, now: signedAt},
		{name: "standard round trip", secret: secret, header: standard("d-1", ts, std), body: body, now: signedAt},
		{name: "standard, secret written whsec_", secret: []byte(StandardSecret(secret)), header: standard("d-1", ts, std), body: body, now: signedAt},
		{name: "own, secret written whsec_", secret: []byte(StandardSecret(secret)), header: own("d-1", ts, sig), body: body, now: signedAt},
		{name: "within tolerance", secret: secret, header: own("d-1", ts, sig), body: body, now: signedAt.Add(4 * time.Minute)},
		{name: "several signatures, one matches", secret: secret, header: own("d-1", ts, "v2="+strings.Repeat("ab", 32)+", "+sig), body: body, now: signedAt},
		{name: "old secret still signing", secret: secret, header: own("d-1", ts, Sign([]byte("whsec-0"), "d-1", signedAt, body)+","+sig), body: body, now: signedAt},
		{name: "standard, several signatures, one matches", secret: secret, header: standard("d-1", ts, "v1a,AAAA v1,"+strings.Repeat("A", 43)+"= "+std), body: body, now: signedAt},
		{name: "tampered body", secret: secret, header: own("d-1", ts, sig), body: []byte(`{"type":"alert","alert":{"id":"a2"}}`), now: signedAt, want: ErrBadSignature},
		{name: "standard, tampered body", secret: secret, header: standard("d-1", ts, std), body: []byte(`{"type":"alert","alert":{"id":"a2"}}`), now: signedAt, want: ErrBadSignature},
		{name: "wrong secret", secret: []byte("whsec-2"), header: own("d-1", ts, sig), body: body, now: signedAt, want: ErrBadSignature},
		{name: "standard, wrong secret", secret: []byte("whsec-2"), header: standard("d-1", ts, std), body: body, now: signedAt, want: ErrBadSignature},
		{name: "delivery id changed", secret: secret, header: own("d-2", ts, sig), body: body, now: signedAt, want: ErrBadSignature},
		{name: "standard, id changed", secret: secret, header: standard("d-2", ts, std), body: body, now: signedAt, want: ErrBadSignature},
		{name: "timestamp changed", secret: secret, header: own("d-1", strconv.FormatInt(signedAt.Unix()+1, 10), sig), body: body, now: signedAt, want: ErrBadSignature},
		{name: "standard, timestamp changed", secret: secret, header: standard("d-1", strconv.FormatInt(signedAt.Unix()+1, 10), std), body: body, now: signedAt, want: ErrBadSignature},
		{name: "former v1 scheme without the id", secret: secret, header: own("d-1", ts, formerV1), body: body, now: signedAt, want: ErrBadSignature},
		{name: "own signature in the standard header", secret: secret, header: standard("d-1", ts, sig), body: body, now: signedAt, want: ErrBadSignature},
		{name: "id with a dot", secret: secret, header: own("d.1", ts, Sign(secret, "d.1", signedAt, body)), body: body, now: signedAt, want: ErrBadSignature},
		{name: "unknown scheme", secret: secret, header: own("d-1", ts, strings.Replace(sig, "v2=", "v0=", 1)), body: body, now: signedAt, want: ErrBadSignature},
		{name: "not hex", secret: secret, header: own("d-1", ts, "v2=zz"), body: body, now: signedAt, want: ErrBadSignature},
		{name: "not base64", secret: secret, header: standard("d-1", ts, "v1,!!"), body: body, now: signedAt, want: ErrBadSignature},
		{name: "timestamp not a number", secret: secret, header: own("d-1", "yesterday", sig), body: body, now: signedAt, want: ErrBadSignature},
		{name: "stale", secret: secret, header: own("d-1", ts, sig), body: body, now: signedAt.Add(5*time.Minute + time.Second), want: ErrStaleTimestamp},
		{name: "standard, stale", secret: secret, header: standard("d-1", ts, std), body: body, now: signedAt.Add(5*time.Minute + time.Second), want: ErrStaleTimestamp},
		{name: "future", secret: secret, header: own("d-1", ts, sig), body: body, now: signedAt.Add(-5*time.Minute - time.Second), want: ErrStaleTimestamp},
		{name: "own tolerance", secret: secret, header: own("d-1", ts, sig), body: body, now: signedAt.Add(2 * time.Minute), tolerance: time.Minute, want: ErrStaleTimestamp},
		{name: "missing delivery id", secret: secret, header: own("", ts, sig), body: body, now: signedAt, want: ErrMissingSignature},
		{name: "missing timestamp", secret: secret, header: own("d-1", "", sig), body: body, now: signedAt, want: ErrMissingSignature},
		{name: "missing signature", secret: secret, header: own("d-1", ts, " "), body: body, now: signedAt, want: ErrMissingSignature},
		{name: "standard, missing id", secret: secret, header: standard("", ts, std), body: body, now: signedAt, want: ErrMissingSignature},
		{name: "both sets", secret: secret, header: both(own("d-1", ts, sig), standard("d-1", ts, std)), body: body, now: signedAt},
		{name: "both sets, standard id changed", secret: secret, header: both(own("d-1", ts, sig), standard("d-2", ts, std)), body: body, now: signedAt, want: ErrBadSignature},
		{name: "both sets, own id changed", secret: secret, header: both(own("d-2", ts, sig), standard("d-1", ts, std)), body: body, now: signedAt, want: ErrBadSignature},
		{name: "a webhook-id added to the own set", secret: secret, header: both(own("d-1", ts, sig), standard("d-2", "", "")), body: body, now: signedAt, want: ErrMissingSignature},
		{name: "no headers", secret: secret, header: http.Header{}, body: body, now: signedAt, want: ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, tt.tolerance)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyForgedStaleRequestIsBadSignature(t *testing.T) {
	// A forged request with an old timestamp is a forgery, not a replay.
	signedAt := time.Unix(1700000000, 0)
	h := http.Header{}
	h.Set(HeaderDelivery, "d-1")
	h.Set(HeaderTimestamp, "1700000000")
	h.Set(HeaderSignature, Sign([]byte("other"), "d-1", signedAt, nil))
	err := Verify([]byte("s"), h, nil, signedAt.Add(time.Hour), 0)
	if !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify = %v, want ErrBadSignature", err)
	}
}

func TestValidDeliveryID(t *testing.T) {
	for id, want := range map[string]bool{
		"0195f0c2-7a51-7cc3-b1a4-3d8e5b1f2a9c": true, "d-1": true, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W": true,
		"": false, "d.1": false, "d 1": false, "d-1\r\nX: y": false, "dé": false, strings.Repeat("a", 201): false,
	} {
		if got := ValidDeliveryID(id); got != want {
			t.Errorf("ValidDeliveryID(%q) = %v, want %v", id, got, want)
		}
	}
}

// knownMAC is the hex HMAC-SHA256 of "d-1.1700000000.{}" under "secret",
// knownMACBase64 the same in base64.
const (
	knownMAC       = "96b9c79abf642310fa15e61f1b1b522e263b4f57ea1c40ab4ec394385dc48389"
	knownMACBase64 = "lrnHmr9kIxD6FeYfGxtSLiY7T1fqHECrTsOUOF3Eg4k="
)

// The Standard Webhooks side is checked against code written here from
// the specification's text (spec/standard-webhooks.md, "Signature
// scheme" and "Webhook headers"), not against signature.go: a signing
// secret is "whsec_" and the base64 of the key; the signed content is
// "{msg_id}.{timestamp}.{payload}"; a signature is "v1," and the base64 of
// its HMAC-SHA256; webhook-signature holds space-delimited signatures.

// standardWebhooksSign returns the spec's v1 signature.
func standardWebhooksSign(t testing.TB, secret, id, timestamp string, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id + "." + timestamp + "."))
	h.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// standardWebhooksVerify checks the webhook-* headers of a request as a
// receiver following the spec does, without the timestamp's tolerance.
func standardWebhooksVerify(t testing.TB, secret string, h http.Header, body []byte) bool {
	t.Helper()
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return false
	}
	want := standardWebhooksSign(t, secret, id, ts, body)
	for _, sig := range strings.Split(sigs, " ") {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func TestStandardWebhooksVectorOfTheSpecsLibraries(t *testing.T) {
	// The vector of the specification's reference libraries' tests, also
	// computed with openssl: printf %s 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
	// openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex of the decoded key> -binary | base64
	got := standardWebhooksSign(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("the test's own Standard Webhooks signer gives %s, want %s", got, want)
	}
	key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if got := SignStandard(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)); got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("SignStandard gives %s", got)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if err := Verify([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), h, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), 0); err != nil {
		t.Errorf("Verify refuses the vector: %v", err)
	}
}

func TestWebhookVerifiableWithStandardWebhooks(t *testing.T) {
	rcv := newReceiver(t)
	w := &Webhook{Client: loopbackClient(), Now: func() time.Time { return testNow }}
	d := testDelivery(alert.ChannelWebhook, rcv.srv.URL)
	if _, err := w.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	req, body, _ := rcv.last()
	// The workspace's signing secret, as a Standard Webhooks library
	// takes it.
	secret := "whsec_" + base64.StdEncoding.EncodeToString(d.Secret)
	if !standardWebhooksVerify(t, secret, req.Header, body) {
		t.Fatalf("a Standard Webhooks receiver refuses the request: %v", req.Header)
	}

	changed := func(name, value string) http.Header {
		h := req.Header.Clone()
		h.Set(name, value)
		return h
	}
	flipped := bytes.Clone(body)
	flipped[len(flipped)/2] ^= 1
	tests := []struct {
		name   string
		header http.Header
		body   []byte
	}{
		{name: "another id", header: changed("webhook-id", "d-2"), body: body},
		{name: "another timestamp", header: changed("webhook-timestamp", strconv.FormatInt(testNow.Unix()+1, 10)), body: body},
		{name: "one body byte changed", header: req.Header, body: flipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if standardWebhooksVerify(t, secret, tt.header, tt.body) {
				t.Error("a Standard Webhooks receiver accepts it")
			}
			if err := Verify(d.Secret, standardOnly(tt.header), tt.body, testNow, 0); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify of the Standard Webhooks headers = %v, want ErrBadSignature", err)
			}
		})
	}

	t.Run("Verify takes the Standard Webhooks headers alone", func(t *testing.T) {
		if err := Verify(d.Secret, standardOnly(req.Header), body, testNow, 0); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("Verify takes a signature made by the spec's algorithm", func(t *testing.T) {
		h := http.Header{}
		h.Set("webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
		h.Set("webhook-timestamp", "1772356500")
		h.Set("webhook-signature", standardWebhooksSign(t, secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "1772356500", body))
		if err := Verify(d.Secret, h, body, time.Unix(1772356500, 0), 0); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// standardOnly returns the Standard Webhooks headers of h.
func standardOnly(h http.Header) http.Header {
	out := http.Header{}
	for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if v := h.Get(name); v != "" {
			out.Set(name, v)
		}
	}
	return out
}
