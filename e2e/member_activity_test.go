package e2e

import (
	"net/http"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
)

// TestAnotherUsersActivityIsRefusedToMembers asks for users' activity as
// each role: owners and admins read anyone's, members and viewers their
// own, and another user's is refused with 403 and recorded, rather than
// answered with an empty page that hides the refusal.
func TestAnotherUsersActivityIsRefusedToMembers(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Scope")
	other := mustRoleMember(t, m, owner.client, activity.RoleMember)
	for _, tc := range []struct {
		role      string
		forOthers int
	}{
		{activity.RoleAdmin, http.StatusOK},
		{activity.RoleMember, http.StatusForbidden},
		{activity.RoleViewer, http.StatusForbidden},
	} {
		t.Run(tc.role, func(t *testing.T) {
			who := mustRoleMember(t, m, owner.client, tc.role)
			if a := who.call("GET", "/api/v1/users/"+who.id+"/activity", nil, nil); a.status != http.StatusOK {
				t.Errorf("own activity: %d %s", a.status, a.body)
			}
			// The export of another user's activity is refused alike:
			// an empty file would hide the refusal too.
			for _, path := range []string{"/api/v1/users/" + other.id + "/activity", "/api/v1/users/" + other.id + "/activity/export?format=csv"} {
				before := ob.last()
				a := who.call("GET", path, nil, nil)
				if a.status != tc.forOthers {
					t.Fatalf("%s: %d, want %d: %.300s", path, a.status, tc.forOthers, a.body)
				}
				if tc.forOthers != http.StatusForbidden {
					continue
				}
				var e errorAnswer
				a.decode(t, &e)
				if e.Error.Code != activity.EFORBIDDEN || e.Error.Message == "" {
					t.Errorf("%s: 403 body = %s", path, a.body)
				}
				if events, _ := ob.since(before); len(events) != 1 || events[0].Action != "auth.access_denied" || events[0].Actor.ID != who.id {
					t.Errorf("%s: the refusal wrote %d events, want one auth.access_denied by the caller", path, len(events))
				}
			}
		})
	}
}
