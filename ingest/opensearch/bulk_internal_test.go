package opensearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/fluxera/activity/ingest"
)

// TestAppendBulk checks the _bulk body: an action line and the document,
// the action's strings escaped as JSON.
func TestAppendBulk(t *testing.T) {
	docs := []ingest.Document{
		{Index: "fluxera-activity-2026.03", ID: "0194f5a2-7c4e-7b1a-9a1e-3c2d1e0f9a8b", Body: []byte(`{"id":"0194f5a2-7c4e-7b1a-9a1e-3c2d1e0f9a8b"}`)},
		{Index: "odd\"index<\u00e9>", ID: "id\\with\nnewline", Body: []byte(`{}`)},
	}
	got := appendBulk(nil, docs)
	var want bytes.Buffer
	for _, d := range docs {
		index, _ := json.Marshal(d.Index)
		id, _ := json.Marshal(d.ID)
		fmt.Fprintf(&want, "{\"create\":{\"_index\":%s,\"_id\":%s}}\n%s\n", index, id, d.Body)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("body\n%s\nwant\n%s", got, want.Bytes())
	}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = appendBulk(buf[:0], docs[:1]) }); n != 0 {
		t.Errorf("appending a plain document takes %.0f allocations, want none", n)
	}
}
