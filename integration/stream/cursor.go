package stream

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	activity "github.com/fluxera/activity"
)

// cursor is where a stream stands: the partition of the workspace's
// events and the offset of the last event sent.
type cursor struct {
	Partition int
	Offset    int64
}

// cursorField names the cursor in refusals.
const cursorField = "Last-Event-ID"

// encode writes c as an event id, signed for the workspace: a client can
// hand it back, but not make one up nor use another workspace's.
func (c cursor) encode(key []byte, workspaceID string) string {
	body := strconv.Itoa(c.Partition) + "-" + strconv.FormatInt(c.Offset, 10)
	return body + "-" + sign(key, workspaceID, body)
}

func sign(key []byte, workspaceID, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("activity-stream\x00" + workspaceID + "\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// decodeCursor reads an event id that encode wrote for the workspace. It
// returns EINVALID on Last-Event-ID for anything else.
func decodeCursor(key []byte, workspaceID, id string) (cursor, error) {
	bad := activity.Errorf(activity.EINVALID, cursorField, "Last-Event-ID is not an id this stream sent; reconnect without it to start from now")
	// The signature is base64url, which may hold dashes itself.
	parts := strings.SplitN(strings.TrimSpace(id), "-", 3)
	if len(parts) != 3 || len(id) > 100 {
		return cursor{}, bad
	}
	body := parts[0] + "-" + parts[1]
	if !hmac.Equal([]byte(sign(key, workspaceID, body)), []byte(parts[2])) {
		return cursor{}, bad
	}
	p, err1 := strconv.Atoi(parts[0])
	off, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || p < 0 || off < 0 {
		return cursor{}, bad
	}
	return cursor{Partition: p, Offset: off}, nil
}
