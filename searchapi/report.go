package searchapi

import (
	"context"
	"slices"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// Types of report.
const (
	ReportUser     = "user"
	ReportAsset    = "asset"
	ReportLicense  = "license"
	ReportSecurity = "security"
)

// ReportTypes lists the types of report in the order the product shows them.
var ReportTypes = []string{ReportUser, ReportAsset, ReportLicense, ReportSecurity}

// Bounds of a report's lists; every total is counted over all the actions
// whatever the bounds.
const (
	// ReportTop bounds the ranked lists: users, assets, licenses, accounts
	// and addresses.
	ReportTop = 20
	// ReportMostActive bounds the most active users.
	ReportMostActive = 10
	// ReportActions bounds the actions of the feature usage; the platform
	// records fewer.
	ReportActions = 50
	// ReportEntries bounds the logs of single actions — key views,
	// maintenance, renewals, permission changes — to the newest ones.
	ReportEntries = 100
	// MaxReportStatusChanges is the most asset status changes the from→to
	// counts are read from; a period with more is counted from the newest
	// ones and marked incomplete.
	MaxReportStatusChanges = 10000
)

// ReportQuery is what a caller asks a report for, as the API takes it. Its
// period follows the analyses' rules: Range, or From and To, read in the
// workspace's time zone, DefaultRange when neither is given.
type ReportQuery struct {
	Type  string `json:"type"`
	Range string `json:"range,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	// Users are the ids of the users whose actions the report covers;
	// none means everyone the caller may see.
	Users []string `json:"users,omitempty"`
	// ActivityTypes are categories (asset, license, user, auth, system),
	// actions such as license.key_viewed, or all actions of a resource such
	// as license.*; none means every action.
	ActivityTypes []string `json:"activity_types,omitempty"`
}

// ReportRequest is a validated ReportQuery: the period resolved, the users
// and activity types in the form events store them.
type ReportRequest struct {
	Type          string
	Period        Period
	Users         []string
	ActivityTypes []string
}

// Request checks q and resolves its period as of now in loc. It returns
// EINVALID naming the bad field: type, range, from, to (a period outside
// the years 1 to 9999 in UTC included), users or activity_types. Users and activity types are put in the form events store
// them, without repeats, in order.
func (q ReportQuery) Request(now time.Time, loc *time.Location) (ReportRequest, error) {
	typ := strings.TrimSpace(q.Type)
	if typ == "" {
		return ReportRequest{}, activity.Errorf(activity.EINVALID, "type", "type is required: one of %s", strings.Join(ReportTypes, ", "))
	}
	if !slices.Contains(ReportTypes, typ) {
		return ReportRequest{}, activity.Errorf(activity.EINVALID, "type", "type must be one of %s", strings.Join(ReportTypes, ", "))
	}
	period, err := ResolvePeriod(PeriodQuery{From: q.From, To: q.To, Range: q.Range}, now, loc)
	if err != nil {
		return ReportRequest{}, err
	}
	// A report is kept with its period, which must be a time the database
	// stores: within the years 1 to 9999 in UTC too.
	if period.From.UTC().Year() < 1 {
		return ReportRequest{}, activity.Errorf(activity.EINVALID, "from", "from must be in the year 1 or later in UTC")
	}
	if period.To.UTC().Year() > 9999 {
		return ReportRequest{}, activity.Errorf(activity.EINVALID, "to", "to must be before the year 10000 in UTC")
	}
	users, err := values("users", q.Users, func(v string) (string, error) {
		if !IsID(v) {
			return "", activity.Errorf(activity.EINVALID, "users", "users: %q is not a user id", v)
		}
		return strings.ToLower(v), nil
	})
	if err != nil {
		return ReportRequest{}, err
	}
	types, err := values("activity_types", q.ActivityTypes, activityType)
	if err != nil {
		return ReportRequest{}, err
	}
	return ReportRequest{Type: typ, Period: period, Users: users, ActivityTypes: types}, nil
}

// Validate reports whether r can be answered: a known type, a valid period
// and users and activity types as Request makes them. It returns EINVALID
// naming the bad field.
func (r ReportRequest) Validate() error {
	if !slices.Contains(ReportTypes, r.Type) {
		return activity.Errorf(activity.EINVALID, "type", "type must be one of %s", strings.Join(ReportTypes, ", "))
	}
	if err := r.Period.Validate(); err != nil {
		return err
	}
	if len(r.Users) > MaxFilterValues {
		return activity.Errorf(activity.EINVALID, "users", "users lists more than %d values", MaxFilterValues)
	}
	for _, u := range r.Users {
		if !IsID(u) || u != strings.ToLower(u) {
			return activity.Errorf(activity.EINVALID, "users", "users: %q is not a user id", u)
		}
	}
	if len(r.ActivityTypes) > MaxFilterValues {
		return activity.Errorf(activity.EINVALID, "activity_types", "activity_types lists more than %d values", MaxFilterValues)
	}
	for _, t := range r.ActivityTypes {
		if n, err := activityType(t); err != nil || n != t {
			return activity.Errorf(activity.EINVALID, "activity_types", "activity_types: %q is neither a category nor an action the platform records", t)
		}
	}
	return nil
}

// Actions returns the actions the activity types name, categories aside:
// exact actions, and every action of a resource for resource.*.
func (r ReportRequest) Actions() []string {
	var out []string
	for _, t := range r.ActivityTypes {
		if res, ok := strings.CutSuffix(t, ".*"); ok {
			out = append(out, actionsOf(res)...)
		} else if strings.Contains(t, ".") {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Categories returns the categories among the activity types.
func (r ReportRequest) Categories() []string {
	var out []string
	for _, t := range r.ActivityTypes {
		if !strings.Contains(t, ".") {
			out = append(out, t)
		}
	}
	return out
}

// activityType checks one activity type and returns it in the form events
// store it.
func activityType(v string) (string, error) {
	v = strings.ToLower(v)
	switch {
	case slices.Contains(Categories, v), KnownAction(v):
		return v, nil
	}
	if res, ok := strings.CutSuffix(v, ".*"); ok && len(actionsOf(res)) > 0 {
		return v, nil
	}
	return "", activity.Errorf(activity.EINVALID, "activity_types",
		"activity_types: %q is neither a category (%s) nor an action the platform records, such as license.key_viewed or license.*", v, strings.Join(Categories, ", "))
}

// ReportResult is what the index says for a report: the actions it covers
// in all, and the sections of its type. Every figure covers only the
// actions the caller may see — the workspace's for owners and admins,
// their own for others — in the period, by the users and of the activity
// types asked for.
type ReportResult struct {
	Type   string `json:"type"`
	Period Period `json:"period"`
	// Total is how many actions the report covers.
	Total    int64           `json:"total"`
	User     *UserReport     `json:"user,omitempty"`
	Asset    *AssetReport    `json:"asset,omitempty"`
	License  *LicenseReport  `json:"license,omitempty"`
	Security *SecurityReport `json:"security,omitempty"`
	Custom   *CustomReport   `json:"custom,omitempty"`
}

// Person names a user as their latest action in the period names them.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Label is how a person is named in a table: the name, else the email,
// else the id.
func (p Person) Label() string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Email != "":
		return p.Email
	}
	return p.ID
}

// Thing names an asset or a license as its latest action in the period
// names it.
type Thing struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// UserReport is the user activity report.
type UserReport struct {
	ActionsPerUser  ActionsPerUser  `json:"actions_per_user"`
	MostActiveUsers MostActiveUsers `json:"most_active_users"`
	LoginFrequency  LoginFrequency  `json:"login_frequency"`
	FeatureUsage    FeatureUsage    `json:"feature_usage"`
}

// ActionsPerUser is how many actions users took, and each of the
// ReportTop busiest users' actions per category.
type ActionsPerUser struct {
	// Actions are the actions taken by users (not by the system or anonymous
	// callers), Users how many users took them, Average their quotient.
	Actions int64       `json:"actions"`
	Users   int64       `json:"users"`
	Average float64     `json:"average"`
	Entries []UserUsage `json:"entries"`
}

// UserUsage is one user's actions, in all and per category.
type UserUsage struct {
	Person
	Actions    int64            `json:"actions"`
	Categories map[string]int64 `json:"categories"`
}

// MostActiveUsers are the ReportMostActive users with the most actions,
// busiest first.
type MostActiveUsers struct {
	Entries []ActiveUser `json:"entries"`
}

// ActiveUser is one of the most active users: their actions, their share
// of all users' actions in percent, the days on which they acted and their
// last action.
type ActiveUser struct {
	Person
	Actions    int64     `json:"actions"`
	Share      float64   `json:"share"`
	ActiveDays int64     `json:"active_days"`
	LastAction time.Time `json:"last_action"`
}

// LoginFrequency is how often users log in: successful logins in all, per
// day and per week of the period, and for each of the ReportTop users who
// logged in most.
type LoginFrequency struct {
	Logins int64 `json:"logins"`
	Users  int64 `json:"users"`
	// Days is the length of the period in calendar days of the workspace's
	// time zone; PerDay and PerWeek divide the logins by it.
	Days    int         `json:"days"`
	PerDay  float64     `json:"per_day"`
	PerWeek float64     `json:"per_week"`
	Entries []UserLogin `json:"entries"`
}

// UserLogin is one user's logins: in all, the days they logged in on, and
// their logins per day and per week of the period.
type UserLogin struct {
	Person
	Logins    int64   `json:"logins"`
	LoginDays int64   `json:"login_days"`
	PerDay    float64 `json:"per_day"`
	PerWeek   float64 `json:"per_week"`
}

// FeatureUsage is the actions per category and per action, with the
// number of distinct users behind each, busiest first.
type FeatureUsage struct {
	Categories []CategoryUsage `json:"categories"`
	Actions    []ActionUsage   `json:"actions"`
}

// AssetReport is the asset activity report.
type AssetReport struct {
	MostModified  MostModifiedAssets `json:"most_modified_assets"`
	Assignments   AssetAssignments   `json:"assignment_frequency"`
	StatusChanges StatusChanges      `json:"status_changes"`
	Maintenance   MaintenanceHistory `json:"maintenance_history"`
}

// MostModifiedAssets are the successful changes of assets (the actions of
// AssetChanges) and the ReportTop assets with the most of them.
type MostModifiedAssets struct {
	Changes int64          `json:"changes"`
	Assets  int64          `json:"assets"`
	Entries []ChangedThing `json:"entries"`
}

// ChangedThing is an asset or a license and its successful changes, in
// all and per action.
type ChangedThing struct {
	Thing
	Changes int64            `json:"changes"`
	Actions map[string]int64 `json:"actions"`
}

// AssetAssignments are how often assets were assigned and taken back, and
// the ReportTop assets that changed hands most.
type AssetAssignments struct {
	Assigned   int64           `json:"assigned"`
	Unassigned int64           `json:"unassigned"`
	Entries    []AssignedThing `json:"entries"`
}

// AssignedThing is an asset, or a license's seats, and how often it was
// assigned and taken back.
type AssignedThing struct {
	Thing
	Assigned   int64 `json:"assigned"`
	Unassigned int64 `json:"unassigned"`
}

// AssignedPerson is a member and how many seats they were given.
type AssignedPerson struct {
	Thing
	Assigned int64 `json:"assigned"`
}

// StatusChanges count the changes of assets' status by the status before
// and after, read from the changes of successful asset actions other than
// creation and deletion: a status set by hand, and an assignment that made
// an asset assigned.
type StatusChanges struct {
	Changes int64 `json:"changes"`
	// Complete is false when the period held more than
	// MaxReportStatusChanges of them and only the newest were counted.
	Complete bool               `json:"complete"`
	Entries  []StatusTransition `json:"entries"`
}

// StatusTransition is how often assets went from one status to another.
type StatusTransition struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int64  `json:"count"`
}

// MaintenanceHistory is the maintenance scheduled and completed in the
// period, and the newest ReportEntries of them.
type MaintenanceHistory struct {
	Scheduled int64              `json:"scheduled"`
	Completed int64              `json:"completed"`
	Entries   []MaintenanceEntry `json:"entries"`
}

// MaintenanceEntry is one maintenance scheduled or completed.
type MaintenanceEntry struct {
	At time.Time `json:"at"`
	// Action is asset.maintenance_scheduled or asset.maintenance_completed.
	Action       string `json:"action"`
	Asset        Thing  `json:"asset"`
	By           Person `json:"by"`
	ScheduledFor string `json:"scheduled_for,omitempty"`
	Description  string `json:"description,omitempty"`
	Outcome      string `json:"outcome,omitempty"`
}

// LicenseReport is the license activity report.
type LicenseReport struct {
	Changes     LicenseChanges  `json:"license_changes"`
	Assignments SeatAssignments `json:"assignment_patterns"`
	KeyAccess   KeyAccessLog    `json:"key_access_log"`
	Renewals    RenewalActivity `json:"renewal_activity"`
}

// LicenseChanges are the successful creations, edits, deletions and
// expiration corrections of licenses, per action, and the ReportTop
// licenses changed most.
type LicenseChanges struct {
	Changes int64          `json:"changes"`
	Actions []ActionCount  `json:"actions"`
	Entries []ChangedThing `json:"entries"`
}

// ActionCount is how often one action happened.
type ActionCount struct {
	Action string `json:"action"`
	Count  int64  `json:"count"`
}

// SeatAssignments are the seats given and taken back, the ReportTop
// licenses whose seats changed hands most, and the members given most.
type SeatAssignments struct {
	Assigned   int64            `json:"assigned"`
	Unassigned int64            `json:"unassigned"`
	Entries    []AssignedThing  `json:"entries"`
	Assignees  []AssignedPerson `json:"assignees"`
}

// KeyAccessLog is who viewed which license key when: the views in all, how
// many people and licenses, and the newest ReportEntries views.
type KeyAccessLog struct {
	Views    int64      `json:"views"`
	Viewers  int64      `json:"viewers"`
	Licenses int64      `json:"licenses"`
	Entries  []KeyView  `json:"entries"`
	Top      []UserSeen `json:"viewers_by_views"`
}

// KeyView is one view of a license key.
type KeyView struct {
	At      time.Time `json:"at"`
	License Thing     `json:"license"`
	By      Person    `json:"by"`
	IP      string    `json:"ip,omitempty"`
}

// UserSeen is a person and how often they did something.
type UserSeen struct {
	Person
	Count int64 `json:"count"`
}

// RenewalActivity is the licenses renewed in the period, and the newest
// ReportEntries renewals with the expiry before and after.
type RenewalActivity struct {
	Renewals int64     `json:"renewals"`
	Licenses int64     `json:"licenses"`
	Entries  []Renewal `json:"entries"`
}

// Renewal is one renewal of a license.
type Renewal struct {
	At      time.Time `json:"at"`
	License Thing     `json:"license"`
	By      Person    `json:"by"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
}

// SecurityReport is the security report as the index tells it; the alerts
// raised in the period are added by the report service, which reads them
// from where they are kept.
type SecurityReport struct {
	LoginAttempts     LoginAttempts         `json:"login_attempts"`
	FailedAuth        FailedAuthentications `json:"failed_authentications"`
	PermissionChanges PermissionChanges     `json:"permission_changes"`
}

// LoginAttempts are the successful and failed logins, per day of the
// workspace's time zone (the days with any), and the successful ones by day
// of week and hour of day.
type LoginAttempts struct {
	Successful int64      `json:"successful"`
	Failed     int64      `json:"failed"`
	Days       []LoginDay `json:"days"`
	// Times[d][h] is the number of successful logins on day d+1 (1 =
	// Monday … 7 = Sunday) in hour h, in the workspace's time zone.
	Times [7][24]int64 `json:"times"`
}

// LoginDay is one day's login attempts.
type LoginDay struct {
	Day        string `json:"day"`
	Successful int64  `json:"successful"`
	Failed     int64  `json:"failed"`
}

// FailedAuthentications are the failed logins, the ReportTop accounts and
// addresses with the most of them, and how many of each there were.
type FailedAuthentications struct {
	Failed    int64           `json:"failed"`
	Accounts  int64           `json:"accounts"`
	Addresses int64           `json:"addresses"`
	ByAccount []FailedAccount `json:"by_account"`
	ByAddress []FailedAddress `json:"by_address"`
}

// FailedAccount is one account's failed logins and the last of them.
type FailedAccount struct {
	Person
	Failed int64     `json:"failed"`
	Last   time.Time `json:"last"`
}

// FailedAddress is one address's failed logins, the accounts they were
// for and the last of them.
type FailedAddress struct {
	IP       string    `json:"ip"`
	Failed   int64     `json:"failed"`
	Accounts int64     `json:"accounts"`
	Last     time.Time `json:"last"`
}

// PermissionChanges are the successful role changes, activations and
// deactivations of members, and the newest ReportEntries of them.
type PermissionChanges struct {
	Changes       int64              `json:"changes"`
	RoleChanges   int64              `json:"role_changes"`
	Activations   int64              `json:"activations"`
	Deactivations int64              `json:"deactivations"`
	Entries       []PermissionChange `json:"entries"`
}

// PermissionChange is one change of what a member may do.
type PermissionChange struct {
	At time.Time `json:"at"`
	// Action is user.role_changed, user.activated or user.deactivated.
	Action string `json:"action"`
	User   Thing  `json:"user"`
	By     Person `json:"by"`
	// From and To are the roles before and after a role change.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Reporter computes reports from the index.
type Reporter interface {
	// Report computes the sections of r.Type over the actions p may see.
	// It returns EINVALID for a bad request and EUNAVAILABLE when the
	// index cannot answer for now.
	Report(ctx context.Context, p activity.Principal, r ReportRequest) (ReportResult, error)
	// Custom computes the metrics of a custom report over the actions p
	// may see in r's period that r's filter selects, as a result of type
	// ReportCustom. It returns EINVALID for a bad request and
	// EUNAVAILABLE when the index cannot answer for now.
	Custom(ctx context.Context, p activity.Principal, r CustomRequest) (ReportResult, error)
}
