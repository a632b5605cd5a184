package client

import (
	"context"
	"time"
)

// Asset is a piece of the workspace's equipment.
type Asset struct {
	ID           string     `json:"id"`
	WorkspaceID  string     `json:"workspace_id"`
	Name         string     `json:"name"`
	AssetTag     string     `json:"asset_tag"`
	Serial       string     `json:"serial"`
	Category     string     `json:"category"`
	Status       string     `json:"status"`
	Value        string     `json:"value"`
	Currency     string     `json:"currency"`
	Location     string     `json:"location"`
	PurchaseDate *string    `json:"purchase_date"`
	AssignedTo   *UserRef   `json:"assigned_to"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	DeletedAt    *time.Time `json:"deleted_at,omitempty"`
}

// AssetCreate is a new asset: Name is required; Value is a decimal string
// such as "1299.00" with Currency in ISO 4217, PurchaseDate YYYY-MM-DD.
type AssetCreate struct {
	Name         string `json:"name"`
	AssetTag     string `json:"asset_tag,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Category     string `json:"category,omitempty"`
	Status       string `json:"status,omitempty"`
	Value        string `json:"value,omitempty"`
	Currency     string `json:"currency,omitempty"`
	Location     string `json:"location,omitempty"`
	PurchaseDate string `json:"purchase_date,omitempty"`
	Note         string `json:"note,omitempty"`
}

// AssetUpdate changes the fields that are not nil.
type AssetUpdate struct {
	Name         *string `json:"name,omitempty"`
	AssetTag     *string `json:"asset_tag,omitempty"`
	Serial       *string `json:"serial,omitempty"`
	Category     *string `json:"category,omitempty"`
	Value        *string `json:"value,omitempty"`
	Currency     *string `json:"currency,omitempty"`
	Location     *string `json:"location,omitempty"`
	PurchaseDate *string `json:"purchase_date,omitempty"`
	Note         string  `json:"note,omitempty"`
}

// Assets lists the workspace's assets.
func (c *Client) Assets(ctx context.Context) ([]Asset, error) {
	var out struct {
		Assets []Asset `json:"assets"`
	}
	if err := c.do(ctx, "GET", "/api/v1/assets", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Assets, nil
}

// CreateAsset creates an asset; a bad field is an *Error with code invalid
// naming it, a tag in use one with code conflict.
func (c *Client) CreateAsset(ctx context.Context, in AssetCreate) (*Asset, error) {
	return c.asset(ctx, "POST", "/api/v1/assets", in)
}

// Asset returns one asset.
func (c *Client) Asset(ctx context.Context, assetID string) (*Asset, error) {
	return c.asset(ctx, "GET", "/api/v1/assets/"+id(assetID), nil)
}

// UpdateAsset changes the given fields of an asset.
func (c *Client) UpdateAsset(ctx context.Context, assetID string, in AssetUpdate) (*Asset, error) {
	return c.asset(ctx, "PATCH", "/api/v1/assets/"+id(assetID), in)
}

// DeleteAsset deletes an asset softly, with a note saying why.
func (c *Client) DeleteAsset(ctx context.Context, assetID, why string) error {
	return c.do(ctx, "DELETE", "/api/v1/assets/"+id(assetID), nil, note{why}, nil)
}

// AssignAsset hands an asset to a member.
func (c *Client) AssignAsset(ctx context.Context, assetID, userID, why string) (*Asset, error) {
	return c.asset(ctx, "POST", "/api/v1/assets/"+id(assetID)+"/assign", map[string]string{"user_id": userID, "note": why})
}

// UnassignAsset takes an asset back from its member.
func (c *Client) UnassignAsset(ctx context.Context, assetID, why string) (*Asset, error) {
	return c.asset(ctx, "POST", "/api/v1/assets/"+id(assetID)+"/unassign", note{why})
}

// SetAssetStatus moves an asset to available, in_maintenance, retired or
// lost.
func (c *Client) SetAssetStatus(ctx context.Context, assetID, status, why string) (*Asset, error) {
	return c.asset(ctx, "PUT", "/api/v1/assets/"+id(assetID)+"/status", map[string]string{"status": status, "note": why})
}

func (c *Client) asset(ctx context.Context, method, path string, in any) (*Asset, error) {
	var a Asset
	if err := c.do(ctx, method, path, nil, in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// License is a software license and its seats; its key is never part of
// it (HasKey says whether there is one; LicenseKey reveals it).
type License struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	Name        string     `json:"name"`
	Vendor      string     `json:"vendor"`
	Seats       int        `json:"seats"`
	SeatsUsed   int        `json:"seats_used"`
	Assignees   []UserRef  `json:"assignees"`
	HasKey      bool       `json:"has_key"`
	Value       string     `json:"value"`
	Currency    string     `json:"currency"`
	ExpiresOn   *string    `json:"expires_on"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
}

// LicenseCreate is a new license; ExpiresOn is YYYY-MM-DD.
type LicenseCreate struct {
	Name      string `json:"name"`
	Vendor    string `json:"vendor,omitempty"`
	Seats     int    `json:"seats"`
	Key       string `json:"key,omitempty"`
	Value     string `json:"value,omitempty"`
	Currency  string `json:"currency,omitempty"`
	ExpiresOn string `json:"expires_on,omitempty"`
	Note      string `json:"note,omitempty"`
}

// LicenseUpdate changes the fields that are not nil.
type LicenseUpdate struct {
	Name      *string `json:"name,omitempty"`
	Vendor    *string `json:"vendor,omitempty"`
	Seats     *int    `json:"seats,omitempty"`
	Key       *string `json:"key,omitempty"`
	Value     *string `json:"value,omitempty"`
	Currency  *string `json:"currency,omitempty"`
	ExpiresOn *string `json:"expires_on,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// Licenses lists the workspace's licenses.
func (c *Client) Licenses(ctx context.Context) ([]License, error) {
	var out struct {
		Licenses []License `json:"licenses"`
	}
	if err := c.do(ctx, "GET", "/api/v1/licenses", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Licenses, nil
}

// CreateLicense creates a license.
func (c *Client) CreateLicense(ctx context.Context, in LicenseCreate) (*License, error) {
	return c.license(ctx, "POST", "/api/v1/licenses", in)
}

// License returns one license.
func (c *Client) License(ctx context.Context, licenseID string) (*License, error) {
	return c.license(ctx, "GET", "/api/v1/licenses/"+id(licenseID), nil)
}

// UpdateLicense changes the given fields of a license.
func (c *Client) UpdateLicense(ctx context.Context, licenseID string, in LicenseUpdate) (*License, error) {
	return c.license(ctx, "PATCH", "/api/v1/licenses/"+id(licenseID), in)
}

// DeleteLicense deletes a license softly and ends its seats.
func (c *Client) DeleteLicense(ctx context.Context, licenseID, why string) error {
	return c.do(ctx, "DELETE", "/api/v1/licenses/"+id(licenseID), nil, note{why}, nil)
}

// AssignLicense gives a member a seat; no free seat is an *Error with code
// conflict.
func (c *Client) AssignLicense(ctx context.Context, licenseID, userID, why string) (*License, error) {
	return c.license(ctx, "POST", "/api/v1/licenses/"+id(licenseID)+"/assign", map[string]string{"user_id": userID, "note": why})
}

// UnassignLicense takes a member's seat back.
func (c *Client) UnassignLicense(ctx context.Context, licenseID, userID, why string) (*License, error) {
	return c.license(ctx, "POST", "/api/v1/licenses/"+id(licenseID)+"/unassign", map[string]string{"user_id": userID, "note": why})
}

// RenewLicense moves the expiry later, to expiresOn (YYYY-MM-DD).
func (c *Client) RenewLicense(ctx context.Context, licenseID, expiresOn, why string) (*License, error) {
	return c.license(ctx, "POST", "/api/v1/licenses/"+id(licenseID)+"/renew", map[string]string{"expires_on": expiresOn, "note": why})
}

// LicenseKey reveals a license's key; the view is recorded.
func (c *Client) LicenseKey(ctx context.Context, licenseID string) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	if err := c.do(ctx, "GET", "/api/v1/licenses/"+id(licenseID)+"/key", nil, nil, &out); err != nil {
		return "", err
	}
	return out.Key, nil
}

func (c *Client) license(ctx context.Context, method, path string, in any) (*License, error) {
	var l License
	if err := c.do(ctx, method, path, nil, in, &l); err != nil {
		return nil, err
	}
	return &l, nil
}
