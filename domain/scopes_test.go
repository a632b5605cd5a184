package domain

import (
	"testing"

	activity "github.com/fluxera/activity"
)

func TestRequireHoldsTokensToTheirScopes(t *testing.T) {
	token := func(role string, scopes ...string) activity.Principal {
		return activity.Principal{Role: role, Type: activity.ActorAPIToken, TokenID: "t", Scopes: scopes}
	}
	tests := []struct {
		name string
		p    activity.Principal
		perm Permission
		ok   bool
	}{
		{"session bound by role alone", activity.Principal{Role: activity.RoleOwner, Type: activity.ActorUser}, ManageAssets, true},
		{"read token reads", token(activity.RoleOwner, "activity:read"), ViewInventory, true},
		{"read token does not write", token(activity.RoleOwner, "activity:read"), ManageAssets, false},
		{"assets token writes assets", token(activity.RoleMember, "assets:write"), ManageAssets, true},
		{"admin token does all the role does", token(activity.RoleAdmin, "admin"), ManageAlerts, true},
		{"scope never exceeds the role", token(activity.RoleMember, "admin"), ManageMembers, false},
		{"token without scopes does nothing", token(activity.RoleOwner), ViewInventory, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Require(tt.p, tt.perm); (err == nil) != tt.ok {
				t.Errorf("Require = %v, want allowed %v", err, tt.ok)
			} else if err != nil && activity.ErrorCode(err) != activity.EFORBIDDEN {
				t.Errorf("code %q", activity.ErrorCode(err))
			}
		})
	}
	for _, perm := range Permissions {
		if _, ok := scopeOf[perm]; !ok {
			t.Errorf("permission %q has no scope", perm)
		}
	}
}

func TestCheckTokenScopes(t *testing.T) {
	member := activity.Principal{Role: activity.RoleMember, Type: activity.ActorUser}
	readToken := activity.Principal{Role: activity.RoleOwner, Type: activity.ActorAPIToken, Scopes: []string{"activity:read"}}
	tests := []struct {
		name   string
		p      activity.Principal
		scopes []string
		code   string
		field  string
	}{
		{"member gives assets:write", member, []string{"activity:read", "assets:write"}, "", ""},
		{"none", member, nil, activity.EINVALID, "scopes"},
		{"unknown", member, []string{"activity:read", "root"}, activity.EINVALID, "scopes[1]"},
		{"twice", member, []string{"assets:write", "assets:write"}, activity.EINVALID, "scopes[1]"},
		{"beyond the role", member, []string{"members:manage"}, activity.EFORBIDDEN, "scopes[0]"},
		{"beyond the creating token", readToken, []string{"activity:read", "assets:write"}, activity.EFORBIDDEN, "scopes[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTokenScopes(tt.p, tt.scopes)
			if tt.code == "" && err != nil || tt.code != "" && (activity.ErrorCode(err) != tt.code || activity.ErrorField(err) != tt.field) {
				t.Errorf("CheckTokenScopes = %v, want %s on %q", err, tt.code, tt.field)
			}
		})
	}
}
