package searchapi

import (
	"context"
	"io"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
)

// ChainQuery selects one workspace's chained entries in chain order: by
// sequence number, then by id for two entries that claim the same one.
type ChainQuery struct {
	WorkspaceID string
	// AfterSeq and AfterID are where the previous page ended: entries
	// after (AfterSeq, AfterID) in chain order.
	AfterSeq int64
	AfterID  string
	// UpToSeq, when not zero, is the last sequence number wanted.
	UpToSeq int64
	Limit   int
}

// ChainReader reads the chained entries the index holds.
type ChainReader interface {
	// ChainEntries returns up to q.Limit entries of q's workspace after
	// q's place, in chain order. It returns EUNAVAILABLE when the index
	// cannot answer for now.
	ChainEntries(ctx context.Context, q ChainQuery) ([]Entry, error)
	// ChainSpan returns the lowest and highest sequence numbers of the
	// workspace's entries that occurred in [from, to), either open when
	// zero, and whether there is any.
	ChainSpan(ctx context.Context, workspace string, from, to time.Time) (first, last int64, ok bool, err error)
}

// ChainStream reads a workspace's chained entries from the index one page
// at a time, as the verifier's stream of entries.
type ChainStream struct {
	Reader ChainReader
	Query  ChainQuery
	page   []Entry
	done   bool
}

// chainPage is how many entries a ChainStream reads at a time.
const chainPage = 1000

// Next returns the next entry in chain order, or io.EOF after the last.
func (s *ChainStream) Next(ctx context.Context) (activity.Event, error) {
	if len(s.page) == 0 && !s.done {
		q := s.Query
		if q.Limit == 0 {
			q.Limit = chainPage
		}
		page, err := s.Reader.ChainEntries(ctx, q)
		if err != nil {
			return activity.Event{}, err
		}
		if len(page) < q.Limit {
			s.done = true
		}
		if len(page) > 0 {
			last := page[len(page)-1]
			s.Query.AfterSeq, s.Query.AfterID = last.Chain.Seq, last.ID
		}
		s.page = page
	}
	if len(s.page) == 0 {
		return activity.Event{}, io.EOF
	}
	e := s.page[0]
	s.page = s.page[1:]
	return e.Event, nil
}

// ChainIndex is the index as the verifier's source of entries.
type ChainIndex struct {
	Reader ChainReader
}

// Span returns the span of sequence numbers of the entries that occurred
// in [from, to).
func (ix ChainIndex) Span(ctx context.Context, workspace string, from, to time.Time) (int64, int64, bool, error) {
	return ix.Reader.ChainSpan(ctx, workspace, from, to)
}

// Entries streams the workspace's entries after sequence number after, up
// to upTo when it is not zero.
func (ix ChainIndex) Entries(workspace string, after, upTo int64) audit.Entries {
	return &ChainStream{Reader: ix.Reader, Query: ChainQuery{WorkspaceID: workspace, AfterSeq: after, UpToSeq: upTo}}
}
