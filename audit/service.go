package audit

import (
	"context"
	"crypto/ed25519"
	"time"
)

// Store is where the chains' keys and checkpoints are kept.
type Store interface {
	// Keys returns every checkpoint signing key, current and retired.
	Keys(ctx context.Context) ([]PublicKey, error)
	// Checkpoints returns up to limit of the workspace's checkpoints with
	// a sequence number above after, in sequence order.
	Checkpoints(ctx context.Context, workspace string, after int64, limit int) ([]Checkpoint, error)
	// DigestKey returns the workspace's digest key, nil before its chain
	// started.
	DigestKey(ctx context.Context, workspace string) ([]byte, error)
}

// Index is a source of chained entries, such as the search index.
type Index interface {
	// Span returns the lowest and highest sequence numbers of the
	// workspace's entries that occurred in [from, to), either open when
	// zero, and whether there is any.
	Span(ctx context.Context, workspace string, from, to time.Time) (first, last int64, ok bool, err error)
	// Entries streams the workspace's entries after sequence number
	// after, up to upTo when it is not zero, in chain order.
	Entries(workspace string, after, upTo int64) Entries
}

// Service verifies workspaces' logs against their chains.
type Service struct {
	Store Store
	Index Index
}

// Verify checks the workspace's entries that occurred in [from, to),
// either open when zero, and every entry published between them, against
// the chain and its checkpoints. Without from, the chain is checked from
// its first entry. It returns an error only when the store or the index
// cannot be read.
func (s *Service) Verify(ctx context.Context, workspace string, from, to time.Time) (Result, error) {
	keys, err := s.Store.Keys(ctx)
	if err != nil {
		return Result{}, err
	}
	v := Verifier{Keys: map[string]ed25519.PublicKey{}, Whole: from.IsZero()}
	for _, k := range keys {
		v.Keys[k.ID] = k.Key
	}
	for after := int64(0); ; {
		page, err := s.Store.Checkpoints(ctx, workspace, after, 1000)
		if err != nil {
			return Result{}, err
		}
		v.Checkpoints = append(v.Checkpoints, page...)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if v.DigestKey, err = s.Store.DigestKey(ctx, workspace); err != nil {
		return Result{}, err
	}
	var after, upTo int64
	if !from.IsZero() || !to.IsZero() {
		first, last, ok, err := s.Index.Span(ctx, workspace, from, to)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return Result{WorkspaceID: workspace, OK: true}, nil
		}
		if !from.IsZero() {
			after = first - 1
		}
		if !to.IsZero() {
			upTo, v.UpTo = last, last
		}
	}
	return v.Verify(ctx, workspace, s.Index.Entries(workspace, after, upTo))
}
