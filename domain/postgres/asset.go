package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

type assetRow struct {
	bun.BaseModel `bun:"table:assets,alias:a"`
	ID            string       `bun:"id,pk,type:uuid"`
	WorkspaceID   string       `bun:"workspace_id,type:uuid"`
	Name          string       `bun:"name"`
	AssetTag      string       `bun:"asset_tag"`
	Serial        string       `bun:"serial"`
	Category      string       `bun:"category"`
	Status        string       `bun:"status"`
	Value         string       `bun:"value,nullzero"`
	Currency      string       `bun:"currency"`
	Location      string       `bun:"location"`
	PurchaseDate  *domain.Date `bun:"purchase_date,type:date"`
	AssignedTo    *string      `bun:"assigned_to,type:uuid"`
	AssignedAt    *time.Time   `bun:"assigned_at"`
	CreatedAt     time.Time    `bun:"created_at"`
	UpdatedAt     time.Time    `bun:"updated_at"`
	DeletedAt     *time.Time   `bun:"deleted_at"`
	AssigneeName  string       `bun:"assignee_name,scanonly"`
}

func (r assetRow) asset() domain.Asset {
	a := domain.Asset{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, AssetTag: r.AssetTag, Serial: r.Serial,
		Category: r.Category, Status: r.Status, Value: r.Value, Currency: r.Currency, Location: r.Location,
		PurchaseDate: r.PurchaseDate, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeletedAt: r.DeletedAt,
	}
	if r.AssignedTo != nil {
		a.AssignedTo = &domain.UserRef{ID: *r.AssignedTo, Name: r.AssigneeName}
	}
	return a
}

func (r assetRow) resource() activity.Resource {
	return activity.Resource{Type: "asset", ID: r.ID, Name: r.Name}
}

// AssetService stores assets, their maintenance and images, and records
// their events.
type AssetService struct {
	db *DB
	// Images keeps image files; ImagePolicy bounds what may be uploaded.
	Images      domain.ImageStore
	ImagePolicy domain.ImagePolicy
}

// NewAssetService returns the asset service of db.
func NewAssetService(db *DB) *AssetService {
	return &AssetService{db: db, ImagePolicy: domain.ImagePolicy{MaxBytes: 5 << 20}}
}

// selectAssets selects assets with their assignee's name.
func selectAssets(tx bun.IDB, rows any) *bun.SelectQuery {
	return tx.NewSelect().Model(rows).ColumnExpr("a.*, u.name AS assignee_name").
		Join("LEFT JOIN users AS u ON u.id = a.assigned_to")
}

// asset loads a live asset of the workspace; lock takes its row lock for a
// change. A malformed id, another workspace's asset and a deleted asset are
// all ENOTFOUND.
func (s *AssetService) asset(ctx context.Context, tx bun.IDB, workspaceID, id string, lock bool) (assetRow, error) {
	var row assetRow
	notFound := activity.Errorf(activity.ENOTFOUND, "", "asset %q not found", id)
	if !validID(id) {
		return row, notFound
	}
	q := selectAssets(tx, &row).Where("a.id = ? AND a.workspace_id = ? AND a.deleted_at IS NULL", id, workspaceID)
	if lock {
		q = q.For("UPDATE OF a")
	}
	if err := q.Scan(ctx); errors.Is(err, sql.ErrNoRows) {
		return row, notFound
	} else if err != nil {
		return row, fmt.Errorf("select asset: %w", err)
	}
	return row, nil
}

// ListAssets returns the workspace's assets by name.
func (s *AssetService) ListAssets(ctx context.Context, p activity.Principal) ([]domain.Asset, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return nil, err
	}
	var rows []assetRow
	if err := selectAssets(s.db, &rows).Where("a.workspace_id = ? AND a.deleted_at IS NULL", p.WorkspaceID).OrderExpr("lower(a.name), a.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select assets: %w", err)
	}
	out := make([]domain.Asset, len(rows))
	for i, r := range rows {
		out[i] = r.asset()
	}
	return out, nil
}

// FindAsset returns one asset, or ENOTFOUND.
func (s *AssetService) FindAsset(ctx context.Context, p activity.Principal, id string) (domain.Asset, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return domain.Asset{}, err
	}
	row, err := s.asset(ctx, s.db, p.WorkspaceID, id, false)
	return row.asset(), err
}

// change runs fn on a locked asset inside one transaction and records the
// event fn returns, if any.
func (s *AssetService) change(ctx context.Context, p activity.Principal, perm domain.Permission, id string, fn func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error)) (assetRow, error) {
	if err := domain.Require(p, perm); err != nil {
		return assetRow{}, err
	}
	var row assetRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		var err error
		if row, err = s.asset(ctx, tx, p.WorkspaceID, id, true); err != nil {
			return err
		}
		e, err := fn(ctx, tx, now, &row)
		if err != nil || e == nil {
			return err
		}
		return s.db.recordEvents(ctx, tx, *e)
	})
	return row, err
}

// save writes the asset's columns and sets its update time.
func saveAsset(ctx context.Context, tx bun.Tx, row *assetRow, now time.Time, columns ...string) error {
	row.UpdatedAt = now
	if _, err := tx.NewUpdate().Model(row).Column(append(columns, "updated_at")...).WherePK().Exec(ctx); err != nil {
		if isUniqueViolation(err, "assets_tag_key") {
			return activity.Errorf(activity.ECONFLICT, "asset_tag", "asset tag %q is already in use", row.AssetTag)
		}
		return fmt.Errorf("update asset: %w", err)
	}
	return nil
}

// assetEvent starts an event about the asset row.
func (s *AssetService) assetEvent(ctx context.Context, tx bun.Tx, p activity.Principal, action string, now time.Time, row assetRow) (*activity.Event, error) {
	ws, err := s.db.callerWorkspace(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	e := newEvent(ctx, ws, p, action, now, row.resource())
	if row.Value != "" {
		// The asset's worth at that moment, so that an alert rule can
		// watch high-value assets (alert.Condition on asset.value).
		detail(&e, alert.DetailAssetValue, row.Value)
		detail(&e, alert.DetailAssetCurrency, row.Currency)
	}
	return &e, nil
}

// InsertAsset inserts a new asset of the workspace, made from in (already
// normalized and validated) at now, within tx, and records nothing: the
// caller's transaction records its event. It returns ECONFLICT for an
// asset tag already in use. The API's create goes through it, and so does
// the bench's baseline of a bare insert.
func InsertAsset(ctx context.Context, tx bun.IDB, workspaceID string, in domain.AssetCreate, now time.Time) (domain.Asset, error) {
	row, err := insertAsset(ctx, tx, workspaceID, in, now)
	return row.asset(), err
}

func insertAsset(ctx context.Context, tx bun.IDB, workspaceID string, in domain.AssetCreate, now time.Time) (assetRow, error) {
	row := assetRow{
		ID: uuid.NewString(), WorkspaceID: workspaceID, Name: in.Name, AssetTag: in.AssetTag, Serial: in.Serial,
		Category: in.Category, Status: in.Status, Value: in.Value, Currency: in.Currency, Location: in.Location,
		PurchaseDate: in.PurchaseDate, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		if isUniqueViolation(err, "assets_tag_key") {
			return assetRow{}, activity.Errorf(activity.ECONFLICT, "asset_tag", "asset tag %q is already in use", in.AssetTag)
		}
		return assetRow{}, fmt.Errorf("insert asset: %w", err)
	}
	return row, nil
}

// CreateAsset creates an asset in the caller's workspace and records
// asset.created with every field that was set.
func (s *AssetService) CreateAsset(ctx context.Context, p activity.Principal, in domain.AssetCreate) (domain.Asset, error) {
	if err := domain.Require(p, domain.ManageAssets); err != nil {
		return domain.Asset{}, err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return domain.Asset{}, err
	}
	if in.Status == domain.AssetAssigned {
		return domain.Asset{}, activity.Errorf(activity.EINVALID, "status", "create the asset first, then assign it to a member")
	}
	var row assetRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		if row, err = insertAsset(ctx, tx, p.WorkspaceID, in, now); err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "asset.created", now, row.resource())
		e.Changes = domain.Changes(domain.Asset{}, row.asset())
		e.Note = in.Note
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.Asset{}, err
	}
	return row.asset(), nil
}

// UpdateAsset edits an asset and records asset.updated with the before and
// after of every changed field. An edit that changes nothing records
// nothing.
func (s *AssetService) UpdateAsset(ctx context.Context, p activity.Principal, id string, u domain.AssetUpdate) (domain.Asset, error) {
	row, err := s.change(ctx, p, domain.ManageAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		before := row.asset()
		in := u.Apply(before)
		in.Normalize()
		if err := in.Validate(); err != nil {
			return nil, err
		}
		row.Name, row.AssetTag, row.Serial, row.Category = in.Name, in.AssetTag, in.Serial, in.Category
		row.Value, row.Currency, row.Location, row.PurchaseDate = in.Value, in.Currency, in.Location, in.PurchaseDate
		changes := domain.Changes(before, row.asset())
		if len(changes) == 0 {
			return nil, nil
		}
		if err := saveAsset(ctx, tx, row, now, "name", "asset_tag", "serial", "category", "value", "currency", "location", "purchase_date"); err != nil {
			return nil, err
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.updated", now, *row)
		if err != nil {
			return nil, err
		}
		e.Changes, e.Note = changes, in.Note
		return e, nil
	})
	return row.asset(), err
}

// DeleteAsset deletes an asset softly and records asset.deleted, whose
// changes keep every field of what was deleted.
func (s *AssetService) DeleteAsset(ctx context.Context, p activity.Principal, id, note string) error {
	if err := activity.ValidateNote(note); err != nil {
		return err
	}
	_, err := s.change(ctx, p, domain.DeleteAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		before := row.asset()
		row.DeletedAt = &now
		if err := saveAsset(ctx, tx, row, now, "deleted_at"); err != nil {
			return nil, err
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.deleted", now, *row)
		if err != nil {
			return nil, err
		}
		e.Changes, e.Note = domain.Changes(before, domain.Asset{}), strings.TrimSpace(note)
		return e, nil
	})
	return err
}

// AssignAsset hands the asset to a member and records asset.assigned, with
// the assignee by name and id. Reassigning from one member to another is
// one assignment. It returns ENOTFOUND for a user outside the workspace and
// ECONFLICT for a deactivated user, a retired or lost asset, or an asset
// the user already has.
func (s *AssetService) AssignAsset(ctx context.Context, p activity.Principal, id string, in domain.AssetAssignment) (domain.Asset, error) {
	if err := activity.ValidateNote(in.Note); err != nil {
		return domain.Asset{}, err
	}
	if strings.TrimSpace(in.UserID) == "" {
		return domain.Asset{}, activity.Errorf(activity.EINVALID, "user_id", "user_id is required")
	}
	row, err := s.change(ctx, p, domain.ManageAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		u, err := s.db.member(ctx, tx, p.WorkspaceID, strings.TrimSpace(in.UserID), "user_id")
		if err != nil {
			return nil, err
		}
		switch {
		case !u.Active:
			return nil, activity.Errorf(activity.ECONFLICT, "user_id", "%s is deactivated", u.Name)
		case row.Status == domain.AssetRetired || row.Status == domain.AssetLost:
			return nil, activity.Errorf(activity.ECONFLICT, "status", "a %s asset cannot be assigned", row.Status)
		case row.AssignedTo != nil && *row.AssignedTo == u.ID:
			return nil, activity.Errorf(activity.ECONFLICT, "user_id", "the asset is already assigned to %s", u.Name)
		}
		before := row.asset()
		row.AssignedTo, row.AssignedAt, row.AssigneeName, row.Status = &u.ID, &now, u.Name, domain.AssetAssigned
		if err := saveAsset(ctx, tx, row, now, "assigned_to", "assigned_at", "status"); err != nil {
			return nil, err
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.assigned", now, *row)
		if err != nil {
			return nil, err
		}
		e.Changes, e.Note = domain.Changes(before, row.asset()), strings.TrimSpace(in.Note)
		e.Related = []activity.Resource{{Type: "user", ID: u.ID, Name: u.Name, Role: "assignee"}}
		if before.AssignedTo != nil {
			e.Related = append(e.Related, activity.Resource{Type: "user", ID: before.AssignedTo.ID, Name: before.AssignedTo.Name, Role: "previous_assignee"})
		}
		return e, nil
	})
	return row.asset(), err
}

// UnassignAsset takes the asset back from its assignee, makes it available
// and records asset.unassigned. It returns ECONFLICT when nobody has it.
func (s *AssetService) UnassignAsset(ctx context.Context, p activity.Principal, id, note string) (domain.Asset, error) {
	if err := activity.ValidateNote(note); err != nil {
		return domain.Asset{}, err
	}
	row, err := s.change(ctx, p, domain.ManageAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		if row.AssignedTo == nil {
			return nil, activity.Errorf(activity.ECONFLICT, "", "the asset is not assigned to anyone")
		}
		before := row.asset()
		row.AssignedTo, row.AssignedAt, row.AssigneeName, row.Status = nil, nil, "", domain.AssetAvailable
		if err := saveAsset(ctx, tx, row, now, "assigned_to", "assigned_at", "status"); err != nil {
			return nil, err
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.unassigned", now, *row)
		if err != nil {
			return nil, err
		}
		e.Changes, e.Note = domain.Changes(before, row.asset()), strings.TrimSpace(note)
		e.Related = []activity.Resource{{Type: "user", ID: before.AssignedTo.ID, Name: before.AssignedTo.Name, Role: "previous_assignee"}}
		return e, nil
	})
	return row.asset(), err
}

// ChangeStatus moves the asset to another status and records
// asset.status_changed. Moving an assigned asset elsewhere ends its
// assignment in the same change. Setting the status it has records nothing.
func (s *AssetService) ChangeStatus(ctx context.Context, p activity.Principal, id string, in domain.StatusChange) (domain.Asset, error) {
	in.Status = strings.TrimSpace(in.Status)
	switch in.Status {
	case domain.AssetAvailable, domain.AssetMaintenance, domain.AssetRetired, domain.AssetLost:
	case domain.AssetAssigned:
		return domain.Asset{}, activity.Errorf(activity.EINVALID, "status", "an asset becomes assigned by assigning it to a member")
	default:
		return domain.Asset{}, activity.Errorf(activity.EINVALID, "status", "status must be one of available, in_maintenance, retired, lost")
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return domain.Asset{}, err
	}
	row, err := s.change(ctx, p, domain.ManageAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		if row.Status == in.Status {
			return nil, nil
		}
		before := row.asset()
		row.Status = in.Status
		row.AssignedTo, row.AssignedAt, row.AssigneeName = nil, nil, ""
		if err := saveAsset(ctx, tx, row, now, "status", "assigned_to", "assigned_at"); err != nil {
			return nil, err
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.status_changed", now, *row)
		if err != nil {
			return nil, err
		}
		e.Changes, e.Note = domain.Changes(before, row.asset()), strings.TrimSpace(in.Note)
		if before.AssignedTo != nil {
			e.Related = []activity.Resource{{Type: "user", ID: before.AssignedTo.ID, Name: before.AssignedTo.Name, Role: "previous_assignee"}}
		}
		return e, nil
	})
	return row.asset(), err
}
