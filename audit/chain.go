// Package audit makes each workspace's activity log tamper-evident: it
// forms the hash chain the relay fixes in publication order, signs
// checkpoints of the chain, and verifies a stream of entries, from any
// source, against the chain and the checkpoints.
//
// It imports only the standard library and the event contract.
package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"strconv"
	"strings"

	activity "github.com/fluxera/activity"
)

// DigestKeySize is the length of a workspace's digest key in bytes.
const DigestKeySize = 32

// CanonicalVersion is the version of the canonical form hashed into the
// chain; it is the first field of the form.
const CanonicalVersion = 1

// GenesisHash is the previous hash of a workspace's first entry.
var GenesisHash = strings.Repeat("0", 64)

// DigestSize is the length of a digest in bytes: HMAC-SHA-256 cut to 128
// bits, which keeps a value from being forged or guessed without the key
// while keeping each entry small.
const DigestSize = 16

// Digest returns the keyed digest of a personal value: HMAC-SHA-256 under
// the workspace's digest key, its first DigestSize bytes in lower-case hex.
// The empty value has the empty digest.
func Digest(key []byte, value string) string {
	if value == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:DigestSize])
}

// personalFields calls fn with the path and value of every field of e that
// may hold personal data: the actor's name and email, the IP address, and
// the free text that may mention a person (resource and related names,
// changed values, the note and the details).
func personalFields(e *activity.Event, fn func(path, value string)) {
	fn("actor.email", e.Actor.Email)
	fn("actor.name", e.Actor.Name)
	fn("resource.name", e.Resource.Name)
	for i, r := range e.Related {
		fn(fieldPath(relatedNames, "related.", i, ".name"), r.Name)
	}
	for i, c := range e.Changes {
		fn(fieldPath(changesBefore, "changes.", i, ".before"), c.Before)
		fn(fieldPath(changesAfter, "changes.", i, ".after"), c.After)
	}
	fn("context.ip", e.Context.IP)
	fn("note", e.Note)
	if len(e.Details) > 0 {
		// encoding/json writes map keys sorted, so the details' text is
		// the same after any number of round trips.
		b, _ := json.Marshal(e.Details)
		fn("details", string(b))
	}
}

// The paths of the first related resources' names and changed values,
// made once.
var relatedNames, changesBefore, changesAfter = fieldPaths("related.", ".name"), fieldPaths("changes.", ".before"), fieldPaths("changes.", ".after")

func fieldPaths(prefix, suffix string) []string {
	out := make([]string, 64)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i) + suffix
	}
	return out
}

// fieldPath returns prefix, i and suffix joined, from made if it has it.
func fieldPath(made []string, prefix string, i int, suffix string) string {
	if i < len(made) {
		return made[i]
	}
	return prefix + strconv.Itoa(i) + suffix
}

// Digests returns the keyed digests of e's personal fields that are not
// empty, by field path.
func Digests(key []byte, e *activity.Event) map[string]string {
	return NewLinker(key).digests(e)
}

// CheckDigests returns the path of the first personal field of e whose
// value does not match its digest under key, or "" when all match. A
// field whose value is empty is not checked, nor one the entry lists as
// anonymized: its pseudonym cannot match the digest of the value it
// replaced. Only the platform, which holds the key, can make this check;
// the chain itself rests on the digests alone, so replacing a value by a
// pseudonym keeps it whole.
func CheckDigests(key []byte, e *activity.Event) string {
	if e.Chain == nil {
		return ""
	}
	bad := ""
	personalFields(e, func(path, value string) {
		if bad != "" || value == "" || slices.Contains(e.Chain.Anonymized, path) {
			return
		}
		if !hmac.Equal([]byte(Digest(key, value)), []byte(e.Chain.Digests[path])) {
			bad = path
		}
	})
	return bad
}

// Canonical returns the canonical form of e at sequence number seq with
// the given digests of its personal fields: compact JSON with the fields in
// a fixed order, the time in UTC milliseconds, no HTML escaping. The
// location, which the indexer derives from the IP address, is left out.
func Canonical(e *activity.Event, seq int64, digests map[string]string) []byte {
	var buf bytes.Buffer
	return bytes.Clone(appendCanonical(&buf, e, seq, digests))
}

// appendCanonical writes the canonical form into buf, which it empties
// first, and returns buf's bytes: the bytes encoding/json's Encoder, with
// HTML escaping off, writes for the canonical struct (without its final
// line feed), written field by field without reflection.
func appendCanonical(buf *bytes.Buffer, e *activity.Event, seq int64, digests map[string]string) []byte {
	b := buf.Bytes()[:0]
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, CanonicalVersion, 10)
	b = canonicalField(b, `,"workspace_id":`, e.WorkspaceID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = canonicalField(b, `,"id":`, e.ID)
	b = append(b, `,"schema":`...)
	b = strconv.AppendInt(b, int64(e.Schema), 10)
	b = append(b, `,"occurred_at":"`...)
	b = e.OccurredAt.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, '"')
	b = canonicalField(b, `,"action":`, e.Action)
	b = canonicalField(b, `,"category":`, e.Category)
	b = canonicalField(b, `,"outcome":`, e.Outcome)
	b = canonicalField(b, `,"actor":{"id":`, e.Actor.ID)
	b = canonicalField(b, `,"type":`, e.Actor.Type)
	b = canonicalField(b, `,"role":`, e.Actor.Role)
	b = canonicalField(b, `,"email":`, digests["actor.email"])
	b = canonicalField(b, `,"name":`, digests["actor.name"])
	b = appendCanonicalResource(append(b, `},"resource":`...), e.Resource.Type, e.Resource.ID, e.Resource.Role, digests["resource.name"])
	b = append(b, `,"related":[`...)
	for i, r := range e.Related {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCanonicalResource(b, r.Type, r.ID, r.Role, digests[fieldPath(relatedNames, "related.", i, ".name")])
	}
	b = append(b, `],"changes":[`...)
	for i, ch := range e.Changes {
		if i > 0 {
			b = append(b, ',')
		}
		b = canonicalField(b, `{"field":`, ch.Field)
		b = append(b, `,"redacted":`...)
		b = strconv.AppendBool(b, ch.Redacted)
		b = canonicalField(b, `,"before":`, digests[fieldPath(changesBefore, "changes.", i, ".before")])
		b = canonicalField(b, `,"after":`, digests[fieldPath(changesAfter, "changes.", i, ".after")])
		b = append(b, '}')
	}
	b = canonicalField(b, `],"context":{"ip":`, digests["context.ip"])
	b = canonicalField(b, `,"user_agent":`, e.Context.UserAgent)
	b = canonicalField(b, `,"session_id":`, e.Context.SessionID)
	b = canonicalField(b, `,"request_id":`, e.Context.RequestID)
	b = canonicalField(b, `,"method":`, e.Context.Method)
	b = canonicalField(b, `,"time_zone":`, e.Context.TimeZone)
	b = canonicalField(b, `},"note":`, digests["note"])
	b = canonicalField(b, `,"details":`, digests["details"])
	b = append(b, '}')
	buf.Reset()
	buf.Write(b)
	return buf.Bytes()
}

// appendCanonicalResource writes a resource of the canonical form.
func appendCanonicalResource(b []byte, typ, id, role, name string) []byte {
	b = canonicalField(b, `{"type":`, typ)
	b = canonicalField(b, `,"id":`, id)
	b = canonicalField(b, `,"role":`, role)
	b = canonicalField(b, `,"name":`, name)
	return append(b, '}')
}

// canonicalField appends key, then s as encoding/json's Encoder writes a
// string with HTML escaping off: printable ASCII other than the quote and
// the backslash as it is, anything else through the Encoder itself.
func canonicalField(b []byte, key, s string) []byte {
	b = append(b, key...)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string: it cannot fail
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// EntryHash returns the hash of an entry: SHA-256 over the previous hash
// (as its 64 hex characters), a line feed, and the canonical form, in
// lower-case hex.
func EntryHash(prevHash string, canonicalForm []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write([]byte{'\n'})
	h.Write(canonicalForm)
	return hex.EncodeToString(h.Sum(nil))
}

// Link gives e its place in the chain after the entry whose hash is
// prevHash: sequence number seq, the digests of its personal fields under
// the workspace's key, and its hash. It returns e's hash.
func Link(e *activity.Event, seq int64, prevHash string, key []byte) string {
	return NewLinker(key).Link(e, seq, prevHash)
}

// Linker links the entries of one workspace's chain under its digest key,
// as Link does, keeping its keyed hash and its buffer from one entry to
// the next instead of making them again for each. A Linker is for one
// goroutine at a time.
type Linker struct {
	mac  hash.Hash
	sum  [sha256.Size]byte
	form bytes.Buffer
	// seen holds the digests of the values digested lately: the events of
	// one workspace repeat their actors, addresses and many changed
	// values, and a digest depends on the value alone.
	seen map[string]string
}

// maxSeenDigests bounds the digests a Linker keeps; past it, it forgets
// them all and starts again.
const maxSeenDigests = 4096

// NewLinker returns a Linker for the workspace whose digest key is key.
func NewLinker(key []byte) *Linker {
	return &Linker{mac: hmac.New(sha256.New, key), seen: make(map[string]string, 64)}
}

// Link gives e its place in the chain after the entry whose hash is
// prevHash, exactly as the package's Link does, and returns e's hash.
func (l *Linker) Link(e *activity.Event, seq int64, prevHash string) string {
	return l.Prepare(e, seq).Link(prevHash)
}

// Prepared is an event made ready for its place in a chain: the digests of
// its personal fields and its canonical form at its sequence number.
// Preparing is the costly part of linking, and does not need the previous
// entry's hash, so the events of a batch can be prepared in any order, on
// several goroutines; linking them is then one hash each, in chain order.
type Prepared struct {
	event   *activity.Event
	seq     int64
	digests map[string]string
	form    []byte
}

// Prepare makes e ready to be linked at sequence number seq.
func (l *Linker) Prepare(e *activity.Event, seq int64) Prepared {
	digests := l.digests(e)
	form := bytes.Clone(appendCanonical(&l.form, e, seq, digests))
	return Prepared{event: e, seq: seq, digests: digests, form: form}
}

// Link gives the prepared event its place after the entry whose hash is
// prevHash, as Link does, and returns its hash.
func (p Prepared) Link(prevHash string) string {
	hash := EntryHash(prevHash, p.form)
	p.event.Chain = &activity.Chain{Seq: p.seq, PrevHash: prevHash, Hash: hash, Digests: p.digests}
	return hash
}

// digests returns the keyed digests of e's personal fields that are not
// empty, by field path.
func (l *Linker) digests(e *activity.Event) map[string]string {
	out := make(map[string]string, 8)
	personalFields(e, func(path, value string) {
		if value == "" {
			return
		}
		d, ok := l.seen[value]
		if !ok {
			l.mac.Reset()
			l.mac.Write([]byte(value))
			d = hex.EncodeToString(l.mac.Sum(l.sum[:0])[:DigestSize])
			if len(l.seen) >= maxSeenDigests {
				clear(l.seen)
			}
			l.seen[value] = d
		}
		out[path] = d
	})
	return out
}

// AppendLink appends c to dst as the bytes json.Marshal gives for it (the
// digests in the order of their sorted paths), without reflection.
func AppendLink(dst []byte, c *activity.Chain) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, c.Seq, 10)
	dst = append(dst, `,"prev_hash":`...)
	dst = appendJSONString(dst, c.PrevHash)
	dst = append(dst, `,"hash":`...)
	dst = appendJSONString(dst, c.Hash)
	if len(c.Digests) > 0 {
		paths := make([]string, 0, len(c.Digests))
		for p := range c.Digests {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		dst = append(dst, `,"digests":{`...)
		for i, p := range paths {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, p)
			dst = append(dst, ':')
			dst = appendJSONString(dst, c.Digests[p])
		}
		dst = append(dst, '}')
	}
	if len(c.Anonymized) > 0 {
		dst = append(dst, `,"anonymized":[`...)
		for i, p := range c.Anonymized {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, p)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string. Hex, digits and field
// paths are written as they are; anything else goes through
// encoding/json, so the bytes are what json.Marshal gives.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// Recompute returns the hash e's content gives at its stated place in the
// chain: over its stated previous hash, sequence number and digests. It
// returns "" for an event without a chain link.
func Recompute(e *activity.Event) string {
	if e.Chain == nil {
		return ""
	}
	return EntryHash(e.Chain.PrevHash, Canonical(e, e.Chain.Seq, e.Chain.Digests))
}
