package export

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// Backups writes each workspace's monthly backup: once a calendar month
// has ended in the workspace's time zone, the month's whole log as gzipped
// NDJSON into the archive store, recorded as system.data_exported by the
// platform. A month is leased while it is written, so that with several
// processes running one writes it, and a process that dies mid-way leaves
// it to another once the lease lapses.
type Backups struct {
	Scanner searchapi.Scanner
	Archive domain.ArchiveStore
	Store   domain.BackupStore
	// Lease is how long a month is held while it is written; 30 minutes
	// when zero. A backup that takes longer is left to another process.
	Lease time.Duration
	// Grace is how long after a month's end its backup waits, so that
	// events of the month still on their way (the outbox while Kafka is
	// down, the indexer's lag) are in it; a day when zero.
	Grace time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log logrus.FieldLogger
}

// RunDue writes every backup that is due now and not yet written, and
// returns how many it wrote. A workspace whose backup fails is logged and
// tried again at the next run; the others go on.
func (b *Backups) RunDue(ctx context.Context) (int, error) {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	lease := b.Lease
	if lease == 0 {
		lease = 30 * time.Minute
	}
	grace := b.Grace
	if grace == 0 {
		grace = 24 * time.Hour
	}
	workspaces, err := b.Store.BackupWorkspaces(ctx)
	if err != nil {
		return 0, err
	}
	written := 0
	for _, ws := range workspaces {
		if ctx.Err() != nil {
			return written, ctx.Err()
		}
		month, from, to := LastMonth(now().Add(-grace), searchapi.Zone(ws.TimeZone))
		leaseID, err := b.Store.ClaimBackup(ctx, ws.ID, month, now().UTC(), lease)
		if err != nil {
			return written, err
		}
		if leaseID == "" {
			continue
		}
		writeCtx, cancel := context.WithTimeout(ctx, lease)
		backup, err := b.write(writeCtx, ws, month, from, to)
		cancel()
		if err == nil {
			err = b.Store.FinishBackup(ctx, backup, leaseID, now().UTC())
		}
		log := b.Log.WithField("workspace_id", ws.ID).WithField("month", month.Format("2006-01"))
		if err != nil {
			log.WithError(err).Error("Monthly backup failed; it is tried again once its lease lapses.")
			continue
		}
		log.WithField("archive_name", backup.ArchiveName).WithField("entries", backup.Entries).Info("Monthly backup written.")
		written++
	}
	return written, nil
}

// write streams the month's entries through gzip into the archive store.
func (b *Backups) write(ctx context.Context, ws domain.BackupWorkspace, month, from, to time.Time) (domain.MonthlyBackup, error) {
	// The platform reads the whole workspace, as an owner would.
	p := activity.Principal{WorkspaceID: ws.ID, Role: activity.RoleOwner, Type: activity.ActorSystem, Name: "Fluxera", TimeZone: ws.TimeZone}
	filter := searchapi.EventFilter{From: from.Format(time.RFC3339), To: to.Format(time.RFC3339)}
	if err := filter.Validate(to, searchapi.Zone(ws.TimeZone)); err != nil {
		return domain.MonthlyBackup{}, fmt.Errorf("backup filter: %w", err)
	}
	pr, pw := io.Pipe()
	scanned := make(chan int, 1)
	go func() {
		gz := gzip.NewWriter(pw)
		w := NewWriter(gz, File{Format: NDJSON, Workspace: ws.Name, WorkspaceID: ws.ID, By: p, At: to, Filter: filter})
		n, err := b.Scanner.ScanEvents(ctx, p, filter, w.Entry)
		if err == nil {
			err = w.Close()
		}
		if err == nil {
			err = gz.Close()
		}
		scanned <- n
		pw.CloseWithError(err)
	}()
	obj, err := b.Archive.Put(ctx, ws.ID, domain.ArchiveBackup, "ndjson.gz", pr)
	pr.CloseWithError(err) // ends the scan if the store gave up first
	n := <-scanned
	if err != nil {
		return domain.MonthlyBackup{}, fmt.Errorf("store backup: %w", err)
	}
	return domain.MonthlyBackup{WorkspaceID: ws.ID, Month: month, ArchiveName: obj.Name, Entries: int64(n), Bytes: obj.Size}, nil
}

// LastMonth returns the calendar month before the one now falls in, in
// loc: its first day as a date, and its start and end instants.
func LastMonth(now time.Time, loc *time.Location) (month, from, to time.Time) {
	local := now.In(loc)
	to = time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	from = to.AddDate(0, -1, 0)
	return time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC), from, to
}
