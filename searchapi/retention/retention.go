// Package retention enforces each workspace's retention: entries past
// the workspace's active retention are written to the archive store, one
// gzipped NDJSON file per workspace and month with a manifest, read back
// and verified, and only then removed from the searchable log; legal
// holds keep entries searchable; monthly indices left empty are dropped.
package retention

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// Manifest describes one archived month of a workspace's log: the file
// that holds it, its hash and size, how many entries it holds and the
// first and last sequence numbers of the workspace's hash chain among
// them (zero when the entries carry no chain link).
type Manifest struct {
	WorkspaceID string    `json:"workspace_id"`
	Month       string    `json:"month"` // 2026-03
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	ArchiveName string    `json:"archive_name"`
	SHA256      string    `json:"sha256"`
	Bytes       int64     `json:"bytes"`
	Entries     int64     `json:"entries"`
	FirstSeq    int64     `json:"first_seq"`
	LastSeq     int64     `json:"last_seq"`
	ArchivedAt  time.Time `json:"archived_at"`
	// DeletedEntries is how many entries of the month owners deleted
	// since it was archived (see Deleter).
	DeletedEntries int64 `json:"deleted_entries,omitempty"`
}

// Result counts what a run did.
type Result struct {
	// Skipped is a run left to another process, which held the lease.
	Skipped        bool     `json:"skipped"`
	Workspaces     int      `json:"workspaces"`
	MonthsArchived int      `json:"months_archived"`
	Archived       int64    `json:"entries_archived"`
	Deleted        int64    `json:"entries_deleted"`
	Held           int64    `json:"entries_held"`
	MonthsExpired  int      `json:"archived_months_deleted"`
	IndicesDropped []string `json:"indices_dropped"`
	// Restores are the owners' restores the run indexed back, Restored
	// their entries; RestoresExpired the restores it removed again once
	// their time had passed, RestoredRemoved their entries.
	Restores        int   `json:"restores"`
	Restored        int64 `json:"entries_restored"`
	RestoresExpired int   `json:"restores_expired"`
	RestoredRemoved int64 `json:"restored_entries_removed"`
}

// Job moves entries past active retention from the searchable log into
// the archive store.
type Job struct {
	Store   domain.RetentionStore
	Scanner searchapi.Scanner
	Index   searchapi.Purger
	Archive domain.ArchiveStore
	// Restores are the owners' restores of archived periods, which each
	// run indexes back through Reindex and removes again once expired;
	// none when nil.
	Restores domain.RestoreStore
	Reindex  RestoreIndexer
	// Locks serialise the rewrites of a workspace's archive with owners'
	// deletions and anonymizations in other processes; none when nil.
	Locks Locker
	// Lease is how long a run holds the job's lease, so that one process
	// runs it at a time; an hour when zero. A run stops starting new
	// months once its lease has run out.
	Lease time.Duration
	// Now is the clock; time.Now when nil.
	Now     func() time.Time
	Log     logrus.FieldLogger
	Metrics *Metrics
}

// Metrics are the retention job's Prometheus metrics.
type Metrics struct {
	Runs     *prometheus.CounterVec
	Entries  *prometheus.CounterVec
	Months   prometheus.Counter
	Expired  prometheus.Counter
	Dropped  prometheus.Counter
	LastSeen prometheus.Gauge
	Restores *prometheus.CounterVec
}

// NewMetrics registers the retention job's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fluxera_retention_runs_total",
			Help: "Runs of the retention job, by result (done, failed, skipped: another process held the lease).",
		}, []string{"result"}),
		Entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fluxera_retention_entries_total",
			Help: "Entries the retention job handled, by what it did (archived, deleted, held; restored from the archive, and restore_removed once their restore expired).",
		}, []string{"outcome"}),
		Months: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fluxera_retention_months_archived_total",
			Help: "Workspace months written to the archive, verified and removed from the searchable log.",
		}),
		Expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fluxera_retention_archived_months_deleted_total",
			Help: "Archived workspace months deleted from the archive, past the workspace's log retention.",
		}),
		Dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fluxera_retention_indices_dropped_total",
			Help: "Monthly activity indices dropped once empty.",
		}),
		LastSeen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fluxera_retention_last_run_timestamp_seconds",
			Help: "When the retention job last finished a run, as Unix time.",
		}),
	}
	m.Restores = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fluxera_retention_restores_total",
		Help: "Owners' restores of archived periods the retention job handled, by what it did (restored, expired).",
	}, []string{"outcome"})
	reg.MustRegister(m.Runs, m.Entries, m.Months, m.Expired, m.Dropped, m.LastSeen, m.Restores)
	return m
}

// observeRestores counts what a handling of the restores alone did.
func (m *Metrics) observeRestores(res Result) {
	if m == nil {
		return
	}
	m.Entries.WithLabelValues("restored").Add(float64(res.Restored))
	m.Entries.WithLabelValues("restore_removed").Add(float64(res.RestoredRemoved))
	m.Restores.WithLabelValues("restored").Add(float64(res.Restores))
	m.Restores.WithLabelValues("expired").Add(float64(res.RestoresExpired))
}

func (m *Metrics) observe(res Result, err error, at time.Time) {
	if m == nil {
		return
	}
	switch {
	case res.Skipped:
		m.Runs.WithLabelValues("skipped").Inc()
		return
	case err != nil:
		m.Runs.WithLabelValues("failed").Inc()
	default:
		m.Runs.WithLabelValues("done").Inc()
	}
	m.Entries.WithLabelValues("archived").Add(float64(res.Archived))
	m.Entries.WithLabelValues("deleted").Add(float64(res.Deleted))
	m.Entries.WithLabelValues("held").Add(float64(res.Held))
	m.Entries.WithLabelValues("restored").Add(float64(res.Restored))
	m.Entries.WithLabelValues("restore_removed").Add(float64(res.RestoredRemoved))
	m.Restores.WithLabelValues("restored").Add(float64(res.Restores))
	m.Restores.WithLabelValues("expired").Add(float64(res.RestoresExpired))
	m.Months.Add(float64(res.MonthsArchived))
	m.Expired.Add(float64(res.MonthsExpired))
	m.Dropped.Add(float64(len(res.IndicesDropped)))
	m.LastSeen.Set(float64(at.Unix()))
}

// Run enforces every workspace's active retention once, unless another
// process holds the job's lease (then Result.Skipped is set). A workspace
// that fails is logged and left for the next run; the others go on.
// Nothing is deleted from the index before its month's archive file has
// been written, read back and found to hold the same bytes and entries.
// Each workspace where the run archived or deleted anything gets
// system.retention_applied with the counts.
func (j *Job) Run(ctx context.Context) (res Result, err error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	at := now().UTC()
	defer func() { j.Metrics.observe(res, err, at) }()
	lease := j.Lease
	if lease == 0 {
		lease = time.Hour
	}
	leaseID, err := j.Store.ClaimRetention(ctx, at, lease)
	if err != nil {
		return res, err
	}
	if leaseID == "" {
		return Result{Skipped: true}, nil
	}
	defer func() {
		if rerr := j.Store.ReleaseRetention(context.WithoutCancel(ctx), leaseID); rerr != nil {
			j.Log.WithError(rerr).Warn("Releasing the retention lease failed; it lapses on its own.")
		}
	}()
	runCtx, cancel := context.WithTimeout(ctx, lease)
	defer cancel()
	ctx = runCtx
	workspaces, err := j.Store.RetentionWorkspaces(ctx)
	if err != nil {
		return res, fmt.Errorf("retention workspaces: %w", err)
	}
	// Restores first: an expired restore leaves before the months are
	// looked at, and an owner's pending restore waits no longer than a run.
	failed := j.restores(ctx, at, &res)
	if failed != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		j.Log.WithError(failed).Error("Restores of archived periods failed; they are tried again at the next run.")
	}
	oldest := time.Time{}
	for _, ws := range workspaces {
		res.Workspaces++
		run := domain.RetentionRun{WorkspaceID: ws.ID}
		var err error
		if ws.ActiveDays > 0 {
			cutoff := at.AddDate(0, 0, -ws.ActiveDays)
			if oldest.IsZero() || cutoff.Before(oldest) {
				oldest = cutoff
			}
			err = j.workspace(ctx, ws, cutoff, at, &run)
		}
		if err == nil && ws.KeepDays > 0 {
			err = j.expire(ctx, ws, at.AddDate(0, 0, -ws.KeepDays), &run)
		}
		res.MonthsArchived += run.MonthsArchived
		res.Archived += run.Archived
		res.Deleted += run.Deleted
		res.Held += run.Held
		res.MonthsExpired += run.MonthsExpired
		if run.MonthsArchived > 0 || run.MonthsExpired > 0 {
			if rerr := j.Store.RecordRetention(context.WithoutCancel(ctx), run, at); rerr != nil {
				err = errors.Join(err, fmt.Errorf("record retention: %w", rerr))
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			j.Log.WithField("workspace_id", ws.ID).WithError(err).Error("Retention failed for the workspace; it is tried again at the next run.")
			failed = errors.Join(failed, err)
		}
	}
	if !oldest.IsZero() {
		dropped, err := j.Index.DropEmptyIndices(ctx, oldest)
		res.IndicesDropped = dropped
		failed = errors.Join(failed, err)
	}
	return res, failed
}

// workspace archives and removes every whole UTC month of the workspace
// that ended by cutoff.
func (j *Job) workspace(ctx context.Context, ws domain.RetentionWorkspace, cutoff, at time.Time, res *domain.RetentionRun) error {
	unlock, err := lockArchive(ctx, j.Locks, ws.ID)
	if err != nil {
		return err
	}
	defer unlock()
	holds := searchHolds(ws.Holds)
	months, err := j.Index.Months(ctx, ws.ID, cutoff)
	if err != nil {
		return err
	}
	for _, from := range months {
		to := from.AddDate(0, 1, 0)
		if to.After(cutoff) {
			continue // the month is not wholly past retention yet
		}
		unheld, err := j.Index.CountPeriod(ctx, ws.ID, from, to, holds)
		if err != nil {
			return err
		}
		if unheld == 0 {
			continue // only held entries are left: archived at an earlier run
		}
		m, err := j.archive(ctx, ws.ID, from, to, at)
		if err != nil {
			return fmt.Errorf("archive %s: %w", from.Format("2006-01"), err)
		}
		deleted, held, err := j.Index.DeletePeriod(ctx, ws.ID, from, to, holds)
		if err != nil {
			return fmt.Errorf("remove archived %s: %w", from.Format("2006-01"), err)
		}
		res.MonthsArchived++
		res.Archived += m.Entries
		res.Deleted += deleted
		res.Held += held
		j.Log.WithField("workspace_id", ws.ID).WithField("month", m.Month).WithField("entries", m.Entries).
			WithField("deleted", deleted).WithField("held", held).WithField("archive_name", m.ArchiveName).
			Info("Month archived and removed from the searchable log.")
	}
	return nil
}

// Scan is the scan the job reads a period of a workspace with: the
// platform reading the whole workspace, as an owner would, entries from
// from (inclusive) to to (exclusive).
func Scan(workspaceID string, from, to time.Time) (activity.Principal, searchapi.EventFilter) {
	p := activity.Principal{WorkspaceID: workspaceID, Role: activity.RoleOwner, Type: activity.ActorSystem, Name: "Fluxera", TimeZone: "UTC"}
	return p, searchapi.EventFilter{From: from.UTC().Format(time.RFC3339Nano), To: to.UTC().Add(-time.Millisecond).Format(time.RFC3339Nano)}
}

// expire deletes the workspace's archived months that ended by cutoff and
// that no hold in force touches: the manifest first, so that a month is
// never listed without its file, then the file.
func (j *Job) expire(ctx context.Context, ws domain.RetentionWorkspace, cutoff time.Time, run *domain.RetentionRun) error {
	unlock, err := lockArchive(ctx, j.Locks, ws.ID)
	if err != nil {
		return err
	}
	defer unlock()
	objs, err := j.Archive.List(ctx, ws.ID, domain.ArchiveManifest)
	if err != nil {
		return fmt.Errorf("list manifests: %w", err)
	}
	for _, o := range objs {
		m, err := readManifest(ctx, j.Archive, ws.ID, o.Name)
		if err != nil {
			return err
		}
		if m.To.After(cutoff) || held(ws.Holds, m.From, m.To) {
			continue
		}
		if err := j.Archive.Delete(ctx, ws.ID, o.Name); err != nil {
			return fmt.Errorf("delete manifest of %s: %w", m.Month, err)
		}
		if err := j.Archive.Delete(ctx, ws.ID, m.ArchiveName); err != nil && activity.ErrorCode(err) != activity.ENOTFOUND {
			return fmt.Errorf("delete archived %s: %w", m.Month, err)
		}
		run.MonthsExpired++
		j.Log.WithField("workspace_id", ws.ID).WithField("month", m.Month).WithField("archive_name", m.ArchiveName).
			Info("Archived month deleted, past the workspace's log retention.")
	}
	return nil
}

// held reports whether a hold in force touches the period from to to:
// one on a period that overlaps it, or one on a user's entries, which
// may be anywhere.
func held(holds []domain.LegalHold, from, to time.Time) bool {
	for _, h := range holds {
		if (h.From == nil || h.From.Before(to)) && (h.To == nil || h.To.After(from)) {
			return true
		}
	}
	return false
}

// ArchivePeriod writes the workspace's entries from from (inclusive) to to
// (exclusive) to the archive store, reads the file back to verify it,
// and stores its manifest, without removing anything from the index: the
// first step of the job for each month, which the benchmark measures.
func (j *Job) ArchivePeriod(ctx context.Context, workspaceID string, from, to time.Time) (Manifest, error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	return j.archive(ctx, workspaceID, from, to, now().UTC())
}

// archive writes the month's entries to the archive store, reads the file
// back to verify it, then stores its manifest.
func (j *Job) archive(ctx context.Context, workspaceID string, from, to, at time.Time) (Manifest, error) {
	m := Manifest{WorkspaceID: workspaceID, Month: from.Format("2006-01"), From: from, To: to, ArchivedAt: at}
	p, filter := Scan(workspaceID, from, to)
	pr, pw := io.Pipe()
	scanned := make(chan error, 1)
	go func() {
		gz := gzip.NewWriter(pw)
		enc := json.NewEncoder(gz)
		_, err := j.Scanner.ScanEvents(ctx, p, filter, func(e searchapi.Entry) error {
			if t := e.OccurredAt; t.Before(from) || !t.Before(to) || e.Restored != nil {
				return nil // restored entries are in the archive already
			}
			if e.Chain != nil {
				if m.FirstSeq == 0 || e.Chain.Seq < m.FirstSeq {
					m.FirstSeq = e.Chain.Seq
				}
				if e.Chain.Seq > m.LastSeq {
					m.LastSeq = e.Chain.Seq
				}
			}
			m.Entries++
			return enc.Encode(e.Event)
		})
		if err == nil {
			err = gz.Close()
		}
		scanned <- err
		pw.CloseWithError(err)
	}()
	obj, err := j.Archive.Put(ctx, workspaceID, domain.ArchiveRetained, "ndjson.gz", pr)
	pr.CloseWithError(err)
	if serr := <-scanned; err == nil {
		err = serr
	}
	if err != nil {
		return m, fmt.Errorf("store archive file: %w", err)
	}
	m.ArchiveName, m.SHA256, m.Bytes = obj.Name, obj.SHA256, obj.Size
	if err := Verify(ctx, j.Archive, m); err != nil {
		return m, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return m, err
	}
	if _, err := j.Archive.Put(ctx, workspaceID, domain.ArchiveManifest, "json", bytes.NewReader(raw)); err != nil {
		return m, fmt.Errorf("store manifest: %w", err)
	}
	return m, nil
}

// Verify reads the archive file of m back and checks that it has m's
// hash and size and holds m's number of entries of m's workspace and
// month, within its sequence numbers. It returns an error saying what
// differs. The file is read as a stream, never whole.
func Verify(ctx context.Context, archive domain.ArchiveStore, m Manifest) error {
	return scanMonth(ctx, archive, m, func(activity.Event) error { return nil })
}

// Manifests returns the manifests of the workspace's archived months,
// newest archived first.
func Manifests(ctx context.Context, archive domain.ArchiveStore, workspaceID string) ([]Manifest, error) {
	objs, err := archive.List(ctx, workspaceID, domain.ArchiveManifest)
	if err != nil {
		return nil, err
	}
	out := make([]Manifest, 0, len(objs))
	for _, o := range objs {
		m, err := readManifest(ctx, archive, workspaceID, o.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// readManifest reads the workspace's manifest named name.
func readManifest(ctx context.Context, archive domain.ArchiveStore, workspaceID, name string) (Manifest, error) {
	rc, _, err := archive.Open(ctx, workspaceID, name)
	if err != nil {
		return Manifest{}, err
	}
	defer rc.Close()
	var m Manifest
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("manifest %s: %w", name, err)
	}
	return m, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
