package domain

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

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

// Validate returns an EINVALID error naming the first bad field.
func (in *AssetCreate) Validate() error {
	switch {
	case in.Name == "":
		return activity.Errorf(activity.EINVALID, "name", "name is required")
	case utf8.RuneCountInString(in.Name) > 200:
		return activity.Errorf(activity.EINVALID, "name", "name is longer than 200 characters")
	case utf8.RuneCountInString(in.AssetTag) > 64:
		return activity.Errorf(activity.EINVALID, "asset_tag", "asset_tag is longer than 64 characters")
	case utf8.RuneCountInString(in.Serial) > 128:
		return activity.Errorf(activity.EINVALID, "serial", "serial is longer than 128 characters")
	case utf8.RuneCountInString(in.Category) > 100:
		return activity.Errorf(activity.EINVALID, "category", "category is longer than 100 characters")
	case !assetStatuses[in.Status]:
		return activity.Errorf(activity.EINVALID, "status", "status must be one of available, assigned, in_maintenance, retired, lost")
	case in.Value != "" && !moneyPattern.MatchString(in.Value):
		return activity.Errorf(activity.EINVALID, "value", "value must be a decimal amount such as 1299.00")
	case in.Value != "" && in.Currency == "":
		return activity.Errorf(activity.EINVALID, "currency", "currency is required with a value")
	case in.Currency != "" && !currencyPattern.MatchString(in.Currency):
		return activity.Errorf(activity.EINVALID, "currency", "currency must be a three-letter ISO 4217 code")
	case utf8.RuneCountInString(in.Location) > 200:
		return activity.Errorf(activity.EINVALID, "location", "location is longer than 200 characters")
	case utf8.RuneCountInString(in.Note) > 2000:
		return activity.Errorf(activity.EINVALID, "note", "note is longer than 2000 characters")
	}
	return nil
}

// AssetService manages assets. Every method records its event in the same
// transaction as the change.
type AssetService interface {
	// CreateAsset creates an asset in the caller's workspace. It returns
	// EINVALID for bad input and ECONFLICT for an asset tag already in use.
	CreateAsset(ctx context.Context, p activity.Principal, in AssetCreate) (Asset, error)
}
