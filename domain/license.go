package domain

import (
	"context"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// Limits on license input.
const (
	MaxLicenseSeats  = 1_000_000
	MaxLicenseKeyLen = 1000
)

// License is a software license the workspace holds. Its key is kept
// encrypted and never appears here: HasKey says whether there is one, and
// reading it is an action of its own (LicenseService.RevealKey).
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
	ExpiresOn   *Date      `json:"expires_on"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
}

// LicenseAudit is a license as its events describe it, for Changes. Key
// holds only a state word (KeySet, KeyReplaced or empty), never the key, and
// is reported as a redacted change. Assignee is set by seat events only.
type LicenseAudit struct {
	Name      string   `json:"name"`
	Vendor    string   `json:"vendor"`
	Seats     int      `json:"seats"`
	SeatsUsed int      `json:"seats_used"`
	Key       string   `json:"key" audit:"secret"`
	Value     string   `json:"value"`
	Currency  string   `json:"currency"`
	ExpiresOn *Date    `json:"expires_on"`
	Assignee  *UserRef `json:"assignee"`
}

// States of LicenseAudit.Key.
const (
	KeySet      = "set"
	KeyReplaced = "replaced"
)

// LicenseCreate is the input of a new license. Note says why, and goes
// into the event.
type LicenseCreate struct {
	Name     string `json:"name"`
	Vendor   string `json:"vendor"`
	Seats    int    `json:"seats"`
	Key      string `json:"key"`
	Value    string `json:"value"`
	Currency string `json:"currency"`
	// ExpiresOn is YYYY-MM-DD, or empty for a license that does not expire.
	ExpiresOn string `json:"expires_on"`
	Note      string `json:"note"`
}

// Normalize trims the input, upper-cases the currency and writes a value
// with two decimals, as it is stored.
func (in *LicenseCreate) Normalize() {
	for _, s := range []*string{&in.Name, &in.Vendor, &in.Key, &in.Value, &in.Currency, &in.ExpiresOn, &in.Note} {
		*s = strings.TrimSpace(*s)
	}
	in.Currency = strings.ToUpper(in.Currency)
	in.Value = twoDecimals(in.Value)
}

// Validate returns an EINVALID error naming the first bad field. Its
// messages never quote the key. The name and vendor are one line of
// printable text; the key, which may come as a block, and the note may
// have line breaks.
func (in *LicenseCreate) Validate() error {
	if in.Name == "" {
		return activity.Errorf(activity.EINVALID, "name", "name is required")
	}
	if err := activity.ValidateLine("name", in.Name, 200); err != nil {
		return err
	}
	if err := activity.ValidateLine("vendor", in.Vendor, 200); err != nil {
		return err
	}
	if err := activity.ValidateText("key", in.Key, MaxLicenseKeyLen); err != nil {
		return err
	}
	switch {
	case in.Seats < 1 || in.Seats > MaxLicenseSeats:
		return activity.Errorf(activity.EINVALID, "seats", "seats must be a whole number from 1 to %d", MaxLicenseSeats)
	case in.Value != "" && !moneyPattern.MatchString(in.Value):
		return activity.Errorf(activity.EINVALID, "value", "value must be a decimal amount such as 1299.00")
	case in.Value != "" && in.Currency == "":
		return activity.Errorf(activity.EINVALID, "currency", "currency is required with a value")
	case in.Currency != "" && !currencyPattern.MatchString(in.Currency):
		return activity.Errorf(activity.EINVALID, "currency", "currency must be a three-letter ISO 4217 code")
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return err
	}
	_, err := optionalDate("expires_on", in.ExpiresOn)
	return err
}

// Expiry returns ExpiresOn as a date, nil when empty. Call it after Validate.
func (in *LicenseCreate) Expiry() *Date {
	d, _ := optionalDate("expires_on", in.ExpiresOn)
	return d
}

// LicenseUpdate changes some fields of a license; nil fields stay as they
// are. An empty Key removes the key. The expiry is changed through
// renewals and corrections (ExpiryChange) only, so that each is recorded as
// what it is.
type LicenseUpdate struct {
	Name     *string `json:"name"`
	Vendor   *string `json:"vendor"`
	Seats    *int    `json:"seats"`
	Key      *string `json:"key"`
	Value    *string `json:"value"`
	Currency *string `json:"currency"`
	// ExpiresOn is refused with a pointer to renew and expiration.
	ExpiresOn *string `json:"expires_on"`
	Note      string  `json:"note"`
}

// Validate returns EINVALID for an update that changes nothing or that
// names expires_on. The fields themselves are checked by Apply's result.
func (in *LicenseUpdate) Validate() error {
	switch {
	case in.ExpiresOn != nil:
		return activity.Errorf(activity.EINVALID, "expires_on", "expires_on is changed by renewing the license or correcting its expiration, not by an edit")
	case in.Name == nil && in.Vendor == nil && in.Seats == nil && in.Key == nil && in.Value == nil && in.Currency == nil:
		return activity.Errorf(activity.EINVALID, "", "give at least one of name, vendor, seats, key, value, currency")
	}
	return nil
}

// Apply returns cur with the given fields replaced, normalized; validate
// the result with LicenseCreate.Validate.
func (in *LicenseUpdate) Apply(cur LicenseCreate) LicenseCreate {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&cur.Name, in.Name)
	set(&cur.Vendor, in.Vendor)
	set(&cur.Key, in.Key)
	set(&cur.Value, in.Value)
	set(&cur.Currency, in.Currency)
	if in.Seats != nil {
		cur.Seats = *in.Seats
	}
	cur.Note = in.Note
	cur.Normalize()
	return cur
}

// SeatChange gives a seat of a license to a member, or takes it back.
type SeatChange struct {
	UserID string `json:"user_id"`
	Note   string `json:"note"`
}

// Validate returns EINVALID for a missing user or a note ValidateNote
// refuses.
func (in *SeatChange) Validate() error {
	in.UserID, in.Note = strings.TrimSpace(in.UserID), strings.TrimSpace(in.Note)
	if in.UserID == "" {
		return activity.Errorf(activity.EINVALID, "user_id", "user_id is required")
	}
	return activity.ValidateNote(in.Note)
}

// ExpiryChange sets a license's expiration: a renewal (to a later date) or
// a correction (to any date).
type ExpiryChange struct {
	ExpiresOn string `json:"expires_on"`
	Note      string `json:"note"`
}

// Date validates the input and returns the new expiration. It returns
// EINVALID for a missing or malformed date or a note ValidateNote refuses.
func (in *ExpiryChange) Date() (Date, error) {
	in.ExpiresOn, in.Note = strings.TrimSpace(in.ExpiresOn), strings.TrimSpace(in.Note)
	if err := activity.ValidateNote(in.Note); err != nil {
		return Date{}, err
	}
	if in.ExpiresOn == "" {
		return Date{}, activity.Errorf(activity.EINVALID, "expires_on", "expires_on is required")
	}
	d, err := optionalDate("expires_on", in.ExpiresOn)
	if err != nil {
		return Date{}, err
	}
	return *d, nil
}

// CheckRenewal returns EINVALID unless next is later than the current
// expiration; a license without one may be renewed to any date.
func CheckRenewal(current *Date, next Date) error {
	// YYYY-MM-DD strings sort as the days do, whatever time zone the
	// dates were read in.
	if current != nil && next.String() <= current.String() {
		return activity.Errorf(activity.EINVALID, "expires_on", "a renewal must expire later than the current expiration, %s", current)
	}
	return nil
}

// LicenseDelete is the optional input of a deletion.
type LicenseDelete struct {
	Note string `json:"note"`
}

// LicenseService manages licenses and their seats. Every method that
// changes a license, or reveals its key, records one event in the same
// transaction. Unknown, malformed, deleted and other workspaces' license
// ids are all ENOTFOUND; a role without the permission gets EFORBIDDEN.
type LicenseService interface {
	// ListLicenses returns the workspace's licenses (ViewInventory).
	ListLicenses(ctx context.Context, p activity.Principal) ([]License, error)
	// FindLicense returns one license (ViewInventory).
	FindLicense(ctx context.Context, p activity.Principal, id string) (License, error)
	// CreateLicense records license.created (ManageLicenses). It returns
	// EINVALID for bad input.
	CreateLicense(ctx context.Context, p activity.Principal, in LicenseCreate) (License, error)
	// UpdateLicense records license.updated with every changed field
	// (ManageLicenses). It returns ECONFLICT for fewer seats than are in use.
	UpdateLicense(ctx context.Context, p activity.Principal, id string, in LicenseUpdate) (License, error)
	// DeleteLicense marks the license deleted, ends its seats and records
	// license.deleted with every field as it was (DeleteLicenses).
	DeleteLicense(ctx context.Context, p activity.Principal, id string, in LicenseDelete) error
	// AssignSeat records license.assigned (ManageLicenses). It returns
	// ENOTFOUND for a user outside the workspace and ECONFLICT when every
	// seat is taken, the user holds one already or is deactivated.
	AssignSeat(ctx context.Context, p activity.Principal, id string, in SeatChange) (License, error)
	// UnassignSeat records license.unassigned (ManageLicenses). It returns
	// ECONFLICT when the user holds no seat.
	UnassignSeat(ctx context.Context, p activity.Principal, id string, in SeatChange) (License, error)
	// RenewLicense records license.renewed (ManageLicenses). It returns
	// EINVALID unless the new date is later than the current one.
	RenewLicense(ctx context.Context, p activity.Principal, id string, in ExpiryChange) (License, error)
	// SetExpiration corrects the expiration to any date and records
	// license.expiration_updated (ManageLicenses).
	SetExpiration(ctx context.Context, p activity.Principal, id string, in ExpiryChange) (License, error)
	// RevealKey returns the license key and records license.key_viewed
	// (ViewLicenseKeys). It returns ENOTFOUND when the license has no key.
	RevealKey(ctx context.Context, p activity.Principal, id string) (string, error)
}

func optionalDate(field, s string) (*Date, error) {
	if s == "" {
		return nil, nil
	}
	d, err := ParseDate(s)
	if err != nil {
		return nil, activity.Errorf(activity.EINVALID, field, "%s must be a date of the form YYYY-MM-DD", field)
	}
	return &d, nil
}

// twoDecimals writes a valid amount as stored (numeric(14, 2)): "12.5"
// becomes "12.50" and "12" becomes "12.00". Anything else is left for
// Validate to refuse.
func twoDecimals(v string) string {
	if v == "" || !moneyPattern.MatchString(v) {
		return v
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole = strings.TrimLeft(whole, "0"); whole == "" {
		whole = "0"
	}
	return whole + "." + (frac + "00")[:2]
}
