package audit

import (
	"bufio"
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
	var out SliceEntries
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e activity.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("line %d is not an event: %w", line, err)
		}
		if e.Chain != nil && e.WorkspaceID == workspace {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Chain.Seq != out[j].Chain.Seq {
			return out[i].Chain.Seq < out[j].Chain.Seq
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
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
