package notify

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignKnownValue(t *testing.T) {
	// HMAC-SHA256("secret", "1700000000.{}"), computed independently
	// with `printf '1700000000.{}' | openssl dgst -sha256 -hmac secret`.
	got := Sign([]byte("secret"), time.Unix(1700000000, 0), []byte("{}"))
	want := "v1=" + knownMAC
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestSignRequestSetsHeaders(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	SignRequest(req, []byte("secret"), ts, []byte("{}"))
	if got := req.Header.Get(HeaderTimestamp); got != "1700000000" {
		t.Errorf("%s = %q", HeaderTimestamp, got)
	}
	if got := req.Header.Get(HeaderSignature); got != "v1="+knownMAC {
		t.Errorf("%s = %q", HeaderSignature, got)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("whsec-1")
	signedAt := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"alert","alert":{"id":"a1"}}`)
	ts := strconv.FormatInt(signedAt.Unix(), 10)
	sig := Sign(secret, signedAt, body)

	tests := []struct {
		name      string
		secret    []byte
		ts, sig   string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "round trip", secret: secret, ts: ts, sig: sig, body: body, now: signedAt},
		{name: "within tolerance", secret: secret, ts: ts, sig: sig, body: body, now: signedAt.Add(4 * time.Minute)},
		{name: "several signatures, one matches", secret: secret, ts: ts, sig: "v1=" + strings.Repeat("ab", 32) + ", " + sig, body: body, now: signedAt},
		{name: "old secret still signing", secret: secret, ts: ts, sig: Sign([]byte("whsec-0"), signedAt, body) + "," + sig, body: body, now: signedAt},
		{name: "tampered body", secret: secret, ts: ts, sig: sig, body: []byte(`{"type":"alert","alert":{"id":"a2"}}`), now: signedAt, want: ErrBadSignature},
		{name: "wrong secret", secret: []byte("whsec-2"), ts: ts, sig: sig, body: body, now: signedAt, want: ErrBadSignature},
		{name: "timestamp changed", secret: secret, ts: strconv.FormatInt(signedAt.Unix()+1, 10), sig: sig, body: body, now: signedAt, want: ErrBadSignature},
		{name: "unknown scheme", secret: secret, ts: ts, sig: strings.Replace(sig, "v1=", "v0=", 1), body: body, now: signedAt, want: ErrBadSignature},
		{name: "not hex", secret: secret, ts: ts, sig: "v1=zz", body: body, now: signedAt, want: ErrBadSignature},
		{name: "timestamp not a number", secret: secret, ts: "yesterday", sig: sig, body: body, now: signedAt, want: ErrBadSignature},
		{name: "stale", secret: secret, ts: ts, sig: sig, body: body, now: signedAt.Add(5*time.Minute + time.Second), want: ErrStaleTimestamp},
		{name: "future", secret: secret, ts: ts, sig: sig, body: body, now: signedAt.Add(-5*time.Minute - time.Second), want: ErrStaleTimestamp},
		{name: "own tolerance", secret: secret, ts: ts, sig: sig, body: body, now: signedAt.Add(2 * time.Minute), tolerance: time.Minute, want: ErrStaleTimestamp},
		{name: "missing timestamp", secret: secret, ts: "", sig: sig, body: body, now: signedAt, want: ErrMissingSignature},
		{name: "missing signature", secret: secret, ts: ts, sig: " ", body: body, now: signedAt, want: ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.ts, tt.sig, tt.body, tt.now, tt.tolerance)
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
	err := Verify([]byte("s"), "1700000000", Sign([]byte("other"), signedAt, nil), nil, signedAt.Add(time.Hour), 0)
	if !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify = %v, want ErrBadSignature", err)
	}
}

// knownMAC is the hex HMAC-SHA256 of "1700000000.{}" under "secret".
const knownMAC = "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
