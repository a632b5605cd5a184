package domain

import (
	activity "github.com/fluxera/activity"
)

// Permission is something a role may do in its workspace.
type Permission string

// Permissions a role may hold.
const (
	ViewInventory     Permission = "view assets, licenses and members"
	EditOwnProfile    Permission = "edit own profile, password and API tokens"
	ManageAssets      Permission = "create and edit assets, assign, change status, maintenance, images"
	DeleteAssets      Permission = "delete assets"
	ManageLicenses    Permission = "create and edit licenses, assign seats, renew"
	DeleteLicenses    Permission = "delete licenses"
	ViewLicenseKeys   Permission = "view license keys"
	ExportData        Permission = "export data and generate reports"
	ManageMembers     Permission = "invite members, change roles below owner, activate and deactivate"
	ManageOwners      Permission = "make or unmake owners"
	ManageSettings    Permission = "change workspace settings"
	ViewWorkspaceLog  Permission = "see the whole workspace's activity"
	ViewOwnActivity   Permission = "see own activity"
	ManageIntegration Permission = "configure integrations"
	ManageAlerts      Permission = "manage alert rules, detection settings and alerts"
	ViewArchive       Permission = "list and download archived exports, reports and backups"
	ScheduleReports   Permission = "define custom reports, their schedules and recipients"
	ManageRetention   Permission = "place and release legal holds, restore archived periods, delete activity past retention"
	// ManagePersonalData answers a person's GDPR requests on their behalf.
	ManagePersonalData Permission = "export or anonymize any member's personal data"
)

// Permissions lists every permission in table order.
var Permissions = []Permission{
	ViewInventory, ViewOwnActivity, EditOwnProfile, ManageAssets, ManageLicenses, ViewLicenseKeys,
	ExportData, DeleteAssets, DeleteLicenses, ManageMembers, ManageSettings, ManageIntegration,
	ManageAlerts, ScheduleReports, ViewWorkspaceLog, ViewArchive, ManageRetention, ManageOwners, ManagePersonalData,
}

// Roles lists the roles strongest first.
var Roles = []string{activity.RoleOwner, activity.RoleAdmin, activity.RoleMember, activity.RoleViewer}

// grants says which roles hold each permission. It is the one source of
// what a role may do; the README's table is checked against it.
var grants = map[Permission][]string{
	ViewInventory:      {activity.RoleOwner, activity.RoleAdmin, activity.RoleMember, activity.RoleViewer},
	ViewOwnActivity:    {activity.RoleOwner, activity.RoleAdmin, activity.RoleMember, activity.RoleViewer},
	EditOwnProfile:     {activity.RoleOwner, activity.RoleAdmin, activity.RoleMember, activity.RoleViewer},
	ManageAssets:       {activity.RoleOwner, activity.RoleAdmin, activity.RoleMember},
	ManageLicenses:     {activity.RoleOwner, activity.RoleAdmin, activity.RoleMember},
	ViewLicenseKeys:    {activity.RoleOwner, activity.RoleAdmin, activity.RoleMember},
	ExportData:         {activity.RoleOwner, activity.RoleAdmin, activity.RoleMember},
	DeleteAssets:       {activity.RoleOwner, activity.RoleAdmin},
	DeleteLicenses:     {activity.RoleOwner, activity.RoleAdmin},
	ManageMembers:      {activity.RoleOwner, activity.RoleAdmin},
	ManageSettings:     {activity.RoleOwner, activity.RoleAdmin},
	ManageIntegration:  {activity.RoleOwner, activity.RoleAdmin},
	ManageAlerts:       {activity.RoleOwner, activity.RoleAdmin},
	ScheduleReports:    {activity.RoleOwner, activity.RoleAdmin},
	ViewWorkspaceLog:   {activity.RoleOwner, activity.RoleAdmin},
	ViewArchive:        {activity.RoleOwner},
	ManageRetention:    {activity.RoleOwner},
	ManageOwners:       {activity.RoleOwner},
	ManagePersonalData: {activity.RoleOwner},
}

// Can reports whether role holds perm.
func Can(role string, perm Permission) bool {
	for _, r := range grants[perm] {
		if r == role {
			return true
		}
	}
	return false
}

// Require returns EFORBIDDEN unless p's role holds perm and, for a request
// made with an API token, unless the token has the scope that allows perm.
// A session is bound by its role alone.
func Require(p activity.Principal, perm Permission) error {
	if !Can(p.Role, perm) {
		return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) may not %s", p.Role, perm)
	}
	if p.Type == activity.ActorAPIToken && !ScopesAllow(p.Scopes, perm) {
		return activity.Errorf(activity.EFORBIDDEN, "", "this API token lacks the %s scope, which it needs to %s", ScopeOf(perm), perm)
	}
	return nil
}

// ValidRole reports whether role is one of the four roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// RoleTable renders the permissions as the Markdown table the README shows.
func RoleTable() string {
	s := "| What | Owner | Admin | Member | Viewer |\n|---|:-:|:-:|:-:|:-:|\n"
	for _, perm := range Permissions {
		s += "| " + string(perm) + " |"
		for _, r := range Roles {
			if Can(r, perm) {
				s += " ✓ |"
			} else {
				s += " — |"
			}
		}
		s += "\n"
	}
	return s
}
