package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed webhook or chat request.
const (
	HeaderTimestamp = "X-Fluxera-Timestamp"      // unix seconds when the request was signed
	HeaderSignature = "X-Fluxera-Signature"      // v1=<hex HMAC-SHA256 of "<timestamp>.<body>">
	HeaderDelivery  = "X-Fluxera-alert.Delivery" // the delivery id, the same on every retry
)

// signatureScheme prefixes each signature in the signature header.
const signatureScheme = "v1="

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock before Verify takes it for a replay.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify.
var (
	// ErrMissingSignature means the timestamp or signature header is absent.
	ErrMissingSignature = errors.New("notify: the request carries no timestamp or signature header")
	// ErrStaleTimestamp means the signature is genuine but was made too
	// long ago, or too far ahead of the receiver's clock: a replay.
	ErrStaleTimestamp = errors.New("notify: the request's timestamp is outside the tolerance")
	// ErrBadSignature means no signature in the header matches the body
	// and timestamp, or the headers are malformed.
	ErrBadSignature = errors.New("notify: the request's signature does not match")
)

// Sign returns the signature header value for body sent at ts:
// "v1=" and the lowercase hex HMAC-SHA256, keyed with secret, of the unix
// seconds of ts, a dot and the body.
func Sign(secret []byte, ts time.Time, body []byte) string {
	return signatureScheme + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

// SignRequest sets the timestamp and signature headers of req for body,
// which must be the exact bytes req sends.
func SignRequest(req *http.Request, secret []byte, ts time.Time, body []byte) {
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
}

// Verify checks a signed request as its receiver: that one of the v1
// signatures in signatureHeader (several, comma-separated, while a secret
// is rotated) is the HMAC of timestampHeader and body under secret, and
// that the timestamp is within tolerance of now (DefaultTolerance when
// tolerance is zero or less). The comparison takes constant time. It
// returns ErrMissingSignature, ErrBadSignature or ErrStaleTimestamp, each
// possibly wrapped.
func Verify(secret []byte, timestampHeader, signatureHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	timestampHeader = strings.TrimSpace(timestampHeader)
	if timestampHeader == "" || strings.TrimSpace(signatureHeader) == "" {
		return ErrMissingSignature
	}
	sec, err := strconv.ParseInt(timestampHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not unix seconds", ErrBadSignature, timestampHeader)
	}
	want := mac(secret, timestampHeader, body)
	matched := false
	for _, part := range strings.Split(signatureHeader, ",") {
		part = strings.TrimSpace(part)
		if !strings.HasPrefix(part, signatureScheme) {
			continue
		}
		got, err := hex.DecodeString(part[len(signatureScheme):])
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return ErrBadSignature
	}
	// The signature is checked first, so that a stale timestamp means a
	// genuine request sent again, not a forgery.
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	age := now.Sub(time.Unix(sec, 0))
	if age > tolerance {
		return fmt.Errorf("%w: signed %s ago, tolerance %s", ErrStaleTimestamp, age.Round(time.Second), tolerance)
	}
	if age < -tolerance {
		return fmt.Errorf("%w: signed %s ahead of this clock, tolerance %s", ErrStaleTimestamp, (-age).Round(time.Second), tolerance)
	}
	return nil
}

// mac returns the HMAC-SHA256 of "<timestamp>.<body>".
func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
