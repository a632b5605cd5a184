package postgres

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/keybox"
)

type licenseRow struct {
	bun.BaseModel `bun:"table:licenses"`
	ID            string       `bun:"id,pk,type:uuid"`
	WorkspaceID   string       `bun:"workspace_id,type:uuid"`
	Name          string       `bun:"name"`
	Vendor        string       `bun:"vendor"`
	Seats         int          `bun:"seats"`
	KeyCiphertext []byte       `bun:"key_ciphertext,nullzero"`
	KeyID         string       `bun:"key_id"`
	Value         string       `bun:"value,nullzero"`
	Currency      string       `bun:"currency"`
	ExpiresOn     *domain.Date `bun:"expires_on,type:date"`
	CreatedAt     time.Time    `bun:"created_at"`
	UpdatedAt     time.Time    `bun:"updated_at"`
	DeletedAt     *time.Time   `bun:"deleted_at"`
}

type seatRow struct {
	bun.BaseModel `bun:"table:license_seats"`
	ID            string     `bun:"id,pk,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	LicenseID     string     `bun:"license_id,type:uuid"`
	UserID        string     `bun:"user_id,type:uuid"`
	AssignedAt    time.Time  `bun:"assigned_at"`
	UnassignedAt  *time.Time `bun:"unassigned_at"`
}

func (r licenseRow) hasKey() bool { return len(r.KeyCiphertext) > 0 }

func (r licenseRow) license(assignees []domain.UserRef) domain.License {
	if assignees == nil {
		assignees = []domain.UserRef{}
	}
	return domain.License{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Vendor: r.Vendor, Seats: r.Seats,
		SeatsUsed: len(assignees), Assignees: assignees, HasKey: r.hasKey(), Value: r.Value, Currency: r.Currency,
		ExpiresOn: r.ExpiresOn, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeletedAt: r.DeletedAt,
	}
}

// audit describes the license for Changes; the key only by whether it is set.
func (r licenseRow) audit(seatsUsed int) domain.LicenseAudit {
	a := domain.LicenseAudit{
		Name: r.Name, Vendor: r.Vendor, Seats: r.Seats, SeatsUsed: seatsUsed,
		Value: r.Value, Currency: r.Currency, ExpiresOn: r.ExpiresOn,
	}
	if r.hasKey() {
		a.Key = domain.KeySet
	}
	return a
}

// input returns the editable fields as an input to apply an update to;
// the key is left empty, since it is handled apart.
func (r licenseRow) input() domain.LicenseCreate {
	in := domain.LicenseCreate{Name: r.Name, Vendor: r.Vendor, Seats: r.Seats, Value: r.Value, Currency: r.Currency}
	if r.ExpiresOn != nil {
		in.ExpiresOn = r.ExpiresOn.String()
	}
	return in
}

func (r licenseRow) resource() activity.Resource {
	return activity.Resource{Type: "license", ID: r.ID, Name: r.Name}
}

// binding ties a sealed key to its workspace and license.
func (r licenseRow) binding() []byte {
	return keybox.Binding("license", r.WorkspaceID, r.ID)
}

// LicenseService stores licenses, their seats and encrypted keys, and
// records their events.
type LicenseService struct {
	db  *DB
	box *keybox.Box
}

// NewLicenseService returns the license service of db; box encrypts keys.
func NewLicenseService(db *DB, box *keybox.Box) *LicenseService {
	return &LicenseService{db: db, box: box}
}

// ListLicenses returns the workspace's licenses by name, with their seats.
func (s *LicenseService) ListLicenses(ctx context.Context, p activity.Principal) ([]domain.License, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return nil, err
	}
	var rows []licenseRow
	err := s.db.NewSelect().Model(&rows).
		Where("workspace_id = ? AND deleted_at IS NULL", p.WorkspaceID).
		OrderExpr("lower(name), id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select licenses: %w", err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	seats, err := s.assignees(ctx, s.db.DB, p.WorkspaceID, ids...)
	if err != nil {
		return nil, err
	}
	out := make([]domain.License, len(rows))
	for i, r := range rows {
		out[i] = r.license(seats[r.ID])
	}
	return out, nil
}

// FindLicense returns one license of the workspace with its seats.
func (s *LicenseService) FindLicense(ctx context.Context, p activity.Principal, id string) (domain.License, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return domain.License{}, err
	}
	row, err := s.load(ctx, s.db.DB, p.WorkspaceID, id, false)
	if err != nil {
		return domain.License{}, err
	}
	return s.withSeats(ctx, s.db.DB, row)
}

// CreateLicense creates a license, sealing its key, and records
// license.created with every field that was set (the key redacted).
func (s *LicenseService) CreateLicense(ctx context.Context, p activity.Principal, in domain.LicenseCreate) (domain.License, error) {
	if err := domain.Require(p, domain.ManageLicenses); err != nil {
		return domain.License{}, err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return domain.License{}, err
	}
	var row licenseRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row = licenseRow{
			ID: uuid.NewString(), WorkspaceID: ws.ID, Name: in.Name, Vendor: in.Vendor, Seats: in.Seats,
			Value: in.Value, Currency: in.Currency, ExpiresOn: in.Expiry(), CreatedAt: now, UpdatedAt: now,
		}
		if in.Key != "" {
			if err := s.seal(&row, in.Key); err != nil {
				return err
			}
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert license: %w", err)
		}
		e := newEvent(ctx, ws, p, "license.created", now, row.resource())
		e.Changes = domain.Changes(domain.LicenseAudit{}, row.audit(0))
		e.Note = in.Note
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.License{}, err
	}
	return row.license(nil), nil
}

// UpdateLicense changes the given fields and records license.updated with
// each field that changed; a key given equal to the stored one is no
// change. An update that changes nothing writes nothing and records no
// event. It returns ECONFLICT for fewer seats than are in use.
func (s *LicenseService) UpdateLicense(ctx context.Context, p activity.Principal, id string, in domain.LicenseUpdate) (domain.License, error) {
	if err := domain.Require(p, domain.ManageLicenses); err != nil {
		return domain.License{}, err
	}
	if err := in.Validate(); err != nil {
		return domain.License{}, err
	}
	var out domain.License
	err := s.locked(ctx, p, id, func(ctx context.Context, tx bun.Tx, now time.Time, ws workspaceRow, row licenseRow) error {
		next := in.Apply(row.input())
		if err := next.Validate(); err != nil {
			return err
		}
		used, err := countSeats(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		if next.Seats < used {
			return activity.Errorf(activity.ECONFLICT, "seats", "%d seats are in use; unassign some before lowering seats to %d", used, next.Seats)
		}
		before := row.audit(used)
		row.Name, row.Vendor, row.Seats, row.Value, row.Currency = next.Name, next.Vendor, next.Seats, next.Value, next.Currency
		after := row.audit(used)
		if in.Key != nil {
			if after.Key, err = s.replaceKey(&row, next.Key); err != nil {
				return err
			}
		}
		changes := domain.Changes(before, after)
		if len(changes) == 0 {
			out, err = s.withSeats(ctx, tx, row)
			return err
		}
		row.UpdatedAt = now
		_, err = tx.NewUpdate().Model(&row).
			Column("name", "vendor", "seats", "key_ciphertext", "key_id", "value", "currency", "updated_at").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("update license: %w", err)
		}
		e := newEvent(ctx, ws, p, "license.updated", now, row.resource())
		e.Changes = changes
		e.Note = next.Note
		if err := s.db.recordEvents(ctx, tx, e); err != nil {
			return err
		}
		out, err = s.withSeats(ctx, tx, row)
		return err
	})
	if err != nil {
		return domain.License{}, err
	}
	return out, nil
}

// replaceKey puts key in place of the row's key and returns the key's new
// audit state: empty when removed, KeySet when there was none, KeyReplaced
// when it differs from the stored one, KeySet (no change) when equal.
func (s *LicenseService) replaceKey(row *licenseRow, key string) (string, error) {
	switch {
	case key == "":
		row.KeyCiphertext, row.KeyID = nil, ""
		return "", nil
	case !row.hasKey():
		return domain.KeySet, s.seal(row, key)
	}
	if s.box != nil {
		// A stored key that no longer opens (its secret key retired) is
		// simply replaced.
		if cur, err := s.box.Open(row.KeyCiphertext, row.KeyID, row.binding()); err == nil && subtle.ConstantTimeCompare(cur, []byte(key)) == 1 {
			return domain.KeySet, nil
		}
	}
	return domain.KeyReplaced, s.seal(row, key)
}

// seal encrypts key into the row, bound to its workspace and id.
func (s *LicenseService) seal(row *licenseRow, key string) error {
	if s.box == nil {
		return errors.New("seal license key: no secret key is configured")
	}
	ct, keyID, err := s.box.Seal([]byte(key), row.binding())
	if err != nil {
		return fmt.Errorf("seal license key: %w", err)
	}
	row.KeyCiphertext, row.KeyID = ct, keyID
	return nil
}

// DeleteLicense marks the license deleted, ends its active seats and
// records license.deleted with every field as it was, the seat holders as
// related assignees.
func (s *LicenseService) DeleteLicense(ctx context.Context, p activity.Principal, id string, in domain.LicenseDelete) error {
	if err := domain.Require(p, domain.DeleteLicenses); err != nil {
		return err
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return err
	}
	return s.locked(ctx, p, id, func(ctx context.Context, tx bun.Tx, now time.Time, ws workspaceRow, row licenseRow) error {
		seats, err := s.assignees(ctx, tx, ws.ID, row.ID)
		if err != nil {
			return err
		}
		holders := seats[row.ID]
		row.DeletedAt, row.UpdatedAt = &now, now
		if _, err := tx.NewUpdate().Model(&row).Column("deleted_at", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete license: %w", err)
		}
		_, err = tx.NewUpdate().Model((*seatRow)(nil)).Set("unassigned_at = ?", now).
			Where("license_id = ? AND unassigned_at IS NULL", row.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end license seats: %w", err)
		}
		e := newEvent(ctx, ws, p, "license.deleted", now, row.resource())
		e.Changes = domain.Changes(row.audit(len(holders)), domain.LicenseAudit{})
		for _, h := range holders {
			e.Related = append(e.Related, activity.Resource{Type: "user", ID: h.ID, Name: h.Name, Role: "assignee"})
		}
		detail(&e, "seats_ended", len(holders))
		e.Note = in.Note
		return s.db.recordEvents(ctx, tx, e)
	})
}

// AssignSeat gives a seat to a member and records license.assigned. The
// license row stays locked from the count to the commit, so concurrent
// assignments never exceed the seats.
func (s *LicenseService) AssignSeat(ctx context.Context, p activity.Principal, id string, in domain.SeatChange) (domain.License, error) {
	return s.changeSeat(ctx, p, id, in, true)
}

// UnassignSeat takes a member's seat back and records license.unassigned.
func (s *LicenseService) UnassignSeat(ctx context.Context, p activity.Principal, id string, in domain.SeatChange) (domain.License, error) {
	return s.changeSeat(ctx, p, id, in, false)
}

func (s *LicenseService) changeSeat(ctx context.Context, p activity.Principal, id string, in domain.SeatChange, assign bool) (domain.License, error) {
	if err := domain.Require(p, domain.ManageLicenses); err != nil {
		return domain.License{}, err
	}
	if err := in.Validate(); err != nil {
		return domain.License{}, err
	}
	var out domain.License
	err := s.locked(ctx, p, id, func(ctx context.Context, tx bun.Tx, now time.Time, ws workspaceRow, row licenseRow) error {
		u, err := s.db.member(ctx, tx, ws.ID, in.UserID, "user_id")
		if err != nil {
			return err
		}
		used, err := countSeats(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		before := row.audit(used)
		after := before
		action := "license.assigned"
		if assign {
			if err := s.assign(ctx, tx, row, u, used, now); err != nil {
				return err
			}
			after.SeatsUsed, after.Assignee = used+1, u.ref()
		} else {
			if err := s.unassign(ctx, tx, row, u, now); err != nil {
				return err
			}
			before.Assignee, after.SeatsUsed = u.ref(), used-1
			action = "license.unassigned"
		}
		e := newEvent(ctx, ws, p, action, now, row.resource())
		if row.Value != "" {
			// The license's worth, so that an alert rule can watch
			// seats of costly licenses (alert.Condition on license.value).
			detail(&e, alert.DetailLicenseValue, row.Value)
			detail(&e, alert.DetailLicenseCurrency, row.Currency)
		}
		e.Changes = domain.Changes(before, after)
		assignee := u.resource()
		assignee.Role = "assignee"
		e.Related = []activity.Resource{assignee}
		e.Note = in.Note
		if err := s.db.recordEvents(ctx, tx, e); err != nil {
			return err
		}
		out, err = s.withSeats(ctx, tx, row)
		return err
	})
	if err != nil {
		return domain.License{}, err
	}
	return out, nil
}

func (s *LicenseService) assign(ctx context.Context, tx bun.Tx, row licenseRow, u userRow, used int, now time.Time) error {
	if !u.Active {
		return activity.Errorf(activity.ECONFLICT, "user_id", "%s is deactivated and cannot get a seat", u.Name)
	}
	held, err := tx.NewSelect().Model((*seatRow)(nil)).
		Where("license_id = ? AND user_id = ? AND unassigned_at IS NULL", row.ID, u.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("select seat: %w", err)
	}
	if held {
		return activity.Errorf(activity.ECONFLICT, "user_id", "%s already holds a seat of %s", u.Name, row.Name)
	}
	if used >= row.Seats {
		return activity.Errorf(activity.ECONFLICT, "seats", "all %d seats of %s are taken", row.Seats, row.Name)
	}
	seat := seatRow{ID: uuid.NewString(), WorkspaceID: row.WorkspaceID, LicenseID: row.ID, UserID: u.ID, AssignedAt: now}
	if _, err := tx.NewInsert().Model(&seat).Exec(ctx); err != nil {
		if isUniqueViolation(err, "license_seats_active_key") {
			return activity.Errorf(activity.ECONFLICT, "user_id", "%s already holds a seat of %s", u.Name, row.Name)
		}
		return fmt.Errorf("insert seat: %w", err)
	}
	return nil
}

func (s *LicenseService) unassign(ctx context.Context, tx bun.Tx, row licenseRow, u userRow, now time.Time) error {
	res, err := tx.NewUpdate().Model((*seatRow)(nil)).Set("unassigned_at = ?", now).
		Where("license_id = ? AND user_id = ? AND unassigned_at IS NULL", row.ID, u.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("end seat: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("end seat: %w", err)
	} else if n == 0 {
		return activity.Errorf(activity.ECONFLICT, "user_id", "%s holds no seat of %s", u.Name, row.Name)
	}
	return nil
}

// RenewLicense moves the expiration to a later date and records
// license.renewed.
func (s *LicenseService) RenewLicense(ctx context.Context, p activity.Principal, id string, in domain.ExpiryChange) (domain.License, error) {
	return s.changeExpiry(ctx, p, id, in, "license.renewed")
}

// SetExpiration corrects the expiration to any date and records
// license.expiration_updated. Setting the date it already has writes
// nothing and records no event.
func (s *LicenseService) SetExpiration(ctx context.Context, p activity.Principal, id string, in domain.ExpiryChange) (domain.License, error) {
	return s.changeExpiry(ctx, p, id, in, "license.expiration_updated")
}

func (s *LicenseService) changeExpiry(ctx context.Context, p activity.Principal, id string, in domain.ExpiryChange, action string) (domain.License, error) {
	if err := domain.Require(p, domain.ManageLicenses); err != nil {
		return domain.License{}, err
	}
	next, err := in.Date()
	if err != nil {
		return domain.License{}, err
	}
	var out domain.License
	err = s.locked(ctx, p, id, func(ctx context.Context, tx bun.Tx, now time.Time, ws workspaceRow, row licenseRow) error {
		if action == "license.renewed" {
			if err := domain.CheckRenewal(row.ExpiresOn, next); err != nil {
				return err
			}
		}
		before := row.audit(0)
		row.ExpiresOn, row.UpdatedAt = &next, now
		changes := domain.Changes(before, row.audit(0))
		if len(changes) > 0 {
			if _, err := tx.NewUpdate().Model(&row).Column("expires_on", "updated_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("update license expiration: %w", err)
			}
			e := newEvent(ctx, ws, p, action, now, row.resource())
			e.Changes = changes
			e.Note = in.Note
			if err := s.db.recordEvents(ctx, tx, e); err != nil {
				return err
			}
		}
		out, err = s.withSeats(ctx, tx, row)
		return err
	})
	if err != nil {
		return domain.License{}, err
	}
	return out, nil
}

// RevealKey opens the license key and records license.key_viewed in the
// same transaction; the key is returned only once the event is committed.
// It returns ENOTFOUND when the license has no key.
func (s *LicenseService) RevealKey(ctx context.Context, p activity.Principal, id string) (string, error) {
	if err := domain.Require(p, domain.ViewLicenseKeys); err != nil {
		return "", err
	}
	var key []byte
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := s.load(ctx, tx, ws.ID, id, false)
		if err != nil {
			return err
		}
		if !row.hasKey() {
			return activity.Errorf(activity.ENOTFOUND, "key", "%s has no license key", row.Name)
		}
		if s.box == nil {
			return errors.New("open license key: no secret key is configured")
		}
		if key, err = s.box.Open(row.KeyCiphertext, row.KeyID, row.binding()); err != nil {
			return fmt.Errorf("open key of license %s (key id %q): %w", row.ID, row.KeyID, err)
		}
		e := newEvent(ctx, ws, p, "license.key_viewed", now, row.resource())
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	return string(key), nil
}

// locked runs fn in one transaction on the caller's license, locked for
// the change; the caller has checked the permission.
func (s *LicenseService) locked(ctx context.Context, p activity.Principal, id string, fn func(ctx context.Context, tx bun.Tx, now time.Time, ws workspaceRow, row licenseRow) error) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := s.load(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		return fn(ctx, tx, now, ws, row)
	})
}

// load reads a license of the workspace that is not deleted, locking its
// row until the transaction ends when forUpdate is set. Any other id is
// ENOTFOUND, so that ids of other workspaces reveal nothing.
func (s *LicenseService) load(ctx context.Context, db bun.IDB, workspaceID, id string, forUpdate bool) (licenseRow, error) {
	var row licenseRow
	if !validID(id) {
		return row, activity.Errorf(activity.ENOTFOUND, "", "license not found")
	}
	q := db.NewSelect().Model(&row).Where("id = ? AND workspace_id = ? AND deleted_at IS NULL", id, workspaceID)
	if forUpdate {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return row, activity.Errorf(activity.ENOTFOUND, "", "license not found")
	}
	if err != nil {
		return row, fmt.Errorf("select license: %w", err)
	}
	return row, nil
}

// withSeats returns the license with its current seat holders.
func (s *LicenseService) withSeats(ctx context.Context, db bun.IDB, row licenseRow) (domain.License, error) {
	seats, err := s.assignees(ctx, db, row.WorkspaceID, row.ID)
	if err != nil {
		return domain.License{}, err
	}
	return row.license(seats[row.ID]), nil
}

// assignees returns the holders of the licenses' active seats, by license,
// in the order they got them.
func (s *LicenseService) assignees(ctx context.Context, db bun.IDB, workspaceID string, licenseIDs ...string) (map[string][]domain.UserRef, error) {
	out := map[string][]domain.UserRef{}
	if len(licenseIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		LicenseID string `bun:"license_id"`
		ID        string `bun:"id"`
		Name      string `bun:"name"`
	}
	err := db.NewSelect().
		TableExpr("license_seats AS s").
		Join("JOIN users AS u ON u.id = s.user_id").
		ColumnExpr("s.license_id, u.id, u.name").
		Where("s.workspace_id = ? AND s.unassigned_at IS NULL AND s.license_id IN (?)", workspaceID, bun.In(licenseIDs)).
		OrderExpr("s.assigned_at, s.id").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("select license seats: %w", err)
	}
	for _, r := range rows {
		out[r.LicenseID] = append(out[r.LicenseID], domain.UserRef{ID: r.ID, Name: r.Name})
	}
	return out, nil
}

// countSeats returns the number of active seats of a license.
func countSeats(ctx context.Context, db bun.IDB, licenseID string) (int, error) {
	n, err := db.NewSelect().Model((*seatRow)(nil)).Where("license_id = ? AND unassigned_at IS NULL", licenseID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count license seats: %w", err)
	}
	return n, nil
}
