package opensearch

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

// TestCursorsAreTamperEvident encodes a cursor and checks that it reads
// back only for its caller and filter, before it expires, and exactly as
// it was signed.
func TestCursorsAreTamperEvident(t *testing.T) {
	key := deriveCursorKey([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleMember}
	c := cursor{Workspace: "ws-1", User: "u-1", Filter: "f1", PIT: "pit-1", AfterTime: 1777636800000, AfterID: "e-1", Since: 1, Expires: now.Add(5 * time.Minute).Unix()}
	text := encodeCursor(key, c)
	if got, err := decodeCursor(key, text, p, "f1", now); err != nil || got != c {
		t.Fatalf("decode = %+v, %v; want %+v", got, err, c)
	}
	body, sig, _ := strings.Cut(text, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	altered := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"w":"ws-1"`, `"w":"ws-2"`, 1))) + "." + sig
	flipped := []byte(text)
	flipped[len(flipped)-2] ^= 1
	tests := []struct {
		name   string
		text   string
		p      activity.Principal
		filter string
		now    time.Time
		want   error
	}{
		{"garbage", "not a cursor", p, "f1", now, errCursorForged},
		{"bad base64", "!!!.???", p, "f1", now, errCursorForged},
		{"altered body", altered, p, "f1", now, errCursorForged},
		{"altered signature", string(flipped), p, "f1", now, errCursorForged},
		{"signed with another key", encodeCursor(deriveCursorKey([]byte("another secret")), c), p, "f1", now, errCursorForged},
		{"no signature", body, p, "f1", now, errCursorForged},
		{"another workspace", text, activity.Principal{WorkspaceID: "ws-2", UserID: "u-1"}, "f1", now, errCursorForeign},
		{"another user", text, activity.Principal{WorkspaceID: "ws-1", UserID: "u-2"}, "f1", now, errCursorForeign},
		{"another filter", text, p, "f2", now, errCursorFilter},
		{"expired", text, p, "f1", now.Add(5 * time.Minute), errCursorExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeCursor(key, tt.text, tt.p, tt.filter, tt.now)
			if err != tt.want {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != "cursor" {
				t.Errorf("error = %v, want EINVALID on cursor", err)
			}
		})
	}
}
