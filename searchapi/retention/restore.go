package retention

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// RestoreIndexer indexes entries restored from the archive back into the
// searchable log, each marked with its restore. It is the indexer's
// write path (ingest/opensearch.Restorer).
type RestoreIndexer interface {
	// IndexRestored stores events marked with mark, leaves alone those
	// the index holds already, and returns how many it stored. Once it
	// returns, searches see them.
	IndexRestored(ctx context.Context, events []activity.Event, mark activity.Restored) (int64, error)
}

// restoreBatch is how many entries the job indexes back with one request.
const restoreBatch = 500

// Restorer takes owners' requests to make a period of the archive
// searchable again for a while; the retention job does the work.
type Restorer struct {
	Restores domain.RestoreStore
	Archive  domain.ArchiveStore
	// MaxDays bounds how long a restore may stay searchable;
	// domain.DefaultMaxRestoreDays when zero.
	MaxDays int
}

// RestoreRequest is a period to restore: entries from From (inclusive) to
// To (exclusive), searchable for Days (domain.DefaultRestoreDays when
// zero, or MaxDays if that is lower).
type RestoreRequest struct {
	From time.Time
	To   time.Time
	Days int
}

// MaxRestoreDays is how many days a restore may stay searchable at most.
func (r *Restorer) MaxRestoreDays() int {
	if r.MaxDays <= 0 {
		return domain.DefaultMaxRestoreDays
	}
	return r.MaxDays
}

// Create asks for the period to be restored: it finds the archived months
// the period touches and stores a pending restore, which the retention
// job's next run indexes back. It returns EFORBIDDEN for anyone but an
// owner, EINVALID naming the field for a bad period or number of days,
// EINVALID naming from for a period with no archived month, and
// ECONFLICT for a period that overlaps a restore pending or in force.
func (r *Restorer) Create(ctx context.Context, p activity.Principal, req RestoreRequest) (domain.ArchiveRestore, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return domain.ArchiveRestore{}, err
	}
	maxDays := r.MaxRestoreDays()
	if req.Days == 0 {
		req.Days = min(domain.DefaultRestoreDays, maxDays)
	}
	in := domain.NewRestore{From: req.From.UTC(), To: req.To.UTC(), Days: req.Days}
	if err := in.Validate(maxDays); err != nil {
		return domain.ArchiveRestore{}, err
	}
	manifests, err := Manifests(ctx, r.Archive, p.WorkspaceID)
	if err != nil {
		return domain.ArchiveRestore{}, fmt.Errorf("list archived months: %w", err)
	}
	for _, m := range manifests {
		if m.From.Before(in.To) && m.To.After(in.From) && !slices.Contains(in.Months, m.Month) {
			in.Months = append(in.Months, m.Month)
		}
	}
	if len(in.Months) == 0 {
		return domain.ArchiveRestore{}, activity.Errorf(activity.EINVALID, "from",
			"the archive holds no month from %s to %s: GET /api/v1/archive?kind=manifest lists the archived months",
			in.From.Format(time.RFC3339), in.To.Format(time.RFC3339))
	}
	slices.Sort(in.Months)
	// One copy of an entry at a time: a period already restored, or
	// about to be, is not restored twice.
	current, err := r.Restores.ListRestores(ctx, p)
	if err != nil {
		return domain.ArchiveRestore{}, err
	}
	for _, c := range current {
		if (c.Status == domain.RestorePending || c.Status == domain.RestoreRestored) && c.From.Before(in.To) && c.To.After(in.From) {
			return domain.ArchiveRestore{}, activity.Errorf(activity.ECONFLICT, "from",
				"the period overlaps restore %s (%s to %s), %s until %s: end it first, or restore a period beside it",
				c.ID, c.From.Format(time.RFC3339), c.To.Format(time.RFC3339), c.Status, c.ExpiresAt.Format(time.RFC3339))
		}
	}
	return r.Restores.CreateRestore(ctx, p, in)
}

// List returns the workspace's restores, newest first. It returns
// EFORBIDDEN for anyone but an owner.
func (r *Restorer) List(ctx context.Context, p activity.Principal) ([]domain.ArchiveRestore, error) {
	return r.Restores.ListRestores(ctx, p)
}

// End ends a restore now (see domain.RestoreStore.EndRestore).
func (r *Restorer) End(ctx context.Context, p activity.Principal, id string) (domain.ArchiveRestore, error) {
	return r.Restores.EndRestore(ctx, p, id)
}

// RunRestores handles the restores alone, between runs, under the job's
// lease: the restores past their time or ended by an owner leave the
// searchable log, and the pending ones are indexed. It does nothing when
// another process holds the lease (a run under way handles them itself).
func (j *Job) RunRestores(ctx context.Context) (Result, error) {
	if j.Restores == nil {
		return Result{}, nil
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	at := now().UTC()
	lease := j.Lease
	if lease == 0 {
		lease = time.Hour
	}
	leaseID, err := j.Store.ClaimRetention(ctx, at, lease)
	if err != nil || leaseID == "" {
		return Result{Skipped: leaseID == ""}, err
	}
	defer func() {
		if rerr := j.Store.ReleaseRetention(context.WithoutCancel(ctx), leaseID); rerr != nil {
			j.Log.WithError(rerr).Warn("Releasing the retention lease failed; it lapses on its own.")
		}
	}()
	runCtx, cancel := context.WithTimeout(ctx, lease)
	defer cancel()
	var res Result
	err = j.restores(runCtx, at, &res)
	j.Metrics.observeRestores(res)
	return res, err
}

// restores expires the restores whose time has passed, removing their
// entries from the searchable log, then indexes back the pending ones. A
// restore that fails is recorded as failed, with nothing of it left
// searchable, and the others go on.
func (j *Job) restores(ctx context.Context, at time.Time, res *Result) error {
	if j.Restores == nil {
		return nil
	}
	var failed error
	due, err := j.Restores.DueRestores(ctx, at)
	if err != nil {
		return err
	}
	for _, r := range due {
		removed, err := j.Index.DeleteRestored(ctx, r.WorkspaceID, r.ID)
		if err == nil {
			r.Removed = removed
			err = j.Restores.ExpireRestore(context.WithoutCancel(ctx), r, at)
		}
		if err != nil {
			failed = errors.Join(failed, fmt.Errorf("expire restore %s: %w", r.ID, err))
			continue
		}
		res.RestoresExpired++
		res.RestoredRemoved += removed
		j.Log.WithField("workspace_id", r.WorkspaceID).WithField("restore_id", r.ID).WithField("entries_removed", removed).
			Info("Restore expired; its entries left the searchable log and stay in the archive.")
	}
	pending, err := j.Restores.PendingRestores(ctx)
	if err != nil {
		return errors.Join(failed, err)
	}
	for _, r := range pending {
		if !r.ExpiresAt.After(at) {
			continue // expired before its turn: the next run marks it so
		}
		n, err := j.restore(ctx, r)
		if ctx.Err() != nil {
			return errors.Join(failed, ctx.Err())
		}
		r.Status, r.Entries = domain.RestoreRestored, n
		if err != nil {
			// Nothing of a failed restore stays searchable.
			if _, derr := j.Index.DeleteRestored(ctx, r.WorkspaceID, r.ID); derr != nil {
				failed = errors.Join(failed, fmt.Errorf("remove failed restore %s: %w", r.ID, derr))
				continue // tried again at the next run
			}
			r.Status, r.Entries, r.Error = domain.RestoreFailed, 0, err.Error()
			j.Log.WithField("workspace_id", r.WorkspaceID).WithField("restore_id", r.ID).WithError(err).Error("Restore failed; nothing of it is searchable.")
		}
		done, ferr := j.Restores.FinishRestore(context.WithoutCancel(ctx), r, at)
		if ferr != nil {
			failed = errors.Join(failed, fmt.Errorf("finish restore %s: %w", r.ID, ferr))
			continue
		}
		if !done {
			// Ended by an owner while it was being indexed.
			if _, err := j.Index.DeleteRestored(ctx, r.WorkspaceID, r.ID); err != nil {
				failed = errors.Join(failed, fmt.Errorf("remove ended restore %s: %w", r.ID, err))
			}
			continue
		}
		if r.Status == domain.RestoreRestored {
			res.Restores++
			res.Restored += n
			j.Log.WithField("workspace_id", r.WorkspaceID).WithField("restore_id", r.ID).WithField("entries", n).
				WithField("expires_at", r.ExpiresAt).Info("Archived period restored into the searchable log.")
		}
	}
	return failed
}

// restore verifies every archived month of r against its manifest, then
// indexes the entries of r's period back, marked as restored, and returns
// how many it indexed.
func (j *Job) restore(ctx context.Context, r domain.ArchiveRestore) (int64, error) {
	unlock, err := lockArchive(ctx, j.Locks, r.WorkspaceID)
	if err != nil {
		return 0, err
	}
	defer unlock()
	manifests, err := Manifests(ctx, j.Archive, r.WorkspaceID)
	if err != nil {
		return 0, fmt.Errorf("list archived months: %w", err)
	}
	var months []Manifest
	for _, month := range r.Months {
		i := slices.IndexFunc(manifests, func(m Manifest) bool { return m.Month == month })
		if i < 0 {
			return 0, fmt.Errorf("the archived month %s is no longer in the archive", month)
		}
		if err := Verify(ctx, j.Archive, manifests[i]); err != nil {
			return 0, fmt.Errorf("the archived month %s does not match its manifest: %w", month, err)
		}
		months = append(months, manifests[i])
	}
	mark := activity.Restored{ID: r.ID, ExpiresAt: r.ExpiresAt}
	var total int64
	var batch []activity.Event
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ids := make([]string, len(batch))
		for i, e := range batch {
			ids[i] = e.ID
		}
		present, err := j.Index.Present(ctx, r.WorkspaceID, ids)
		if err != nil {
			return err
		}
		missing := slices.DeleteFunc(batch, func(e activity.Event) bool { return present[e.ID] })
		n, err := j.Reindex.IndexRestored(ctx, missing, mark)
		total += n
		batch = batch[:0]
		return err
	}
	for _, m := range months {
		err := readArchived(ctx, j.Archive, m, func(e activity.Event) error {
			if e.WorkspaceID != r.WorkspaceID || e.OccurredAt.Before(r.From) || !e.OccurredAt.Before(r.To) {
				return nil
			}
			if batch = append(batch, e); len(batch) >= restoreBatch {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return total, fmt.Errorf("restore %s: %w", m.Month, err)
		}
	}
	return total, nil
}

// ParsePeriodBound reads one bound of a period: a time in RFC 3339, or a
// date (YYYY-MM-DD) in UTC, which as the end of a period (end) is the
// start of the next day, so that the period takes in the whole day. It
// returns EINVALID for anything else.
func ParsePeriodBound(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := domain.ParseDate(s)
	if err != nil {
		return time.Time{}, err
	}
	t := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// Months returns the manifests of the workspace's archived months, newest
// archived first. It returns EFORBIDDEN for anyone who may not see the
// archive.
func (r *Restorer) Months(ctx context.Context, p activity.Principal) ([]Manifest, error) {
	if err := domain.Require(p, domain.ViewArchive); err != nil {
		return nil, err
	}
	return Manifests(ctx, r.Archive, p.WorkspaceID)
}
