package opensearch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// cursor is where a listing continues: the point in time it reads (none
// yet after the first page: the second opens it), the sort values of the
// last entry given, and the period the first page read, bound to the
// caller and to the filter. It travels signed, as opaque text.
type cursor struct {
	Workspace string `json:"w"`
	User      string `json:"u"`
	Filter    string `json:"f"`
	PIT       string `json:"p,omitempty"`
	// AfterTime and AfterID are the sort values of the last entry given:
	// occurred_at in milliseconds and the id.
	AfterTime int64  `json:"t"`
	AfterID   string `json:"i"`
	// Since and Until are the period in milliseconds, zero where open.
	Since int64 `json:"s,omitempty"`
	Until int64 `json:"e,omitempty"`
	// Expires is when the cursor, and its point in time, lapse, in Unix
	// seconds.
	Expires int64 `json:"x"`
}

// cursorLabel separates the cursor key from any other use of the secret
// it is derived from.
const cursorLabel = "fluxera activity cursor v1"

// deriveCursorKey returns the key cursors are signed with.
func deriveCursorKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(cursorLabel))
	return m.Sum(nil)
}

// encodeCursor returns c as opaque text: its JSON and an HMAC of it.
func encodeCursor(key []byte, c cursor) string {
	b, _ := json.Marshal(c)
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Errors a cursor is refused with, field cursor.
var (
	errCursorForged = activity.Errorf(activity.EINVALID, "cursor",
		"the cursor is not one this server issued or it was altered; start again from the first page without a cursor")
	errCursorForeign = activity.Errorf(activity.EINVALID, "cursor",
		"the cursor was issued to another user; start again from the first page without a cursor")
	errCursorFilter = activity.Errorf(activity.EINVALID, "cursor",
		"the cursor was issued for other filters; send the filters of the first page with it, or start again without a cursor")
	errCursorExpired = activity.Errorf(activity.EINVALID, "cursor",
		"the cursor has expired; start again from the first page without a cursor")
)

// decodeCursor checks text's signature, that it was issued to p for the
// filter with fingerprint filter, and that it has not expired by now. It
// returns EINVALID on field cursor saying which of these fails.
func decodeCursor(key []byte, text string, p activity.Principal, filter string, now time.Time) (cursor, error) {
	body, sig, ok := strings.Cut(text, ".")
	if !ok {
		return cursor{}, errCursorForged
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	s, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return cursor{}, errCursorForged
	}
	m := hmac.New(sha256.New, key)
	m.Write(b)
	if !hmac.Equal(s, m.Sum(nil)) {
		return cursor{}, errCursorForged
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, errCursorForged
	}
	switch {
	case c.Workspace != p.WorkspaceID || c.User != p.UserID:
		return cursor{}, errCursorForeign
	case c.Filter != filter:
		return cursor{}, errCursorFilter
	case now.Unix() >= c.Expires:
		return cursor{}, errCursorExpired
	}
	return c, nil
}
