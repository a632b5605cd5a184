package retention

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
)

// WithArchive is the workspace's chained entries in the archive and in the
// index together, as the verifier's source: `fluxera verify` and
// GET /api/v1/audit/verify check months the retention job archived as
// well as what is still searchable. An entry in both (a held one) is read
// once. The archived entries are verified against their manifests and
// then read into memory at the first Next.
type WithArchive struct {
	Archive domain.ArchiveStore
	Index   audit.Index
}

// Span returns the lowest and highest sequence numbers of the entries that
// occurred in [from, to), either open when zero, in the archive or the
// index.
func (w WithArchive) Span(ctx context.Context, workspace string, from, to time.Time) (int64, int64, bool, error) {
	first, last, ok, err := w.Index.Span(ctx, workspace, from, to)
	if err != nil {
		return 0, 0, false, err
	}
	archived, err := ArchivedEntries(ctx, w.Archive, workspace)
	if err != nil {
		return 0, 0, false, err
	}
	for _, e := range archived {
		if (!from.IsZero() && e.OccurredAt.Before(from)) || (!to.IsZero() && !e.OccurredAt.Before(to)) {
			continue
		}
		if !ok || e.Chain.Seq < first {
			first = e.Chain.Seq
		}
		if !ok || e.Chain.Seq > last {
			last = e.Chain.Seq
		}
		ok = true
	}
	return first, last, ok, nil
}

// Entries streams the workspace's entries after sequence number after, up
// to upTo when it is not zero, from the archive and the index merged in
// chain order.
func (w WithArchive) Entries(workspace string, after, upTo int64) audit.Entries {
	return &merged{archive: w.Archive, workspace: workspace, after: after, upTo: upTo, index: w.Index.Entries(workspace, after, upTo)}
}

// merged merges the archived entries with the index's stream.
type merged struct {
	archive         domain.ArchiveStore
	workspace       string
	after, upTo     int64
	loaded          bool
	archived        []activity.Event
	index           audit.Entries
	head            *activity.Event
	indexDone       bool
	lastSeq         int64
	lastID          string
	emittedAnything bool
}

func (m *merged) Next(ctx context.Context) (activity.Event, error) {
	if !m.loaded {
		all, err := ArchivedEntries(ctx, m.archive, m.workspace)
		if err != nil {
			return activity.Event{}, err
		}
		for _, e := range all {
			if e.Chain.Seq > m.after && (m.upTo == 0 || e.Chain.Seq <= m.upTo) {
				m.archived = append(m.archived, e)
			}
		}
		m.loaded = true
	}
	for {
		if m.head == nil && !m.indexDone {
			e, err := m.index.Next(ctx)
			switch {
			case errors.Is(err, io.EOF):
				m.indexDone = true
			case err != nil:
				return activity.Event{}, err
			default:
				m.head = &e
			}
		}
		var e activity.Event
		switch {
		case m.head == nil && len(m.archived) == 0:
			return activity.Event{}, io.EOF
		case m.head == nil || (len(m.archived) > 0 && before(m.archived[0], *m.head)):
			e, m.archived = m.archived[0], m.archived[1:]
		default:
			e, m.head = *m.head, nil
		}
		if m.emittedAnything && e.Chain != nil && e.Chain.Seq == m.lastSeq && e.ID == m.lastID {
			continue // the same entry in the archive and the index
		}
		m.emittedAnything = true
		if e.Chain != nil {
			m.lastSeq, m.lastID = e.Chain.Seq, e.ID
		}
		return e, nil
	}
}

// before reports whether a comes before b in chain order: by sequence
// number, then by id. An entry without a chain link comes first, where
// the verifier reports it.
func before(a, b activity.Event) bool {
	switch {
	case a.Chain == nil:
		return true
	case b.Chain == nil:
		return false
	case a.Chain.Seq != b.Chain.Seq:
		return a.Chain.Seq < b.Chain.Seq
	}
	return a.ID < b.ID
}

// ArchivedEntries returns the workspace's chained entries in the archive's
// retained months, each month first verified against its manifest, in
// chain order, each entry once.
func ArchivedEntries(ctx context.Context, archive domain.ArchiveStore, workspaceID string) ([]activity.Event, error) {
	manifests, err := Manifests(ctx, archive, workspaceID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []activity.Event
	for _, m := range manifests {
		if err := Verify(ctx, archive, m); err != nil {
			return nil, err
		}
		if err := readArchived(ctx, archive, m, func(e activity.Event) error {
			if e.Chain != nil && !seen[e.ID] {
				seen[e.ID] = true
				out = append(out, e)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return before(out[i], out[j]) })
	return out, nil
}

// readArchived hands fn each entry of m's file, and stops at the first
// error fn returns.
func readArchived(ctx context.Context, archive domain.ArchiveStore, m Manifest, fn func(activity.Event) error) error {
	rc, _, err := archive.Open(ctx, m.WorkspaceID, m.ArchiveName)
	if err != nil {
		return err
	}
	defer rc.Close()
	gz, err := gzip.NewReader(rc)
	if err != nil {
		return fmt.Errorf("archive file %s: %w", m.ArchiveName, err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		var e activity.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("archive file %s: %w", m.ArchiveName, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return sc.Err()
}
