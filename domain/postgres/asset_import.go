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

// ImportAssets creates every row as an asset in one transaction, so that an
// import lands completely or not at all, and records one asset.created per
// row with the method import and the import's id in the details. It
// returns EINVALID or ECONFLICT naming the row (rows[2].asset_tag).
func (s *AssetService) ImportAssets(ctx context.Context, p activity.Principal, in []domain.AssetCreate) ([]domain.Asset, error) {
	if err := domain.Require(p, domain.ManageAssets); err != nil {
		return nil, err
	}
	switch {
	case len(in) == 0:
		return nil, activity.Errorf(activity.EINVALID, "rows", "the import has no rows")
	case len(in) > domain.MaxImportRows:
		return nil, activity.Errorf(activity.EINVALID, "rows", "the import has %d rows; at most %d are taken at once", len(in), domain.MaxImportRows)
	}
	tags := map[string]int{}
	for i := range in {
		in[i].Normalize()
		if err := in[i].Validate(); err != nil {
			return nil, rowError(i, err)
		}
		if in[i].Status == domain.AssetAssigned {
			return nil, activity.Errorf(activity.EINVALID, fmt.Sprintf("rows[%d].status", i), "row %d: import the asset first, then assign it to a member", i+1)
		}
		if t := in[i].AssetTag; t != "" {
			if j, dup := tags[t]; dup {
				return nil, activity.Errorf(activity.ECONFLICT, fmt.Sprintf("rows[%d].asset_tag", i), "row %d: asset tag %q is also in row %d", i+1, t, j+1)
			}
			tags[t] = i
		}
	}
	importID := uuid.NewString()
	rows := make([]assetRow, len(in))
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		events := make([]activity.Event, len(in))
		for i, a := range in {
			rows[i] = assetRow{
				ID: uuid.NewString(), WorkspaceID: p.WorkspaceID, Name: a.Name, AssetTag: a.AssetTag, Serial: a.Serial,
				Category: a.Category, Status: a.Status, Value: a.Value, Currency: a.Currency, Location: a.Location,
				PurchaseDate: a.PurchaseDate, CreatedAt: now, UpdatedAt: now,
			}
			// One row at a time, so that a taken tag names its row.
			if _, err := tx.NewInsert().Model(&rows[i]).Exec(ctx); err != nil {
				if isUniqueViolation(err, "assets_tag_key") {
					return activity.Errorf(activity.ECONFLICT, fmt.Sprintf("rows[%d].asset_tag", i), "row %d: asset tag %q is already in use", i+1, a.AssetTag)
				}
				return fmt.Errorf("insert imported asset: %w", err)
			}
			e := newEvent(ctx, ws, p, "asset.created", now, rows[i].resource())
			e.Context.Method = activity.MethodImport
			e.Changes, e.Note = domain.Changes(domain.Asset{}, rows[i].asset()), a.Note
			detail(&e, "import_id", importID)
			detail(&e, "import_row", i+1)
			events[i] = e
		}
		return s.db.recordEvents(ctx, tx, events...)
	})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Asset, len(rows))
	for i, r := range rows {
		out[i] = r.asset()
	}
	return out, nil
}

// rowError names the row in a validation error of one imported asset.
func rowError(i int, err error) error {
	field := fmt.Sprintf("rows[%d]", i)
	if f := activity.ErrorField(err); f != "" {
		field += "." + f
	}
	return activity.Errorf(activity.ErrorCode(err), field, "row %d: %s", i+1, activity.ErrorMessage(err))
}
