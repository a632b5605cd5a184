package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	activity "github.com/fluxera/activity"
)

// ReadEntries reads entries saved as NDJSON — one event a line, as the
// feed's entries, an NDJSON export or the activity topic carry them — and
// returns those of workspace that have a place in the chain, in chain
// order. It returns an error naming the line that is not an event.
func ReadEntries(r io.Reader, workspace string) (SliceEntries, error) {
	x, err := readNDJSON(r)
	if err != nil {
		return nil, err
	}
	return x.Chained(workspace), nil
}

// Export is what an export file holds: its entries, and the checkpoint
// that covered them when it was made, if it states one.
type Export struct {
	Entries    []activity.Event
	Checkpoint *Checkpoint
}

// ReadExport reads a JSON export (one object with entries and
// checkpoint) or an NDJSON one (an event a line, and a last line of type
// checkpoint when it states one); NDJSON without that line, such as the
// feed's entries saved one a line, is read too. It returns an error naming
// the line that is neither an event nor the checkpoint.
func ReadExport(r io.Reader) (Export, error) {
	br := bufio.NewReader(r)
	// A JSON export begins with {"entries": — an NDJSON line, with an
	// event's first field, schema.
	head, _ := br.Peek(64)
	if bytes.HasPrefix(bytes.TrimLeft(head, "\ufeff \t\r\n"), []byte(`{"entries"`)) {
		var doc struct {
			Entries    []activity.Event `json:"entries"`
			Checkpoint *Checkpoint      `json:"checkpoint"`
		}
		dec := json.NewDecoder(br)
		if err := dec.Decode(&doc); err != nil {
			return Export{}, fmt.Errorf("the JSON export cannot be read: %w", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return Export{}, fmt.Errorf("the JSON export has more after its end")
		}
		return Export{Entries: doc.Entries, Checkpoint: doc.Checkpoint}, nil
	}
	return readNDJSON(br)
}

func readNDJSON(r io.Reader) (Export, error) {
	var x Export
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if x.Checkpoint != nil {
			return Export{}, fmt.Errorf("line %d follows the checkpoint, which ends an export", line)
		}
		var probe struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(b, &probe) == nil && probe.Type == TrailerType {
			var t ExportTrailer
			if err := json.Unmarshal(b, &t); err != nil {
				return Export{}, fmt.Errorf("line %d is not a checkpoint: %w", line, err)
			}
			x.Checkpoint = &t.Checkpoint
			continue
		}
		var e activity.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return Export{}, fmt.Errorf("line %d is not an event: %w", line, err)
		}
		x.Entries = append(x.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return Export{}, err
	}
	return x, nil
}

// Chained returns the entries of workspace that have a place in the
// chain, in chain order.
func (x Export) Chained(workspace string) SliceEntries {
	var out SliceEntries
	for _, e := range x.Entries {
		if e.Chain != nil && e.WorkspaceID == workspace {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Chain.Seq != out[j].Chain.Seq {
			return out[i].Chain.Seq < out[j].Chain.Seq
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ReadKeys reads the answer of GET /api/v1/audit/keys.
func ReadKeys(r io.Reader) (map[string]PublicKey, error) {
	var answer struct {
		Keys []PublicKey `json:"keys"`
	}
	if err := json.NewDecoder(r).Decode(&answer); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	keys := map[string]PublicKey{}
	for _, k := range answer.Keys {
		pub, err := ParsePublicKey(k.PEM)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		if KeyID(pub) != k.ID {
			return nil, fmt.Errorf("key %s is not the key its id names", k.ID)
		}
		k.Key = pub
		keys[k.ID] = k
	}
	return keys, nil
}

// ReadCheckpoints reads answers of GET /api/v1/audit/checkpoints, one or
// more pages one after the other.
func ReadCheckpoints(r io.Reader) ([]Checkpoint, error) {
	var out []Checkpoint
	dec := json.NewDecoder(r)
	for {
		var page struct {
			Checkpoints []Checkpoint `json:"checkpoints"`
		}
		err := dec.Decode(&page)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		out = append(out, page.Checkpoints...)
	}
}

// VerifyFile verifies entries read from a file, without the platform:
// the chain over the digests, and the checkpoints, under the published
// keys, that fall within the entries' sequence numbers. The personal values
// cannot be held to their digests without the workspace's key.
func VerifyFile(workspace string, entries SliceEntries, keys map[string]PublicKey, checkpoints []Checkpoint) (Result, error) {
	v := Verifier{Keys: map[string]ed25519.PublicKey{}}
	for id, k := range keys {
		v.Keys[id] = k.Key
	}
	if len(entries) > 0 {
		first, last := entries[0].Chain.Seq, entries[len(entries)-1].Chain.Seq
		v.Whole, v.UpTo = first == 1, last
		for _, cp := range checkpoints {
			if cp.Seq >= first-1 && cp.Seq <= last {
				v.Checkpoints = append(v.Checkpoints, cp)
			}
		}
	}
	return v.Verify(context.Background(), workspace, &entries)
}

// TrailerType is the type of the last line of an NDJSON export that
// states the checkpoint covering the export.
const TrailerType = "checkpoint"

// ExportTrailer is the last line of an NDJSON export that states the
// signed checkpoint covering it: the workspace's latest at or below the
// highest sequence number among its entries when it was exported.
type ExportTrailer struct {
	Type       string     `json:"type"`
	Checkpoint Checkpoint `json:"checkpoint"`
}
