package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"sort"

	activity "github.com/fluxera/activity"
)

// What can be wrong with the chain at a sequence number.
const (
	// Altered: the entry's content, or the entry before it, no longer
	// gives the hash the chain recorded.
	Altered = "altered"
	// Missing: no entry has the sequence number.
	Missing = "missing"
	// Reordered: the entry is a genuine one moved to another place.
	Reordered = "reordered"
	// Inserted: an entry the chain never had.
	Inserted = "inserted"
	// ForgedCheckpoint: a checkpoint whose signature does not verify
	// under a published key.
	ForgedCheckpoint = "forged_checkpoint"
)

// Entries is a stream of one workspace's chained entries in ascending
// sequence order, from any source: the index, an archive, an export file.
type Entries interface {
	// Next returns the next entry, or io.EOF after the last.
	Next(ctx context.Context) (activity.Event, error)
}

// Problem is the first thing found wrong: where and what.
type Problem struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	EventID string `json:"event_id,omitempty"`
	Detail  string `json:"detail"`
}

// Result is what a verification found.
type Result struct {
	WorkspaceID string `json:"workspace_id"`
	// OK is true when every entry read is whole and in its place.
	OK bool `json:"ok"`
	// Entries is how many entries were read; FirstSeq and LastSeq the
	// sequence numbers of the first and the last.
	Entries  int64 `json:"entries"`
	FirstSeq int64 `json:"first_seq"`
	LastSeq  int64 `json:"last_seq"`
	// Checkpoints is how many signed checkpoints the entries were held to.
	Checkpoints    int         `json:"checkpoints_checked"`
	LastCheckpoint *Checkpoint `json:"last_checkpoint,omitempty"`
	Problem        *Problem    `json:"problem,omitempty"`
}

// Verifier checks a stream of entries against the chain they state and
// against signed checkpoints.
type Verifier struct {
	// Keys are the published public keys by id.
	Keys map[string]ed25519.PublicKey
	// Checkpoints are the workspace's checkpoints; the order does not
	// matter.
	Checkpoints []Checkpoint
	// DigestKey is the workspace's digest key. With it, the personal
	// values are held to their digests too; without it (offline), the
	// chain is checked over the digests alone.
	DigestKey []byte
	// Whole says the stream starts at the workspace's first entry, so
	// that the first must have sequence number 1 and the genesis hash;
	// otherwise the first entry read is taken as the start, and held to a
	// checkpoint where one covers it.
	Whole bool
	// UpTo is the highest sequence number the stream should reach; zero
	// means the highest checkpoint's.
	UpTo int64
	// Lookahead is how many entries are read ahead to tell a reordered or
	// inserted entry from an altered one; 1000 when zero.
	Lookahead int
}

// Verify reads every entry of workspace from entries and returns what it
// found: the first broken sequence number and what is wrong there, or OK.
// It returns an error only when the stream cannot be read.
func (v *Verifier) Verify(ctx context.Context, workspace string, entries Entries) (Result, error) {
	res := Result{WorkspaceID: workspace}
	cps := append([]Checkpoint(nil), v.Checkpoints...)
	sort.Slice(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	bySeq := map[int64]Checkpoint{}
	for _, cp := range cps {
		pub, ok := v.Keys[cp.KeyID]
		if cp.WorkspaceID != workspace || !ok || !cp.VerifySignature(pub) {
			res.Problem = &Problem{Seq: cp.Seq, Kind: ForgedCheckpoint,
				Detail: fmt.Sprintf("the checkpoint at %d does not verify under a published key of this workspace", cp.Seq)}
			return res, nil
		}
		bySeq[cp.Seq] = cp
	}
	look := v.Lookahead
	if look <= 0 {
		look = 1000
	}
	s := &stream{src: entries}
	var expectSeq int64
	var expectPrev string
	if v.Whole {
		expectSeq, expectPrev = 1, GenesisHash
	}
	for {
		e, err := s.next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		if e.Chain == nil {
			res.Problem = &Problem{Seq: expectSeq, Kind: Inserted, EventID: e.ID, Detail: "an entry without a place in the chain is among the chained entries"}
			return res, nil
		}
		seq := e.Chain.Seq
		if res.Entries == 0 {
			res.FirstSeq = seq
			if !v.Whole {
				expectSeq, expectPrev = seq, e.Chain.PrevHash
				if cp, ok := bySeq[seq-1]; ok {
					expectPrev = cp.Hash
				}
			}
		}
		if p := v.check(ctx, s, e, expectSeq, expectPrev, bySeq, look); p != nil {
			res.Problem = p
			return res, nil
		}
		res.Entries++
		res.LastSeq = seq
		if cp, ok := bySeq[seq]; ok {
			res.Checkpoints++
			c := cp
			res.LastCheckpoint = &c
		}
		expectSeq, expectPrev = seq+1, e.Chain.Hash
	}
	// Entries up to UpTo, or up to the last checkpoint, must all be there:
	// a checkpoint beyond the last entry read vouches for entries that
	// are gone.
	limit := v.UpTo
	if limit == 0 && len(cps) > 0 {
		limit = cps[len(cps)-1].Seq
	}
	if (res.Entries > 0 || v.Whole) && expectSeq <= limit {
		res.Problem = &Problem{Seq: expectSeq, Kind: Missing,
			Detail: fmt.Sprintf("entries from %d to %d are vouched for and none of them was found", expectSeq, limit)}
		return res, nil
	}
	res.OK = true
	return res, nil
}

// check returns what is wrong with e, read where the entry expectSeq
// following the hash expectPrev should be, or nil.
func (v *Verifier) check(ctx context.Context, s *stream, e activity.Event, expectSeq int64, expectPrev string, cps map[int64]Checkpoint, look int) *Problem {
	seq := e.Chain.Seq
	if seq < expectSeq {
		return &Problem{Seq: seq, Kind: Inserted, EventID: e.ID,
			Detail: fmt.Sprintf("a second entry claims sequence number %d", seq)}
	}
	if seq > expectSeq {
		return &Problem{Seq: expectSeq, Kind: Missing,
			Detail: fmt.Sprintf("no entry has sequence number %d; the next found is %d", expectSeq, seq)}
	}
	whole := Recompute(&e) == e.Chain.Hash
	linked := e.Chain.PrevHash == expectPrev
	bad := ""
	if whole && v.DigestKey != nil {
		bad = CheckDigests(v.DigestKey, &e)
	}
	if whole && linked && bad == "" {
		if cp, ok := cps[seq]; ok && cp.Hash != e.Chain.Hash {
			return &Problem{Seq: seq, Kind: Altered, EventID: e.ID,
				Detail: fmt.Sprintf("the signed checkpoint at %d records another hash: the chain was rewritten up to here", seq)}
		}
		return nil
	}
	ahead, _ := s.peek(ctx, look)
	// Another entry at the same place that holds is the genuine one.
	for _, o := range ahead {
		if o.Chain != nil && o.Chain.Seq == seq && o.Chain.PrevHash == expectPrev && Recompute(&o) == o.Chain.Hash {
			return &Problem{Seq: seq, Kind: Inserted, EventID: e.ID,
				Detail: fmt.Sprintf("entry %s claims sequence number %d, which belongs to %s", e.ID, seq, o.ID)}
		}
	}
	// A genuine entry moved elsewhere is still linked to its neighbours:
	// a later entry follows its hash, or it follows a later entry's hash.
	if !whole || !linked {
		for _, o := range ahead {
			if o.Chain == nil {
				continue
			}
			if (o.Chain.PrevHash == e.Chain.Hash && o.Chain.Seq != seq+1) || o.Chain.Hash == e.Chain.PrevHash {
				return &Problem{Seq: seq, Kind: Reordered, EventID: e.ID,
					Detail: fmt.Sprintf("entry %s belongs elsewhere in the chain, not at %d", e.ID, seq)}
			}
		}
	}
	switch {
	case !whole:
		return &Problem{Seq: seq, Kind: Altered, EventID: e.ID, Detail: "the entry's content does not give the hash recorded for it"}
	case bad != "":
		return &Problem{Seq: seq, Kind: Altered, EventID: e.ID, Detail: fmt.Sprintf("the entry's %s does not match its recorded digest", bad)}
	default:
		// The entry holds together but does not follow the one before:
		// that one was changed and given a new hash.
		return &Problem{Seq: seq - 1, Kind: Altered,
			Detail: fmt.Sprintf("entry %d no longer has the hash entry %d recorded for it", seq-1, seq)}
	}
}

// stream reads entries with a look ahead.
type stream struct {
	src    Entries
	buf    []activity.Event
	ended  bool
	failed error
}

func (s *stream) next(ctx context.Context) (activity.Event, error) {
	if len(s.buf) > 0 {
		e := s.buf[0]
		s.buf = s.buf[1:]
		return e, nil
	}
	if s.failed != nil {
		return activity.Event{}, s.failed
	}
	if s.ended {
		return activity.Event{}, io.EOF
	}
	return s.src.Next(ctx)
}

// peek returns up to n entries after the last one read, without taking
// them.
func (s *stream) peek(ctx context.Context, n int) ([]activity.Event, error) {
	for len(s.buf) < n && !s.ended && s.failed == nil {
		e, err := s.src.Next(ctx)
		if errors.Is(err, io.EOF) {
			s.ended = true
			break
		}
		if err != nil {
			s.failed = err
			break
		}
		s.buf = append(s.buf, e)
	}
	return s.buf, s.failed
}

// SliceEntries streams entries held in memory, as read from a file.
type SliceEntries []activity.Event

// Next returns the next entry, or io.EOF.
func (s *SliceEntries) Next(context.Context) (activity.Event, error) {
	if len(*s) == 0 {
		return activity.Event{}, io.EOF
	}
	e := (*s)[0]
	*s = (*s)[1:]
	return e, nil
}
