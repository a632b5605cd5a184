package domain

import (
	"slices"
	"strconv"
	"strings"

	activity "github.com/fluxera/activity"
)

// Scope names what an API token may do within its user's role.
type Scope string

// Scopes an API token may hold.
const (
	ScopeActivityRead       Scope = "activity:read"
	ScopeActivityExport     Scope = "activity:export"
	ScopeAssetsWrite        Scope = "assets:write"
	ScopeLicensesWrite      Scope = "licenses:write"
	ScopeMembersManage      Scope = "members:manage"
	ScopeAlertsManage       Scope = "alerts:manage"
	ScopeIntegrationsManage Scope = "integrations:manage"
	// ScopeAdmin allows everything the token's user may do, as tokens did
	// before they had scopes.
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope in table order.
var Scopes = []Scope{
	ScopeActivityRead, ScopeActivityExport, ScopeAssetsWrite, ScopeLicensesWrite,
	ScopeMembersManage, ScopeAlertsManage, ScopeIntegrationsManage, ScopeAdmin,
}

// scopeOf says which scope allows each permission to a token. Beside
// grants, it is the one source of what a token may do; the API reference's
// scope table is checked against it.
var scopeOf = map[Permission]Scope{
	ViewInventory:      ScopeActivityRead,
	ViewOwnActivity:    ScopeActivityRead,
	ViewWorkspaceLog:   ScopeActivityRead,
	ExportData:         ScopeActivityExport,
	ScheduleReports:    ScopeActivityExport,
	ViewArchive:        ScopeActivityExport,
	ManageAssets:       ScopeAssetsWrite,
	DeleteAssets:       ScopeAssetsWrite,
	ManageLicenses:     ScopeLicensesWrite,
	DeleteLicenses:     ScopeLicensesWrite,
	ViewLicenseKeys:    ScopeLicensesWrite,
	ManageMembers:      ScopeMembersManage,
	ManageOwners:       ScopeMembersManage,
	ManagePersonalData: ScopeMembersManage,
	ManageAlerts:       ScopeAlertsManage,
	ManageIntegration:  ScopeIntegrationsManage,
	EditOwnProfile:     ScopeAdmin,
	ManageSettings:     ScopeAdmin,
	ManageRetention:    ScopeAdmin,
}

// ScopeOf returns the scope that allows perm to a token; a permission the
// table does not name needs ScopeAdmin.
func ScopeOf(perm Permission) Scope {
	if s, ok := scopeOf[perm]; ok {
		return s
	}
	return ScopeAdmin
}

// ScopesAllow reports whether a token with scopes may use perm: it holds
// the permission's scope, or admin.
func ScopesAllow(scopes []string, perm Permission) bool {
	return slices.Contains(scopes, string(ScopeOf(perm))) || slices.Contains(scopes, string(ScopeAdmin))
}

// ValidScope reports whether s is one of the scopes.
func ValidScope(s string) bool {
	return slices.Contains(Scopes, Scope(s))
}

// RoleMayGrant reports whether role may give a token scope: the role holds
// at least one permission the scope allows. A token never does more than
// its user's role, whatever its scopes.
func RoleMayGrant(role string, scope Scope) bool {
	for _, perm := range Permissions {
		if ScopeOf(perm) == scope && Can(role, perm) {
			return true
		}
	}
	return false
}

// CheckTokenScopes returns EINVALID, naming scopes[i], for an empty list,
// an unknown or repeated scope, and EFORBIDDEN for a scope p's role may not
// give (see RoleMayGrant), or one beyond the scopes of the token p made the
// request with.
func CheckTokenScopes(p activity.Principal, scopes []string) error {
	if len(scopes) == 0 {
		return activity.Errorf(activity.EINVALID, "scopes", "scopes is required: name at least one of %s", scopeList())
	}
	for i, s := range scopes {
		field := "scopes[" + strconv.Itoa(i) + "]"
		if !ValidScope(s) {
			return activity.Errorf(activity.EINVALID, field, "%q is not a scope; scopes are %s", s, scopeList())
		}
		if slices.Contains(scopes[:i], s) {
			return activity.Errorf(activity.EINVALID, field, "scope %q is listed twice", s)
		}
	}
	for i, s := range scopes {
		field := "scopes[" + strconv.Itoa(i) + "]"
		if !RoleMayGrant(p.Role, Scope(s)) {
			return activity.Errorf(activity.EFORBIDDEN, field, "your role (%s) may not give a token the %s scope", p.Role, s)
		}
		if p.Type == activity.ActorAPIToken && !slices.Contains(p.Scopes, s) && !slices.Contains(p.Scopes, string(ScopeAdmin)) {
			return activity.Errorf(activity.EFORBIDDEN, field, "this API token may not give a token the %s scope, which it lacks", s)
		}
	}
	return nil
}

// scopeList names the scopes for messages.
func scopeList() string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// ScopeTable renders the scopes as the Markdown table the API reference
// shows: each scope and the permissions it allows.
func ScopeTable() string {
	s := "| Scope | Allows |\n|---|---|\n"
	for _, scope := range Scopes {
		var allows []string
		for _, perm := range Permissions {
			if ScopeOf(perm) == scope {
				allows = append(allows, string(perm))
			}
		}
		if scope == ScopeAdmin {
			allows = append(allows, "and everything every other scope allows")
		}
		s += "| `" + string(scope) + "` | " + strings.Join(allows, "; ") + " |\n"
	}
	return s
}
