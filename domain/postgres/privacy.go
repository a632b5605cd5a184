package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/privacy"
)

// PrivacyStore is the domain database's side of anonymizing a person: who
// they are, the stored reports that may name them, and the record of the
// anonymization.
type PrivacyStore struct {
	db *DB
}

// NewPrivacyStore returns the privacy store of db.
func NewPrivacyStore(db *DB) *PrivacyStore { return &PrivacyStore{db: db} }

// Subject returns the member's current name and email, and the email they
// asked to change to, if any. It returns ENOTFOUND for a user who is not a
// member of the workspace.
func (s *PrivacyStore) Subject(ctx context.Context, workspace, userID string) (privacy.Subject, error) {
	u, err := s.db.member(ctx, s.db, workspace, userID, "")
	if err != nil {
		return privacy.Subject{}, err
	}
	sub := privacy.Subject{UserID: u.ID}
	emails := []string{u.Email}
	if u.PendingEmail != nil {
		emails = append(emails, *u.PendingEmail)
	}
	sub.Add(privacy.Subject{Names: []string{u.Name}, Emails: emails})
	return sub, nil
}

// AnonymizeReports replaces r's values in the workspace's stored reports —
// who generated them, and their results' tables — and returns how many
// reports changed. The reports are rewritten in one transaction.
//
// The subject's IP addresses are left: a report's address tables count
// everyone's failures, and an address is not the subject's alone.
func (s *PrivacyStore) AnonymizeReports(ctx context.Context, workspace string, r privacy.Replacement) (int64, error) {
	r = r.WithoutAddresses()
	var n int64
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		var rows []struct {
			ID               string `bun:"id"`
			GeneratedByName  string `bun:"generated_by_name"`
			GeneratedByEmail string `bun:"generated_by_email"`
			Result           string `bun:"result"`
		}
		if err := tx.NewRaw("SELECT id, generated_by_name, generated_by_email, result::text AS result FROM reports WHERE workspace_id = ? FOR UPDATE", workspace).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("select reports: %w", err)
		}
		for _, row := range rows {
			name, email := r.Text(row.GeneratedByName), r.Text(row.GeneratedByEmail)
			var result any
			dec := json.NewDecoder(bytes.NewReader([]byte(row.Result)))
			dec.UseNumber()
			if err := dec.Decode(&result); err != nil {
				return fmt.Errorf("decode report %s: %w", row.ID, err)
			}
			touched := name != row.GeneratedByName || email != row.GeneratedByEmail
			result = r.Value(result, &touched)
			if !touched {
				continue
			}
			b, err := json.Marshal(result)
			if err != nil {
				return fmt.Errorf("encode report %s: %w", row.ID, err)
			}
			if _, err := tx.NewRaw("UPDATE reports SET generated_by_name = ?, generated_by_email = ?, result = ?::jsonb WHERE id = ?", name, email, string(b), row.ID).Exec(ctx); err != nil {
				return fmt.Errorf("update report %s: %w", row.ID, err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// RecordAnonymized records user.anonymized by p: the user by id and
// pseudonym, and what was changed, without the person's data.
func (s *PrivacyStore) RecordAnonymized(ctx context.Context, p activity.Principal, res privacy.Result) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.anonymized", now, activity.Resource{Type: "user", ID: res.UserID, Name: res.Pseudonym})
		detail(&e, "entries_updated", res.EntriesUpdated)
		detail(&e, "reports_updated", res.ReportsUpdated)
		detail(&e, "alerts_updated", res.AlertsUpdated)
		detail(&e, "archived_months_rewritten", res.ArchivedMonthsRewritten)
		detail(&e, "archived_entries_updated", res.ArchivedEntriesUpdated)
		detail(&e, "archive_files_removed", res.ArchiveFilesRemoved)
		if len(res.RemovedArchiveFiles) > 0 {
			detail(&e, "removed_archive_files", res.RemovedArchiveFiles)
		}
		return s.db.recordEvents(ctx, tx, e)
	})
}

// Published returns how many of the workspace's events wait in the outbox
// and the sequence number of the last one the relay gave out (0 without a
// chain).
func (s *PrivacyStore) Published(ctx context.Context, workspace string) (pending, lastSeq int64, err error) {
	err = s.db.NewRaw(`SELECT
		(SELECT count(*) FROM outbox WHERE workspace_id = ?),
		coalesce((SELECT seq FROM chain_heads WHERE workspace_id = ?), 0)`, workspace, workspace).Scan(ctx, &pending, &lastSeq)
	if err != nil {
		return 0, 0, fmt.Errorf("look at the outbox: %w", err)
	}
	return pending, lastSeq, nil
}

// ClaimDue leases the erasure due longest at now, skipping those another
// process holds, until now+lease.
func (s *PrivacyStore) ClaimDue(ctx context.Context, now time.Time, lease time.Duration) (privacy.Erasure, bool, error) {
	var rows []struct {
		UserID      string    `bun:"user_id"`
		WorkspaceID string    `bun:"workspace_id"`
		LeaseUntil  time.Time `bun:"lease_until"`
	}
	err := s.db.NewRaw(`UPDATE user_erasures SET lease_until = ? WHERE user_id = (
			SELECT user_id FROM user_erasures
			WHERE anonymized_at IS NULL AND due_at <= ? AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING user_id, workspace_id, lease_until`, now.Add(lease), now, now).Scan(ctx, &rows)
	if err != nil {
		return privacy.Erasure{}, false, fmt.Errorf("claim erasure: %w", err)
	}
	if len(rows) == 0 {
		return privacy.Erasure{}, false, nil
	}
	r := rows[0]
	return privacy.Erasure{UserID: r.UserID, WorkspaceID: r.WorkspaceID, Lease: r.LeaseUntil}, true, nil
}

// Finish marks the erasure done with its counts and records
// user.anonymized by the system, naming the user by id and pseudonym.
func (s *PrivacyStore) Finish(ctx context.Context, er privacy.Erasure, res privacy.Result, now time.Time) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		r, err := tx.NewRaw(`UPDATE user_erasures SET anonymized_at = ?, lease_until = NULL, entries_updated = ?, reports_updated = ?
			WHERE user_id = ? AND anonymized_at IS NULL AND lease_until = ?`, now, res.EntriesUpdated, res.ReportsUpdated, er.UserID, er.Lease).Exec(ctx)
		if err != nil {
			return fmt.Errorf("finish erasure: %w", err)
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return fmt.Errorf("finish erasure of user %s: this process no longer holds its lease", er.UserID)
		}
		ws, err := s.db.workspace(ctx, tx, er.WorkspaceID)
		if err != nil {
			return err
		}
		e := newSystemEvent(ws.ID, "user.anonymized", now, activity.Resource{Type: "user", ID: res.UserID, Name: res.Pseudonym})
		e.Context.TimeZone = ws.TimeZone
		e.Details = map[string]any{"entries_updated": res.EntriesUpdated, "reports_updated": res.ReportsUpdated, "alerts_updated": res.AlertsUpdated,
			"archived_months_rewritten": res.ArchivedMonthsRewritten, "archived_entries_updated": res.ArchivedEntriesUpdated,
			"archive_files_removed": res.ArchiveFilesRemoved, "after_deletion": true}
		if len(res.RemovedArchiveFiles) > 0 {
			e.Details["removed_archive_files"] = res.RemovedArchiveFiles
		}
		return s.db.recordEvents(ctx, tx, e)
	})
}

// PersonalData returns the member's account, with their workspace's name,
// their sessions and their API tokens, newest first; secrets and hashes
// stay out. It returns ENOTFOUND for a user who is not a member.
func (s *PrivacyStore) PersonalData(ctx context.Context, workspace, userID string) (privacy.PersonalData, error) {
	u, err := s.db.member(ctx, s.db, workspace, userID, "")
	if err != nil {
		return privacy.PersonalData{}, err
	}
	ws, err := s.db.workspace(ctx, s.db, workspace)
	if err != nil {
		return privacy.PersonalData{}, err
	}
	out := privacy.PersonalData{
		Account: privacy.Account{ID: u.ID, WorkspaceID: u.WorkspaceID, Workspace: ws.Name, Name: u.Name, Email: u.Email,
			Role: u.Role, Active: u.Active, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()},
		Sessions:  []privacy.Session{},
		APITokens: []privacy.APIToken{},
	}
	if u.PendingEmail != nil {
		out.Account.PendingEmail = *u.PendingEmail
	}
	var sessions []sessionRow
	if err := s.db.NewSelect().Model(&sessions).Where("user_id = ?", u.ID).OrderExpr("created_at DESC").Scan(ctx); err != nil {
		return out, fmt.Errorf("select sessions: %w", err)
	}
	for _, r := range sessions {
		out.Sessions = append(out.Sessions, privacy.Session{ID: r.ID, IP: r.IP, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), EndedAt: utc(r.EndedAt)})
	}
	var tokens []apiTokenRow
	if err := s.db.NewSelect().Model(&tokens).Where("user_id = ?", u.ID).OrderExpr("created_at DESC").Scan(ctx); err != nil {
		return out, fmt.Errorf("select api tokens: %w", err)
	}
	for _, r := range tokens {
		out.APITokens = append(out.APITokens, privacy.APIToken{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Scopes: r.Scopes,
			CreatedAt: r.CreatedAt.UTC(), LastUsedAt: utc(r.LastUsedAt), ExpiresAt: utc(r.ExpiresAt), RevokedAt: utc(r.RevokedAt)})
	}
	return out, nil
}

// RecordExport records a subject access export by p as
// system.data_exported. Everyone may export what is recorded about
// themselves, so p's role is not held to the permission to export data.
func (s *PrivacyStore) RecordExport(ctx context.Context, p activity.Principal, a domain.SystemAction) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, domain.ActionDataExported, now, a.Resource)
		for k, v := range a.Details {
			detail(&e, k, v)
		}
		return s.db.recordEvents(ctx, tx, e)
	})
}

// AnonymizeAlerts replaces r's values in the workspace's alerts — their
// summary, subject, details and who acknowledged or resolved them — and
// returns how many alerts changed, in one transaction. As in reports, the
// subject's IP addresses are left: an alert's addresses are everyone's
// who failed from them.
func (s *PrivacyStore) AnonymizeAlerts(ctx context.Context, workspace string, r privacy.Replacement) (int64, error) {
	r = r.WithoutAddresses()
	var n int64
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		var rows []struct {
			ID             string  `bun:"id"`
			Summary        string  `bun:"summary"`
			Subject        string  `bun:"subject"`
			Details        *string `bun:"details"`
			AcknowledgedBy *string `bun:"acknowledged_by"`
			ResolvedBy     *string `bun:"resolved_by"`
		}
		err := tx.NewRaw(`SELECT id, summary, subject::text AS subject, details::text AS details,
			acknowledged_by::text AS acknowledged_by, resolved_by::text AS resolved_by
			FROM alerts WHERE workspace_id = ? FOR UPDATE`, workspace).Scan(ctx, &rows)
		if err != nil {
			return fmt.Errorf("select alerts: %w", err)
		}
		for _, row := range rows {
			touched := false
			summary := r.Text(row.Summary)
			touched = summary != row.Summary
			subject, err := anonymizeJSON(r, &row.Subject, &touched)
			if err != nil {
				return fmt.Errorf("alert %s: %w", row.ID, err)
			}
			details, err := anonymizeJSON(r, row.Details, &touched)
			if err != nil {
				return fmt.Errorf("alert %s: %w", row.ID, err)
			}
			acked, err := anonymizeJSON(r, row.AcknowledgedBy, &touched)
			if err != nil {
				return fmt.Errorf("alert %s: %w", row.ID, err)
			}
			resolved, err := anonymizeJSON(r, row.ResolvedBy, &touched)
			if err != nil {
				return fmt.Errorf("alert %s: %w", row.ID, err)
			}
			if !touched {
				continue
			}
			_, err = tx.NewRaw(`UPDATE alerts SET summary = ?, subject = ?::jsonb, details = ?::jsonb,
				acknowledged_by = ?::jsonb, resolved_by = ?::jsonb WHERE id = ?`, summary, subject, details, acked, resolved, row.ID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("update alert %s: %w", row.ID, err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// anonymizeJSON replaces r's values in the JSON text src, which may be
// absent, and returns the text to store (nil for absent); numbers keep
// their text.
func anonymizeJSON(r privacy.Replacement, src *string, touched *bool) (*string, error) {
	if src == nil {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader([]byte(*src)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	v = r.Value(v, touched)
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := string(b)
	return &out, nil
}
