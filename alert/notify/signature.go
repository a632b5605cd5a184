package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed webhook or chat request. Each request carries two
// sets that sign the same delivery id, timestamp and body: the platform's
// own, and those of the Standard Webhooks specification
// (https://www.standardwebhooks.com), which receivers in any language can
// check with that specification's libraries.
const (
	HeaderDelivery  = "X-Fluxera-Delivery"  // the delivery id, the same on every retry
	HeaderTimestamp = "X-Fluxera-Timestamp" // unix seconds when the request was signed
	HeaderSignature = "X-Fluxera-Signature" // v2=<hex HMAC-SHA256 of "<delivery>.<timestamp>.<body>">

	HeaderWebhookID        = "webhook-id"        // the delivery id
	HeaderWebhookTimestamp = "webhook-timestamp" // unix seconds when the request was signed
	HeaderWebhookSignature = "webhook-signature" // v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">
)

// Prefixes of a signature in HeaderSignature and in HeaderWebhookSignature,
// and of a signing secret written the Standard Webhooks way.
const (
	signatureScheme        = "v2="
	standardScheme         = "v1,"
	standardSecretPrefix   = "whsec_"
	signedContentSeparator = "."
)

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock before Verify takes it for a replay.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify.
var (
	// ErrMissingSignature means the delivery id, timestamp or signature
	// header is absent.
	ErrMissingSignature = errors.New("notify: the request carries no delivery id, timestamp or signature header")
	// ErrStaleTimestamp means the signature is genuine but was made too
	// long ago, or too far ahead of the receiver's clock: a replay.
	ErrStaleTimestamp = errors.New("notify: the request's timestamp is outside the tolerance")
	// ErrBadSignature means no signature in the header matches the
	// delivery id, timestamp and body, or the headers are malformed.
	ErrBadSignature = errors.New("notify: the request's signature does not match")
)

// Sign returns the platform's signature header value for body sent as
// delivery id at ts: "v2=" and the lowercase hex HMAC-SHA256, keyed with
// secret, of the id, a dot, the unix seconds of ts, a dot and the body.
func Sign(secret []byte, id string, ts time.Time, body []byte) string {
	return signatureScheme + hex.EncodeToString(mac(secret, id, strconv.FormatInt(ts.Unix(), 10), body))
}

// SignStandard returns the Standard Webhooks signature header value for
// body sent as message id at ts: "v1," and the base64 HMAC-SHA256, keyed
// with secret, of the id, a dot, the unix seconds of ts, a dot and the
// body. The same secret written the specification's way is
// StandardSecret(secret).
func SignStandard(secret []byte, id string, ts time.Time, body []byte) string {
	return standardScheme + base64.StdEncoding.EncodeToString(mac(secret, id, strconv.FormatInt(ts.Unix(), 10), body))
}

// StandardSecret writes a signing secret as the Standard Webhooks
// libraries take it: "whsec_" and the base64 of its bytes.
func StandardSecret(secret []byte) string {
	return standardSecretPrefix + base64.StdEncoding.EncodeToString(secret)
}

// SignRequest sets the delivery id, timestamp and signature headers of
// req, both the platform's and the Standard Webhooks ones, for body sent
// as delivery id at ts; body must be the exact bytes req sends. The id
// must not contain a dot (see ValidDeliveryID).
func SignRequest(req *http.Request, secret []byte, id string, ts time.Time, body []byte) {
	unix := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderTimestamp, unix)
	req.Header.Set(HeaderSignature, Sign(secret, id, ts, body))
	req.Header.Set(HeaderWebhookID, id)
	req.Header.Set(HeaderWebhookTimestamp, unix)
	req.Header.Set(HeaderWebhookSignature, SignStandard(secret, id, ts, body))
}

// ValidDeliveryID reports whether id can be signed: not empty, printable
// ASCII without spaces, and without the dot that separates the signed
// parts, so that no id and timestamp can be read as another pair.
func ValidDeliveryID(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '.' {
			return false
		}
	}
	return true
}

// Verify checks a signed request as its receiver, from its headers h and
// its raw body. It checks each set of headers the request has, the
// platform's and the Standard Webhooks ones, and at least one must be
// there: that one of the signatures in the signature header (several
// while a secret is rotated: comma-separated v2= values, or
// space-separated v1, values) is the HMAC, under secret, of the delivery
// id, the timestamp and body, and that the timestamp is within tolerance
// of now (DefaultTolerance when tolerance is zero or less). Checking both
// sets means that whichever id the receiver drops duplicates by was
// signed. secret is the signing secret as shown when it was made, or the
// same written the Standard Webhooks way ("whsec_…"). The comparison
// takes constant time. It returns ErrMissingSignature, ErrBadSignature or
// ErrStaleTimestamp, each possibly wrapped.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	key := signingKey(secret)
	checked := 0
	var stale error
	for _, s := range schemes {
		if h.Get(s.id) == "" && h.Get(s.timestamp) == "" && h.Get(s.signature) == "" {
			continue
		}
		checked++
		signedAt, err := s.verify(key, h, body)
		if err != nil {
			return err
		}
		// The signature is checked first, so that a stale timestamp
		// means a genuine request sent again, not a forgery.
		if age := now.Sub(signedAt); age > tolerance {
			stale = fmt.Errorf("%w: signed %s ago, tolerance %s", ErrStaleTimestamp, age.Round(time.Second), tolerance)
		} else if age < -tolerance {
			stale = fmt.Errorf("%w: signed %s ahead of this clock, tolerance %s", ErrStaleTimestamp, (-age).Round(time.Second), tolerance)
		}
	}
	if checked == 0 {
		return ErrMissingSignature
	}
	return stale
}

// scheme is one set of signature headers and how its signatures are
// written.
type scheme struct {
	id, timestamp, signature string
	prefix                   string // of each signature
	separator                string // between signatures
	decode                   func(string) ([]byte, error)
}

// schemes are the platform's headers and the Standard Webhooks ones.
var schemes = []scheme{
	{id: HeaderDelivery, timestamp: HeaderTimestamp, signature: HeaderSignature, prefix: signatureScheme, separator: ",", decode: hex.DecodeString},
	{id: HeaderWebhookID, timestamp: HeaderWebhookTimestamp, signature: HeaderWebhookSignature, prefix: standardScheme, separator: " ", decode: base64.StdEncoding.DecodeString},
}

// verify checks the signature headers of s in h and returns when the
// request was signed.
func (s scheme) verify(key []byte, h http.Header, body []byte) (time.Time, error) {
	id, timestamp, signatures := strings.TrimSpace(h.Get(s.id)), strings.TrimSpace(h.Get(s.timestamp)), h.Get(s.signature)
	if id == "" || timestamp == "" || strings.TrimSpace(signatures) == "" {
		return time.Time{}, fmt.Errorf("%w: %s, %s and %s go together", ErrMissingSignature, s.id, s.timestamp, s.signature)
	}
	if !ValidDeliveryID(id) {
		return time.Time{}, fmt.Errorf("%w: %s is not a delivery id", ErrBadSignature, s.id)
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not unix seconds", ErrBadSignature, s.timestamp, timestamp)
	}
	want := mac(key, id, timestamp, body)
	matched := false
	for _, part := range strings.Split(signatures, s.separator) {
		part = strings.TrimSpace(part)
		if !strings.HasPrefix(part, s.prefix) {
			continue
		}
		got, err := s.decode(part[len(s.prefix):])
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return time.Time{}, fmt.Errorf("%w: %s", ErrBadSignature, s.signature)
	}
	return time.Unix(sec, 0), nil
}

// signingKey returns the HMAC key of a secret given to Verify: the bytes
// of a secret as shown, or the decoded base64 of one written "whsec_…".
func signingKey(secret []byte) []byte {
	if rest, ok := strings.CutPrefix(string(secret), standardSecretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return key
		}
	}
	return secret
}

// mac returns the HMAC-SHA256 of "<id>.<timestamp>.<body>", the content
// both signature schemes sign.
func mac(secret []byte, id, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(id))
	h.Write([]byte(signedContentSeparator))
	h.Write([]byte(timestamp))
	h.Write([]byte(signedContentSeparator))
	h.Write(body)
	return h.Sum(nil)
}
