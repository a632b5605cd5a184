package ingest

import (
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	activity "github.com/fluxera/activity"
)

// The indexer decodes every event and encodes every document once, and
// that is most of its CPU time: it does both with github.com/goccy/go-json,
// which reads and writes the same JSON as encoding/json (the tests hold the
// bytes to it) in about half the time.

// DecodeEvent is activity.DecodeEvent at the indexer's speed: the same
// event from the same bytes, and for bytes it cannot take, the very error
// activity.DecodeEvent returns, so that a dead letter's reason does not
// depend on which decoder read it. Bytes that are not valid UTF-8 are
// left to encoding/json, which replaces what is invalid.
func DecodeEvent(b []byte) (activity.Event, error) {
	if !utf8.Valid(b) {
		return activity.DecodeEvent(b)
	}
	var e activity.Event
	if err := gojson.Unmarshal(b, &e); err != nil {
		return activity.DecodeEvent(b)
	}
	if err := e.Validate(); err != nil {
		return activity.Event{}, err
	}
	return e, nil
}

// EncodeDocument returns the JSON of doc, byte for byte what
// json.Marshal writes.
func EncodeDocument(doc *SearchDocument) ([]byte, error) {
	return gojson.Marshal(doc)
}
