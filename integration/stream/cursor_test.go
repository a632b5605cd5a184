package stream

import (
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
)

// TestCursor reads back every id it writes, whatever its signature holds
// (base64url may hold dashes), and refuses ids altered, made up or made
// for another workspace.
func TestCursor(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	const ws, other = "0193a0a0-0000-7000-8000-000000000001", "0193a0a0-0000-7000-8000-000000000002"
	dashed := 0
	for off := int64(0); off < 2000; off++ {
		c := cursor{Partition: int(off % 3), Offset: off}
		id := c.encode(key, ws)
		if strings.Count(id, "-") > 2 {
			dashed++
		}
		got, err := decodeCursor(key, ws, id)
		if err != nil || got != c {
			t.Fatalf("%s read back as %+v, %v", id, got, err)
		}
	}
	if dashed == 0 {
		t.Fatal("no signature held a dash; the test proves nothing")
	}
	good := cursor{Partition: 1, Offset: 42}.encode(key, ws)
	for name, id := range map[string]string{
		"another workspace's": cursor{Partition: 1, Offset: 42}.encode(key, other),
		"altered offset":      strings.Replace(good, "-42-", "-43-", 1),
		"made up":             "1-42-AAAAAAAAAAAAAAAAAAAAAA",
		"no signature":        "1-42",
		"empty":               "",
		"negative":            cursor{Partition: 1, Offset: -1}.encode(key, ws),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeCursor(key, ws, id)
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != cursorField {
				t.Errorf("%q: %v, want EINVALID on %s", id, err, cursorField)
			}
		})
	}
}
