package retention

import (
	"bufio"
	"compress/gzip"
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
)

// DefaultRunSize is how many entries of an archived month are sorted in
// memory at once when WithArchive.RunSize is zero.
const DefaultRunSize = 4096

// WithArchive is the workspace's chained entries in the archive and in the
// index together, as the verifier's source: `fluxera verify` and
// GET /api/v1/audit/verify check months the retention job archived as
// well as what is still searchable. An entry in both (a held one) is read
// once.
//
// Archived months are streamed, never read whole: each month's file is
// decoded as it is read, every entry checked against the month's manifest
// as it goes, and put in chain order in runs of RunSize entries, spilled
// to temporary files when the month holds more, then merged; a month is
// opened only when the chain reaches its first sequence number. The
// memory a verification takes depends on RunSize and on how many months
// overlap in sequence numbers, not on how large a month is.
type WithArchive struct {
	Archive domain.ArchiveStore
	Index   audit.Index
	// RunSize is how many entries are sorted in memory at once;
	// DefaultRunSize when zero.
	RunSize int
	// TempDir holds the sorted runs of large months while they are read;
	// the system's temporary directory when empty. The files are removed
	// from the directory as soon as they are made.
	TempDir string
}

// Span returns the lowest and highest sequence numbers of the entries that
// occurred in [from, to), either open when zero, in the archive or the
// index.
func (w WithArchive) Span(ctx context.Context, workspace string, from, to time.Time) (int64, int64, bool, error) {
	first, last, ok, err := w.Index.Span(ctx, workspace, from, to)
	if err != nil {
		return 0, 0, false, err
	}
	manifests, err := Manifests(ctx, w.Archive, workspace)
	if err != nil {
		return 0, 0, false, err
	}
	for _, m := range manifests {
		if (!from.IsZero() && !m.To.After(from)) || (!to.IsZero() && !m.From.Before(to)) {
			continue
		}
		err := scanMonth(ctx, w.Archive, m, func(e activity.Event) error {
			if e.Chain == nil || (!from.IsZero() && e.OccurredAt.Before(from)) || (!to.IsZero() && !e.OccurredAt.Before(to)) {
				return nil
			}
			if !ok || e.Chain.Seq < first {
				first = e.Chain.Seq
			}
			if !ok || e.Chain.Seq > last {
				last = e.Chain.Seq
			}
			ok = true
			return nil
		})
		if err != nil {
			return 0, 0, false, err
		}
	}
	return first, last, ok, nil
}

// Entries streams the workspace's entries after sequence number after, up
// to upTo when it is not zero, from the archive and the index merged in
// chain order.
func (w WithArchive) Entries(workspace string, after, upTo int64) audit.Entries {
	return &merged{w: w, workspace: workspace, after: after, upTo: upTo}
}

// merged merges the archived months, each opened when the chain reaches
// it, with the index's stream.
type merged struct {
	w           WithArchive
	workspace   string
	after, upTo int64
	started     bool
	// pending are the months not opened yet, by first sequence number.
	pending []Manifest
	open    sources
	last    *activity.Event
}

func (m *merged) Next(ctx context.Context) (activity.Event, error) {
	if !m.started {
		if err := m.start(ctx); err != nil {
			return activity.Event{}, err
		}
	}
	for {
		// A month starts where the chain reaches its first entry.
		for len(m.pending) > 0 && (m.open.Len() == 0 || m.open[0].head.Chain == nil || m.pending[0].FirstSeq <= m.open[0].head.Chain.Seq) {
			mo := m.pending[0]
			m.pending = m.pending[1:]
			src, err := sortMonth(ctx, m.w.Archive, mo, m.after, m.upTo, m.w.RunSize, m.w.TempDir)
			if err != nil {
				return activity.Event{}, err
			}
			if err := m.open.add(ctx, src); err != nil {
				return activity.Event{}, err
			}
		}
		if m.open.Len() == 0 {
			return activity.Event{}, io.EOF
		}
		e, err := m.open.pop(ctx)
		if err != nil {
			return activity.Event{}, err
		}
		if m.last != nil && e.Chain != nil && m.last.Chain != nil && e.Chain.Seq == m.last.Chain.Seq && e.ID == m.last.ID {
			continue // the same entry in two places: the archive and the index, or two archived files
		}
		m.last = &e
		return e, nil
	}
}

// start lists the months that hold entries of the range asked for.
func (m *merged) start(ctx context.Context) error {
	m.started = true
	manifests, err := Manifests(ctx, m.w.Archive, m.workspace)
	if err != nil {
		return err
	}
	for _, mo := range manifests {
		if mo.Entries == 0 || mo.LastSeq <= m.after || (m.upTo != 0 && mo.FirstSeq > m.upTo) {
			continue
		}
		m.pending = append(m.pending, mo)
	}
	sort.SliceStable(m.pending, func(i, j int) bool { return m.pending[i].FirstSeq < m.pending[j].FirstSeq })
	return m.open.add(ctx, m.w.Index.Entries(m.workspace, m.after, m.upTo))
}

// before reports whether a comes before b in chain order: by sequence
// number, then by id. An entry without a chain link comes first, where
// the verifier reports it.
func before(a, b activity.Event) bool {
	switch {
	case a.Chain == nil:
		return b.Chain != nil || a.ID < b.ID
	case b.Chain == nil:
		return false
	case a.Chain.Seq != b.Chain.Seq:
		return a.Chain.Seq < b.Chain.Seq
	}
	return a.ID < b.ID
}

// source is a stream in chain order with the entry it yields next.
type source struct {
	head activity.Event
	rest audit.Entries
}

// sources is a heap of streams by their next entry.
type sources []*source

func (s sources) Len() int           { return len(s) }
func (s sources) Less(i, j int) bool { return before(s[i].head, s[j].head) }
func (s sources) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *sources) Push(x any)        { *s = append(*s, x.(*source)) }
func (s *sources) Pop() any {
	old := *s
	x := old[len(old)-1]
	*s = old[:len(old)-1]
	return x
}

// add reads the first entry of es and takes es in, unless it is empty.
func (s *sources) add(ctx context.Context, es audit.Entries) error {
	e, err := es.Next(ctx)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	heap.Push(s, &source{head: e, rest: es})
	return nil
}

// pop returns the first entry of all the streams and moves its stream on.
func (s *sources) pop(ctx context.Context) (activity.Event, error) {
	top := (*s)[0]
	e := top.head
	next, err := top.rest.Next(ctx)
	switch {
	case errors.Is(err, io.EOF):
		heap.Pop(s)
	case err != nil:
		return activity.Event{}, err
	default:
		top.head = next
		heap.Fix(s, 0)
	}
	return e, nil
}

// mergeFanIn is how many sorted runs of one size are merged into one of
// the next size, so that the runs open at once stay few however large a
// month is: at most mergeFanIn-1 of each size.
const mergeFanIn = 16

// sortMonth reads the archived month m once, checking it against its
// manifest as it goes, and returns its chained entries after after (and
// up to upTo when not zero) in chain order: sorted in memory when they
// fit in one run of runSize, otherwise sorted in runs written to
// temporary files, merged mergeFanIn at a time while the month is read,
// and merged as they are read back. Nothing is returned from a file that
// does not match its manifest.
func sortMonth(ctx context.Context, archive domain.ArchiveStore, m Manifest, after, upTo int64, runSize int, tempDir string) (audit.Entries, error) {
	if runSize <= 0 {
		runSize = DefaultRunSize
	}
	st := &sorter{ctx: ctx, dir: tempDir}
	var run []activity.Event
	err := scanMonth(ctx, archive, m, func(e activity.Event) error {
		if e.Chain == nil || e.Chain.Seq <= after || (upTo != 0 && e.Chain.Seq > upTo) {
			return nil
		}
		run = append(run, e)
		if len(run) < runSize {
			return nil
		}
		err := st.spill(run)
		run = run[:0]
		return err
	})
	if err == nil && len(st.levels) > 0 && len(run) > 0 {
		err = st.spill(run)
		run = nil
	}
	if err != nil {
		st.close()
		return nil, fmt.Errorf("archive file %s: %w", m.ArchiveName, err)
	}
	if len(st.levels) == 0 {
		sort.SliceStable(run, func(i, j int) bool { return before(run[i], run[j]) })
		entries := audit.SliceEntries(run)
		return &entries, nil
	}
	var all sources
	for _, level := range st.levels {
		for _, r := range level {
			if err := all.add(ctx, r); err != nil {
				st.close()
				return nil, err
			}
		}
	}
	return &all, nil
}

// sorter keeps the sorted runs of one month by size: level 0 holds runs
// of one run's entries, level 1 runs of mergeFanIn runs, and so on.
type sorter struct {
	ctx    context.Context
	dir    string
	levels [][]*runFile
}

// spill sorts run and writes it as a run of level 0, then merges every
// level that has filled up into one run of the next.
func (s *sorter) spill(run []activity.Event) error {
	sort.SliceStable(run, func(i, j int) bool { return before(run[i], run[j]) })
	i := 0
	r, err := writeRun(s.dir, func() (activity.Event, error) {
		if i == len(run) {
			return activity.Event{}, io.EOF
		}
		i++
		return run[i-1], nil
	})
	if err != nil {
		return err
	}
	for level := 0; ; level++ {
		if len(s.levels) == level {
			s.levels = append(s.levels, nil)
		}
		s.levels[level] = append(s.levels[level], r)
		if len(s.levels[level]) < mergeFanIn {
			return nil
		}
		var group sources
		for _, f := range s.levels[level] {
			if err := group.add(s.ctx, f); err != nil {
				return err
			}
		}
		s.levels[level] = nil
		if r, err = writeRun(s.dir, func() (activity.Event, error) { return group.Next(s.ctx) }); err != nil {
			return err
		}
	}
}

// close closes every run still open.
func (s *sorter) close() {
	for _, level := range s.levels {
		for _, r := range level {
			r.close()
		}
	}
}

// Next returns the next entry of the merged runs, or io.EOF.
func (s *sources) Next(ctx context.Context) (activity.Event, error) {
	if s.Len() == 0 {
		return activity.Event{}, io.EOF
	}
	return s.pop(ctx)
}

// runFile is a sorted run of entries in a temporary file, already
// removed from its directory, read back one entry at a time.
type runFile struct {
	f   *os.File
	dec *json.Decoder
}

// runBuffer is the buffer of one run file, as written and as read.
const runBuffer = 16 << 10

// writeRun writes the entries next yields until io.EOF to a temporary file
// in dir and returns it ready to be read from its start.
func writeRun(dir string, next func() (activity.Event, error)) (*runFile, error) {
	f, err := os.CreateTemp(dir, "fluxera-verify-*.ndjson")
	if err != nil {
		return nil, fmt.Errorf("sort: %w", err)
	}
	// Removed at once: the open file stays readable, and nothing is left
	// behind however the verification ends.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("sort: %w", err)
	}
	fail := func(err error) (*runFile, error) {
		f.Close()
		return nil, fmt.Errorf("sort: %w", err)
	}
	w := bufio.NewWriterSize(f, runBuffer)
	enc := json.NewEncoder(w)
	for {
		e, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		if err := enc.Encode(&e); err != nil {
			return fail(err)
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return &runFile{f: f, dec: json.NewDecoder(bufio.NewReaderSize(f, runBuffer))}, nil
}

// Next returns the run's next entry, or io.EOF once it is read, when the
// file is closed.
func (r *runFile) Next(context.Context) (activity.Event, error) {
	var e activity.Event
	if err := r.dec.Decode(&e); err != nil {
		r.close()
		if errors.Is(err, io.EOF) {
			return activity.Event{}, io.EOF
		}
		return activity.Event{}, fmt.Errorf("read a sorted run back: %w", err)
	}
	return e, nil
}

func (r *runFile) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// ArchivedEntries returns the workspace's chained entries in the archive's
// retained months, each month checked against its manifest, in chain
// order, each entry once. It holds them all in memory: verification
// streams them through WithArchive instead.
func ArchivedEntries(ctx context.Context, archive domain.ArchiveStore, workspaceID string) ([]activity.Event, error) {
	manifests, err := Manifests(ctx, archive, workspaceID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []activity.Event
	for _, m := range manifests {
		if err := scanMonth(ctx, archive, m, func(e activity.Event) error {
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

// scanMonth reads m's file once as a stream and hands fn each entry as it
// is decoded, having checked that it is of m's workspace and month and,
// when it has a chain link, within m's sequence numbers; at the end it
// checks the file's hash, size and number of entries against m. It
// returns the first error fn returns, or one saying what differs from the
// manifest: a caller keeps nothing fn was handed unless it returns nil.
func scanMonth(ctx context.Context, archive domain.ArchiveStore, m Manifest, fn func(activity.Event) error) error {
	rc, _, err := archive.Open(ctx, m.WorkspaceID, m.ArchiveName)
	if err != nil {
		return fmt.Errorf("read archive file %s: %w", m.ArchiveName, err)
	}
	defer rc.Close()
	h := sha256.New()
	counted := &countingReader{r: io.TeeReader(rc, h)}
	gz, err := gzip.NewReader(counted)
	if err != nil {
		return fmt.Errorf("archive file %s: %w", m.ArchiveName, err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	var n int64
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var e activity.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("archive file %s, entry %d: %w", m.ArchiveName, n+1, err)
		}
		if e.WorkspaceID != m.WorkspaceID || e.OccurredAt.Before(m.From) || !e.OccurredAt.Before(m.To) {
			return fmt.Errorf("archive file %s, entry %d (%s) is not of workspace %s in %s", m.ArchiveName, n+1, e.ID, m.WorkspaceID, m.Month)
		}
		if e.Chain != nil && (e.Chain.Seq < m.FirstSeq || e.Chain.Seq > m.LastSeq) {
			return fmt.Errorf("archive file %s, entry %d (%s) has sequence number %d, outside the manifest's %d to %d", m.ArchiveName, n+1, e.ID, e.Chain.Seq, m.FirstSeq, m.LastSeq)
		}
		n++
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("archive file %s: %w", m.ArchiveName, err)
	}
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return fmt.Errorf("archive file %s: %w", m.ArchiveName, err)
	}
	switch sum := hex.EncodeToString(h.Sum(nil)); {
	case sum != m.SHA256:
		return fmt.Errorf("archive file %s has SHA-256 %s, the manifest says %s", m.ArchiveName, sum, m.SHA256)
	case counted.n != m.Bytes:
		return fmt.Errorf("archive file %s holds %d bytes, the manifest says %d", m.ArchiveName, counted.n, m.Bytes)
	case n != m.Entries:
		return fmt.Errorf("archive file %s holds %d entries, the manifest says %d", m.ArchiveName, n, m.Entries)
	}
	return nil
}
