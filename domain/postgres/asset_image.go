package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type imageRow struct {
	bun.BaseModel `bun:"table:asset_images,alias:img"`
	ID            string    `bun:"id,pk,type:uuid"`
	WorkspaceID   string    `bun:"workspace_id,type:uuid"`
	AssetID       string    `bun:"asset_id,type:uuid"`
	FileName      string    `bun:"file_name"`
	ContentType   string    `bun:"content_type"`
	Size          int64     `bun:"size"`
	Path          string    `bun:"path"`
	UploadedBy    string    `bun:"uploaded_by,type:uuid"`
	CreatedAt     time.Time `bun:"created_at"`
	UploaderName  string    `bun:"uploader_name,scanonly"`
}

func (r imageRow) image() domain.AssetImage {
	return domain.AssetImage{ID: r.ID, AssetID: r.AssetID, FileName: r.FileName, ContentType: r.ContentType, Size: r.Size,
		UploadedBy: domain.UserRef{ID: r.UploadedBy, Name: r.UploaderName}, CreatedAt: r.CreatedAt}
}

// UploadImage stores a picture of the asset and records
// asset.image_uploaded with the file's name, size and type. The file is
// written before the transaction and removed again if it fails, so that a
// failure leaves neither a row nor a file behind. It returns EINVALID for a
// file the image policy refuses.
func (s *AssetService) UploadImage(ctx context.Context, p activity.Principal, id string, in domain.ImageUpload) (domain.AssetImage, error) {
	if err := domain.Require(p, domain.ManageAssets); err != nil {
		return domain.AssetImage{}, err
	}
	if s.Images == nil {
		return domain.AssetImage{}, fmt.Errorf("upload image: no image store is configured")
	}
	if _, err := s.asset(ctx, s.db, p.WorkspaceID, id, false); err != nil {
		return domain.AssetImage{}, err
	}
	contentType, ext, err := s.ImagePolicy.Check(in)
	if err != nil {
		return domain.AssetImage{}, err
	}
	img := imageRow{ID: uuid.NewString(), WorkspaceID: p.WorkspaceID, AssetID: id, FileName: in.FileName, ContentType: contentType,
		Size: int64(len(in.Data)), UploadedBy: p.UserID, UploaderName: p.Name}
	img.Path = p.WorkspaceID + "/" + id + "/" + img.ID + ext
	if err := s.Images.Put(img.Path, in.Data); err != nil {
		return domain.AssetImage{}, err
	}
	_, err = s.change(ctx, p, domain.ManageAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		img.CreatedAt = now
		if _, err := tx.NewInsert().Model(&img).Exec(ctx); err != nil {
			return nil, fmt.Errorf("insert image: %w", err)
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.image_uploaded", now, *row)
		if err != nil {
			return nil, err
		}
		e.Related = []activity.Resource{{Type: "image", ID: img.ID, Name: img.FileName, Role: "image"}}
		detail(e, "file_name", img.FileName)
		detail(e, "size", img.Size)
		detail(e, "content_type", img.ContentType)
		return e, nil
	})
	if err != nil {
		if rmErr := s.Images.Delete(img.Path); rmErr != nil {
			return domain.AssetImage{}, errors.Join(err, rmErr)
		}
		return domain.AssetImage{}, err
	}
	return img.image(), nil
}

// ListImages returns the asset's images, newest first.
func (s *AssetService) ListImages(ctx context.Context, p activity.Principal, id string) ([]domain.AssetImage, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return nil, err
	}
	if _, err := s.asset(ctx, s.db, p.WorkspaceID, id, false); err != nil {
		return nil, err
	}
	var rows []imageRow
	err := s.db.NewSelect().Model(&rows).ColumnExpr("img.*, u.name AS uploader_name").Join("JOIN users AS u ON u.id = img.uploaded_by").
		Where("img.asset_id = ?", id).OrderExpr("img.created_at DESC, img.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select images: %w", err)
	}
	out := make([]domain.AssetImage, len(rows))
	for i, r := range rows {
		out[i] = r.image()
	}
	return out, nil
}

// ImageFile returns one image of the asset and its bytes, or ENOTFOUND.
func (s *AssetService) ImageFile(ctx context.Context, p activity.Principal, id, imageID string) (domain.AssetImage, []byte, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return domain.AssetImage{}, nil, err
	}
	if _, err := s.asset(ctx, s.db, p.WorkspaceID, id, false); err != nil {
		return domain.AssetImage{}, nil, err
	}
	notFound := activity.Errorf(activity.ENOTFOUND, "", "image %q not found", imageID)
	if !validID(imageID) || s.Images == nil {
		return domain.AssetImage{}, nil, notFound
	}
	var img imageRow
	err := s.db.NewSelect().Model(&img).ColumnExpr("img.*, u.name AS uploader_name").Join("JOIN users AS u ON u.id = img.uploaded_by").
		Where("img.id = ? AND img.asset_id = ?", imageID, id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.AssetImage{}, nil, notFound
	}
	if err != nil {
		return domain.AssetImage{}, nil, fmt.Errorf("select image: %w", err)
	}
	data, err := s.Images.Get(img.Path)
	if err != nil {
		return domain.AssetImage{}, nil, err
	}
	return img.image(), data, nil
}
