package synthetic

import (
	"bytes"
	"encoding/json"
	"time"

	activity "github.com/fluxera/activity"
)

// Encodings returns n generated events as encoding/json writes them, then
// an event with every awkward field (HTML, line and paragraph separators,
// control characters, emoji, numbers at the edges of float64, a chain
// link) and that event with keys in another case, an unknown key, a null
// and an invalid UTF-8 byte: what a decoder or an encoder meant to match
// encoding/json is held to.
func Encodings(seed uint64, n int) ([][]byte, error) {
	gen := New(seed, 5, 4, time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC), 1500*time.Millisecond)
	out := make([][]byte, 0, n+5)
	for range n {
		b, err := json.Marshal(gen.Next())
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	e := gen.Next()
	e.Actor.Name = "Zoë <script>&amp; \u2028\u2029 \"quoted\" \\ \t\x01 日本"
	e.Note = "a note with </html> and \U0001F600"
	e.Changes = []activity.Change{{Field: "status", Before: "available", After: "lost"}}
	e.Details = map[string]any{
		"count": 3.0, "big": 12345678901234567890.0, "small": 1e-7, "exp": 1e21, "neg": -0.5,
		"nested": map[string]any{"z": []any{1.0, "two", nil, true}, "a": map[string]any{}},
		"html":   "<b>&</b>", "empty": "",
	}
	e.Chain = &activity.Chain{Seq: 42, PrevHash: "ab", Hash: "cd", Digests: map[string]string{"note": "x", "actor.email": "y"}, Anonymized: []string{"note"}}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(out, b,
		bytes.Replace(b, []byte(`"action"`), []byte(`"ACTION"`), 1),
		bytes.Replace(b, []byte(`"note"`), []byte(`"unknown":{"x":[1,2]},"note"`), 1),
		bytes.Replace(b, []byte(`"details"`), []byte(`"related":null,"details"`), 1),
		bytes.Replace(b, []byte("a note"), []byte("a \xff note"), 1),
	), nil
}
