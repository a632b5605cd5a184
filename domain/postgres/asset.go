package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type assetRow struct {
	bun.BaseModel `bun:"table:assets"`
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
	CreatedAt     time.Time    `bun:"created_at"`
	UpdatedAt     time.Time    `bun:"updated_at"`
	DeletedAt     *time.Time   `bun:"deleted_at"`
}

func (r assetRow) asset() domain.Asset {
	return domain.Asset{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, AssetTag: r.AssetTag, Serial: r.Serial,
		Category: r.Category, Status: r.Status, Value: r.Value, Currency: r.Currency, Location: r.Location,
		PurchaseDate: r.PurchaseDate, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeletedAt: r.DeletedAt,
	}
}

// AssetService stores assets and records their events.
type AssetService struct{ db *DB }

// NewAssetService returns the asset service of db.
func NewAssetService(db *DB) *AssetService { return &AssetService{db: db} }

// CreateAsset creates an asset in the caller's workspace and records
// asset.created with every field that was set.
func (s *AssetService) CreateAsset(ctx context.Context, p activity.Principal, in domain.AssetCreate) (domain.Asset, error) {
	if p.Role == activity.RoleViewer {
		return domain.Asset{}, activity.Errorf(activity.EFORBIDDEN, "", "viewers cannot create assets")
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return domain.Asset{}, err
	}
	var row assetRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		row = assetRow{
			ID: uuid.NewString(), WorkspaceID: p.WorkspaceID, Name: in.Name, AssetTag: in.AssetTag, Serial: in.Serial,
			Category: in.Category, Status: in.Status, Value: in.Value, Currency: in.Currency, Location: in.Location,
			PurchaseDate: in.PurchaseDate, CreatedAt: now, UpdatedAt: now,
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if isUniqueViolation(err, "assets_tag_key") {
				return activity.Errorf(activity.ECONFLICT, "asset_tag", "asset tag %q is already in use", in.AssetTag)
			}
			return fmt.Errorf("insert asset: %w", err)
		}
		e := activity.NewEvent(p.WorkspaceID, "asset.created", now)
		e.Actor = p.Actor()
		e.Resource = activity.Resource{Type: "asset", ID: row.ID, Name: row.Name}
		e.Changes = domain.Changes(domain.Asset{}, row.asset())
		e.Context = domain.EventContext(ctx, p.SessionID, ws.TimeZone)
		e.Note = in.Note
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.Asset{}, err
	}
	return row.asset(), nil
}
