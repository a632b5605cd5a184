package domain

import (
	"context"
	"regexp"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// Asset statuses.
const (
	AssetAvailable   = "available"
	AssetAssigned    = "assigned"
	AssetMaintenance = "in_maintenance"
	AssetRetired     = "retired"
	AssetLost        = "lost"
)

var assetStatuses = map[string]bool{AssetAvailable: true, AssetAssigned: true, AssetMaintenance: true, AssetRetired: true, AssetLost: true}

// Asset is a piece of equipment the workspace tracks.
type Asset struct {
	ID           string     `json:"id" audit:"-"`
	WorkspaceID  string     `json:"workspace_id" audit:"-"`
	Name         string     `json:"name"`
	AssetTag     string     `json:"asset_tag"`
	Serial       string     `json:"serial"`
	Category     string     `json:"category"`
	Status       string     `json:"status"`
	Value        string     `json:"value"`
	Currency     string     `json:"currency"`
	Location     string     `json:"location"`
	PurchaseDate *Date      `json:"purchase_date"`
	AssignedTo   *UserRef   `json:"assigned_to"`
	CreatedAt    time.Time  `json:"created_at" audit:"-"`
	UpdatedAt    time.Time  `json:"updated_at" audit:"-"`
	DeletedAt    *time.Time `json:"deleted_at,omitempty" audit:"-"`
}

// AssetCreate is the input of a new asset. Note says why, and goes into the event.
type AssetCreate struct {
	Name         string `json:"name"`
	AssetTag     string `json:"asset_tag"`
	Serial       string `json:"serial"`
	Category     string `json:"category"`
	Status       string `json:"status"`
	Value        string `json:"value"`
	Currency     string `json:"currency"`
	Location     string `json:"location"`
	PurchaseDate *Date  `json:"purchase_date"`
	Note         string `json:"note"`
}

var (
	moneyPattern    = regexp.MustCompile(`^\d{1,12}(\.\d{1,2})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Normalize trims the input and fills in defaults.
func (in *AssetCreate) Normalize() {
	for _, s := range []*string{&in.Name, &in.AssetTag, &in.Serial, &in.Category, &in.Status, &in.Value, &in.Currency, &in.Location, &in.Note} {
		*s = strings.TrimSpace(*s)
	}
	in.Currency = strings.ToUpper(in.Currency)
	if in.Status == "" {
		in.Status = AssetAvailable
	}
}

// Validate returns an EINVALID error naming the first bad field. Names,
// tags, serials, categories and locations are one line of printable text;
// the note may have line breaks.
func (in *AssetCreate) Validate() error {
	if in.Name == "" {
		return activity.Errorf(activity.EINVALID, "name", "name is required")
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"name", in.Name, 200}, {"asset_tag", in.AssetTag, 64}, {"serial", in.Serial, 128}, {"category", in.Category, 100}, {"location", in.Location, 200}} {
		if err := activity.ValidateLine(f.field, f.value, f.max); err != nil {
			return err
		}
	}
	switch {
	case !assetStatuses[in.Status]:
		return activity.Errorf(activity.EINVALID, "status", "status must be one of available, assigned, in_maintenance, retired, lost")
	case in.Value != "" && !moneyPattern.MatchString(in.Value):
		return activity.Errorf(activity.EINVALID, "value", "value must be a decimal amount such as 1299.00")
	case in.Value != "" && in.Currency == "":
		return activity.Errorf(activity.EINVALID, "currency", "currency is required with a value")
	case in.Currency != "" && !currencyPattern.MatchString(in.Currency):
		return activity.Errorf(activity.EINVALID, "currency", "currency must be a three-letter ISO 4217 code")
	}
	return activity.ValidateNote(in.Note)
}

// MaxImportRows bounds one import.
const MaxImportRows = 5000

// AssetUpdate edits an asset; nil fields stay as they are. Status and
// assignment have their own actions.
type AssetUpdate struct {
	Name         *string `json:"name"`
	AssetTag     *string `json:"asset_tag"`
	Serial       *string `json:"serial"`
	Category     *string `json:"category"`
	Value        *string `json:"value"`
	Currency     *string `json:"currency"`
	Location     *string `json:"location"`
	PurchaseDate *Date   `json:"purchase_date"`
	Note         string  `json:"note"`
}

// Apply returns the asset input that results from applying u to a.
func (u AssetUpdate) Apply(a Asset) AssetCreate {
	in := AssetCreate{Name: a.Name, AssetTag: a.AssetTag, Serial: a.Serial, Category: a.Category, Status: a.Status,
		Value: a.Value, Currency: a.Currency, Location: a.Location, PurchaseDate: a.PurchaseDate, Note: u.Note}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&in.Name, u.Name}, {&in.AssetTag, u.AssetTag}, {&in.Serial, u.Serial}, {&in.Category, u.Category}, {&in.Value, u.Value}, {&in.Currency, u.Currency}, {&in.Location, u.Location}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if u.PurchaseDate != nil {
		in.PurchaseDate = u.PurchaseDate
	}
	return in
}

// AssetAssignment hands an asset to a member.
type AssetAssignment struct {
	UserID string `json:"user_id"`
	Note   string `json:"note"`
}

// StatusChange moves an asset to another status. Assigned is reached only
// by assigning; moving an assigned asset to another status ends the
// assignment.
type StatusChange struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

// Maintenance is work planned or done on an asset.
type Maintenance struct {
	ID           string     `json:"id"`
	AssetID      string     `json:"asset_id"`
	ScheduledFor Date       `json:"scheduled_for"`
	Description  string     `json:"description"`
	CreatedBy    UserRef    `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	CompletedAt  *time.Time `json:"completed_at"`
	Outcome      string     `json:"outcome"`
}

// MaintenanceSchedule plans maintenance of an asset.
type MaintenanceSchedule struct {
	ScheduledFor *Date  `json:"scheduled_for"`
	Description  string `json:"description"`
	Note         string `json:"note"`
}

// MaintenanceCompletion closes planned maintenance with what was done.
type MaintenanceCompletion struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

// AssetImage is a picture of an asset.
type AssetImage struct {
	ID          string    `json:"id"`
	AssetID     string    `json:"asset_id"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	UploadedBy  UserRef   `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// ImageUpload is an uploaded file as received.
type ImageUpload struct {
	FileName string
	Data     []byte
}

// ImageStore keeps the files of asset images.
type ImageStore interface {
	// Put writes data under name, completely or not at all.
	Put(name string, data []byte) error
	// Get reads the file stored under name.
	Get(name string) ([]byte, error)
	// Delete removes the file; a missing file is not an error.
	Delete(name string) error
}

// AssetService manages assets. Every method that changes an asset records
// its event in the same transaction as the change. Ids of other
// workspaces, malformed ids and deleted assets are ENOTFOUND.
type AssetService interface {
	ListAssets(ctx context.Context, p activity.Principal) ([]Asset, error)
	FindAsset(ctx context.Context, p activity.Principal, id string) (Asset, error)
	// CreateAsset returns EINVALID for bad input and ECONFLICT for an asset
	// tag already in use.
	CreateAsset(ctx context.Context, p activity.Principal, in AssetCreate) (Asset, error)
	// ImportAssets creates many assets at once, all or none, each recorded
	// as asset.created with the import method. Errors name the row.
	ImportAssets(ctx context.Context, p activity.Principal, rows []AssetCreate) ([]Asset, error)
	UpdateAsset(ctx context.Context, p activity.Principal, id string, in AssetUpdate) (Asset, error)
	DeleteAsset(ctx context.Context, p activity.Principal, id, note string) error
	AssignAsset(ctx context.Context, p activity.Principal, id string, in AssetAssignment) (Asset, error)
	UnassignAsset(ctx context.Context, p activity.Principal, id, note string) (Asset, error)
	ChangeStatus(ctx context.Context, p activity.Principal, id string, in StatusChange) (Asset, error)
	ScheduleMaintenance(ctx context.Context, p activity.Principal, id string, in MaintenanceSchedule) (Maintenance, error)
	CompleteMaintenance(ctx context.Context, p activity.Principal, id, maintenanceID string, in MaintenanceCompletion) (Maintenance, error)
	ListMaintenance(ctx context.Context, p activity.Principal, id string) ([]Maintenance, error)
	UploadImage(ctx context.Context, p activity.Principal, id string, in ImageUpload) (AssetImage, error)
	ListImages(ctx context.Context, p activity.Principal, id string) ([]AssetImage, error)
	// ImageFile returns an image and its bytes.
	ImageFile(ctx context.Context, p activity.Principal, id, imageID string) (AssetImage, []byte, error)
}
