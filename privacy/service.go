package privacy

import (
	"context"
	"fmt"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/retry"
)

// People is the domain database's side of an anonymization.
type People interface {
	// Subject returns the member's current name and emails (the pending
	// one too). It returns ENOTFOUND when the workspace has no such member.
	Subject(ctx context.Context, workspace, userID string) (Subject, error)
	// AnonymizeReports replaces r's values in the workspace's stored
	// reports and returns how many reports changed.
	AnonymizeReports(ctx context.Context, workspace string, r Replacement) (int64, error)
	// AnonymizeAlerts replaces r's values in the workspace's alerts and
	// returns how many alerts changed.
	AnonymizeAlerts(ctx context.Context, workspace string, r Replacement) (int64, error)
	// RecordAnonymized records user.anonymized by p with res, which holds
	// no personal data of the subject.
	RecordAnonymized(ctx context.Context, p activity.Principal, res Result) error
	// Published returns how many of the workspace's events still wait in
	// the outbox and the sequence number of the last one published.
	Published(ctx context.Context, workspace string) (pending, lastSeq int64, err error)
}

// Index is the search index's side of an anonymization.
type Index interface {
	// Recorded returns the names, emails and IP addresses the workspace's
	// entries record for the user, as actor or as the resource.
	Recorded(ctx context.Context, workspace, userID string) (Subject, error)
	// Anonymize replaces r's values in every entry of the workspace,
	// keeping each entry's structure and chain link, and returns how many
	// entries changed.
	Anonymize(ctx context.Context, workspace string, r Replacement) (int64, error)
	// LastSeq returns the highest sequence number indexed for the
	// workspace, 0 for none.
	LastSeq(ctx context.Context, workspace string) (int64, error)
}

// Archive is the archive store's side of an anonymization.
type Archive interface {
	// Rewrite applies edit, which reports whether it changed an entry, to
	// every entry of the workspace's archived months and replaces each
	// month in which one changed, keeping its counts and chain; then it
	// deletes the workspace's other archive files in which mentions finds
	// the person.
	Rewrite(ctx context.Context, workspace string, edit func(*activity.Event) bool, mentions func([]byte) bool) (domain.ArchiveRewrite, error)
	// Each hands fn every entry of the workspace's archived months.
	Each(ctx context.Context, workspace string, fn func(activity.Event)) error
}

// Service anonymizes people on request and, through Replace, after their
// deletion.
type Service struct {
	People People
	Index  Index
	// Archive rewrites the archive store; none is touched when nil.
	Archive Archive
	// Secret is the platform's secret key, from which each workspace's
	// pseudonym key is derived.
	Secret []byte
	// CatchUp bounds the wait for the workspace's recorded events to be
	// indexed before an anonymization on request (DefaultCatchUp when 0).
	CatchUp time.Duration
}

// DefaultCatchUp is how long an anonymization on request waits for the
// workspace's recorded events to reach the index.
const DefaultCatchUp = 30 * time.Second

// catchUpPoll is how often the wait looks again.
const catchUpPoll = 200 * time.Millisecond

// errBehind answers an anonymization asked for while the workspace's
// latest events are still on their way to the index: the request cannot
// be completed in the log's present state, and may be sent again once
// the pipeline has caught up.
var errBehind = activity.Errorf(activity.ECONFLICT, "", "the workspace's latest activity is still being indexed; try again in a minute")

// caughtUp waits until every event of the workspace recorded so far is
// indexed, so that none reaches the index with the person's values after
// they were replaced.
func (s *Service) caughtUp(ctx context.Context, workspace string) error {
	wait := s.CatchUp
	if wait == 0 {
		wait = DefaultCatchUp
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		pending, last, err := s.People.Published(ctx, workspace)
		if err == nil && pending == 0 {
			var indexed int64
			if indexed, err = s.Index.LastSeq(ctx, workspace); err == nil && indexed >= last {
				return nil
			}
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		if !retry.Sleep(ctx, catchUpPoll) {
			return errBehind
		}
	}
}

// Pseudonym returns the user's stable pseudonym in the workspace.
func (s *Service) Pseudonym(workspace, userID string) Pseudonym {
	return PseudonymOf(WorkspaceKey(s.Secret, workspace), userID)
}

// Anonymize replaces the member's name, email, IP addresses and free-text
// mentions with their pseudonym across the workspace's entries, archive,
// stored reports and alerts at once, and records user.anonymized with the counts and without
// the member's data. Owners only: others get EFORBIDDEN; an unknown member
// is ENOTFOUND. It first waits for the workspace's recorded events to be
// indexed, and answers ECONFLICT when they are not within CatchUp. The
// member's account is left as it is.
func (s *Service) Anonymize(ctx context.Context, p activity.Principal, userID string) (Result, error) {
	if err := domain.Require(p, domain.ManagePersonalData); err != nil {
		return Result{}, err
	}
	subject, err := s.People.Subject(ctx, p.WorkspaceID, userID)
	if err != nil {
		return Result{}, err
	}
	if err := s.caughtUp(ctx, p.WorkspaceID); err != nil {
		return Result{}, err
	}
	res, err := s.Replace(ctx, p.WorkspaceID, subject)
	if err != nil {
		return res, err
	}
	if err := s.People.RecordAnonymized(ctx, p, res); err != nil {
		return res, err
	}
	return res, nil
}

// Replace replaces the subject's values, with those the index records for
// them, by their pseudonym in the workspace's entries, archived months,
// reports and alerts, and deletes the archive files (backups, exports,
// report files) that mention them.
func (s *Service) Replace(ctx context.Context, workspace string, subject Subject) (Result, error) {
	recorded, err := s.Index.Recorded(ctx, workspace, subject.UserID)
	if err != nil {
		return Result{}, fmt.Errorf("find the values recorded for user %s: %w", subject.UserID, err)
	}
	subject.Add(recorded)
	if s.Archive != nil {
		// Entries archived away from the index record values too.
		err := s.Archive.Each(ctx, workspace, func(e activity.Event) {
			subject.Add(RecordedIn(e, subject.UserID))
		})
		if err != nil {
			return Result{}, fmt.Errorf("find the values archived for user %s: %w", subject.UserID, err)
		}
	}
	r := Replacement{Subject: subject, Pseudonym: s.Pseudonym(workspace, subject.UserID)}
	res := Result{UserID: subject.UserID, Pseudonym: r.Pseudonym.Name, RemovedArchiveFiles: []string{}}
	if res.EntriesUpdated, err = s.Index.Anonymize(ctx, workspace, r); err != nil {
		return res, fmt.Errorf("anonymize the entries of user %s: %w", subject.UserID, err)
	}
	if s.Archive != nil {
		ar, err := s.Archive.Rewrite(ctx, workspace, func(e *activity.Event) bool { return len(r.Apply(e)) > 0 }, r.Mentioned)
		res.ArchivedMonthsRewritten, res.ArchivedEntriesUpdated, res.ArchiveFilesRemoved = ar.Months, ar.Entries, ar.FilesRemoved
		res.RemovedArchiveFiles = append([]string{}, ar.Removed...)
		if err != nil {
			return res, fmt.Errorf("anonymize the archive of user %s: %w", subject.UserID, err)
		}
	}
	if res.ReportsUpdated, err = s.People.AnonymizeReports(ctx, workspace, r); err != nil {
		return res, fmt.Errorf("anonymize the reports of user %s: %w", subject.UserID, err)
	}
	if res.AlertsUpdated, err = s.People.AnonymizeAlerts(ctx, workspace, r); err != nil {
		return res, fmt.Errorf("anonymize the alerts of user %s: %w", subject.UserID, err)
	}
	return res, nil
}
