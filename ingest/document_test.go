package ingest

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/ingest/synthetic"
)

// TestDocumentAllocations bounds the allocations of turning one message
// into its document, which the indexer does for every event.
func TestDocumentAllocations(t *testing.T) {
	gen := synthetic.New(3, 2, 2, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), time.Second)
	var msgs []Message
	for range 64 {
		b, err := json.Marshal(gen.Next())
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, Message{Value: b})
	}
	ix := &Indexer{Config: Config{IndexPrefix: "fluxera"}, Now: time.Now}
	i := 0
	got := testing.AllocsPerRun(500, func() {
		if _, err := ix.document(msgs[i%len(msgs)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	t.Logf("%.1f allocations per document", got)
	if got > 32 {
		t.Errorf("a document takes %.0f allocations, want at most 32", got)
	}
}

// TestSessionKeyReadsBackWhatItJoined holds SplitSessionKey to
// SessionKeyOf for ids holding colons, digits and any byte, and to
// refusing what SessionKeyOf never writes.
func TestSessionKeyReadsBackWhatItJoined(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	alphabet := []byte("0123456789:ab-\x00\xff")
	word := func() string {
		b := make([]byte, 1+rnd.IntN(40))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		user, session := word(), word()
		key := SessionKeyOf(user, session)
		u, s, ok := SplitSessionKey(key)
		if !ok || u != user || s != session {
			t.Fatalf("%q, %q: key %q reads back as %q, %q, %v", user, session, key, u, s, ok)
		}
	}
	long := strings.Repeat("x", MaxSessionKeyPart+1)
	for _, c := range [][2]string{{"", "s"}, {"u", ""}, {long, "s"}, {"u", long}} {
		if key := SessionKeyOf(c[0], c[1]); key != "" {
			t.Errorf("%q, %q: key %q, want none", c[0], c[1], key)
		}
	}
	for _, bad := range []string{"", "x", ":", "0:", "1:", "01:ab", "-1:ab", "3:abc", "2:", "a:bc", "+1:ab"} {
		if u, s, ok := SplitSessionKey(bad); ok {
			t.Errorf("%q reads as %q, %q", bad, u, s)
		}
	}
}
