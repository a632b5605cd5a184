package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
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
