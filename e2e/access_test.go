package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// member is a signed-in member of a test workspace; workspace is known
// for owners.
type member struct {
	*client
	id, email, password, role string
	workspace                 string
}

// mustRoleMember invites someone with role through owner, accepts the
// invitation and signs them in.
func mustRoleMember(t *testing.T, m *app.Main, owner *client, role string) member {
	t.Helper()
	email, password := role+"-"+stacktest.RandomID()+"@example.com", "pass-"+stacktest.RandomID()
	a := owner.call("POST", "/api/v1/invitations", map[string]string{"email": email, "role": role, "name": strings.ToUpper(role[:1]) + role[1:] + " Person"}, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("invite %s: %d %s", role, a.status, a.body)
	}
	var inv domain.NewInvitation
	a.decode(t, &inv)
	a = newClient(t, m).call("POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "password": password}, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("accept %s: %d %s", role, a.status, a.body)
	}
	var u domain.User
	a.decode(t, &u)
	c := newClient(t, m)
	c.mustLogin(email, password)
	return member{client: c, id: u.ID, email: email, password: password, role: role}
}

// mustOwner signs in the owner of a new workspace.
func mustOwner(t *testing.T, m *app.Main, cfg app.Config, name string) member {
	t.Helper()
	email, password := MustWorkspace(t, cfg, name)
	c := newClient(t, m)
	c.mustLogin(email, password)
	var me struct {
		ID          string
		WorkspaceID string `json:"workspace_id"`
	}
	c.call("GET", "/api/v1/me", nil, nil).decode(t, &me)
	return member{client: c, id: me.ID, email: email, password: password, role: activity.RoleOwner, workspace: me.WorkspaceID}
}

// fixture is a fresh set of resources in one workspace for one request.
// entry, when set, is an indexed activity entry of the workspace; tests
// that run no indexer leave it empty.
type fixture struct {
	asset, maintenance, image, license, user, invitation, token string
	rule, alert, entry, report, definition                      string
	// webhook is an activity webhook to a public address that no test
	// sends to (no deliverer runs where fixtures are made).
	webhook string
	// archive is the name of a file in the workspace's archive store.
	archive string
}

func mustID(t *testing.T, a answer, what string) string {
	t.Helper()
	if a.status >= 300 {
		t.Fatalf("create %s: %d %s", what, a.status, a.body)
	}
	var v struct{ ID string }
	a.decode(t, &v)
	return v.ID
}

// mustFixture creates, as owner, an asset with maintenance and an image, a
// license with a key and a seat for target, a pending invitation, an alert
// rule and an open alert it raised, an export in the workspace's archive
// store and a custom report definition; and, as caller, an API token and
// a report (as owner when the caller may not generate one).
func mustFixture(t *testing.T, m *app.Main, owner member, caller *client, target string) fixture {
	t.Helper()
	var f fixture
	f.asset = mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Dell XPS " + stacktest.RandomID()}, nil), "asset")
	f.maintenance = mustID(t, owner.call("POST", "/api/v1/assets/"+f.asset+"/maintenance", map[string]string{"scheduled_for": "2027-01-10", "description": "check"}, nil), "maintenance")
	f.image = mustID(t, owner.upload("/api/v1/assets/"+f.asset+"/images", "a.png", png, nil), "image")
	f.license = mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Slack " + stacktest.RandomID(), "seats": 5, "key": "K-" + stacktest.RandomID(), "expires_on": "2027-05-01"}, nil), "license")
	if a := owner.call("POST", "/api/v1/licenses/"+f.license+"/assign", map[string]string{"user_id": target}, nil); a.status != 200 {
		t.Fatalf("assign seat: %d %s", a.status, a.body)
	}
	f.invitation = mustID(t, owner.call("POST", "/api/v1/invitations", map[string]string{"email": "inv-" + stacktest.RandomID() + "@example.com", "role": "viewer"}, nil), "invitation")
	f.user = target
	f.token = mustID(t, caller.call("POST", "/api/v1/tokens", map[string]any{"name": "t", "scopes": []string{"activity:read"}}, nil), "token")
	f.rule = mustID(t, owner.call("POST", "/api/v1/alert-rules", map[string]string{"preset": "license_deletions"}, nil), "alert rule")
	f.alert = postgrestest.MustRaise(t, m.DB, mustAlert(t, m.DB, owner.id, f.rule)).ID
	f.archive = mustArchived(t, m, owner.workspace, domain.ArchiveExport, "csv", "id,name\n"+stacktest.RandomID()+",Dell XPS\n").Name
	f.definition = mustID(t, owner.call("POST", "/api/v1/report-definitions", map[string]any{
		"name": "Digest " + stacktest.RandomID(), "metrics": []string{"distinct_users"}, "schedule": map[string]any{"frequency": "weekly", "weekday": "monday", "hour": 8},
	}, nil), "report definition")
	f.webhook = mustID(t, owner.call("POST", "/api/v1/integrations/webhooks", map[string]any{"name": "SIEM " + stacktest.RandomID(), "url": "https://93.184.215.14/hook"}, nil), "activity webhook")
	body := map[string]string{"type": "security", "range": "7d"}
	a := caller.call("POST", "/api/v1/reports", body, nil)
	if a.status == http.StatusForbidden {
		a = owner.call("POST", "/api/v1/reports", body, nil)
	}
	f.report = mustID(t, a, "report")
	return f
}

// endpoint says how to call one route and what it needs.
type endpoint struct {
	// perm is the permission the route needs; a token needs its scope.
	perm domain.Permission
	// also is a permission a role needs besides perm for the route's
	// fixture, if any: another user's activity needs the workspace's log.
	also   domain.Permission
	status int
	method string
	// path fills in the route's ids; body is the JSON body, or upload for
	// an image.
	path   func(f fixture) string
	body   func(f fixture) any
	upload bool
	csv    string
	// public routes need no credentials.
	public bool
}

// endpoints lists every authenticated route. The tests fail when a route
// is registered that is not listed here.
func endpoints() map[string]endpoint {
	p := func(s string) func(fixture) string {
		return func(fixture) string { return s }
	}
	asset := func(rest string) func(fixture) string {
		return func(f fixture) string {
			return strings.NewReplacer(":mid", f.maintenance, ":iid", f.image).Replace("/api/v1/assets/" + f.asset + rest)
		}
	}
	license := func(rest string) func(fixture) string {
		return func(f fixture) string { return "/api/v1/licenses/" + f.license + rest }
	}
	user := func(rest string) func(fixture) string {
		return func(f fixture) string { return "/api/v1/users/" + f.user + rest }
	}
	rule := func(f fixture) string { return "/api/v1/alert-rules/" + f.rule }
	alert := func(rest string) func(fixture) string {
		return func(f fixture) string { return "/api/v1/alerts/" + f.alert + rest }
	}
	report := func(rest string) func(fixture) string {
		return func(f fixture) string { return "/api/v1/reports/" + f.report + rest }
	}
	definition := func(rest string) func(fixture) string {
		return func(f fixture) string { return "/api/v1/report-definitions/" + f.definition + rest }
	}
	webhook := func(rest string) func(fixture) string {
		return func(f fixture) string { return "/api/v1/integrations/webhooks/" + f.webhook + rest }
	}
	none := func(fixture) any { return nil }
	fixed := func(v any) func(fixture) any { return func(fixture) any { return v } }
	return map[string]endpoint{
		"GET /api/v1/me":           {perm: domain.EditOwnProfile, status: 200, path: p("/api/v1/me"), body: none},
		"PATCH /api/v1/me":         {perm: domain.EditOwnProfile, status: 200, path: p("/api/v1/me"), body: fixed(map[string]string{"name": "Renamed " + stacktest.RandomID()})},
		"POST /api/v1/me/password": {perm: domain.EditOwnProfile, status: 204, path: p("/api/v1/me/password"), body: nil}, // filled in per caller
		// The caller has no email change to confirm: TestNoCrossWorkspaceEmailProbing confirms real ones.
		"POST /api/v1/me/email/confirm":  {perm: domain.EditOwnProfile, status: 400, path: p("/api/v1/me/email/confirm"), body: fixed(map[string]string{"token": "unknown"})},
		"GET /api/v1/tokens":             {perm: domain.EditOwnProfile, status: 200, path: p("/api/v1/tokens"), body: none},
		"POST /api/v1/tokens":            {perm: domain.EditOwnProfile, status: 201, path: p("/api/v1/tokens"), body: fixed(map[string]any{"name": "ci", "scopes": []string{"activity:read"}})},
		"DELETE /api/v1/tokens/:id":      {perm: domain.EditOwnProfile, status: 204, path: func(f fixture) string { return "/api/v1/tokens/" + f.token }, body: none},
		"POST /api/v1/tokens/:id/rotate": {perm: domain.EditOwnProfile, status: 200, path: func(f fixture) string { return "/api/v1/tokens/" + f.token + "/rotate" }, body: none},

		"GET /api/v1/users":                 {perm: domain.ViewInventory, status: 200, path: p("/api/v1/users"), body: none},
		"GET /api/v1/users/:id":             {perm: domain.ViewInventory, status: 200, path: user(""), body: none},
		"PUT /api/v1/users/:id/role":        {perm: domain.ManageMembers, status: 200, path: user("/role"), body: fixed(map[string]string{"role": "viewer"})},
		"POST /api/v1/users/:id/activate":   {perm: domain.ManageMembers, status: 200, path: user("/activate"), body: none},
		"POST /api/v1/users/:id/deactivate": {perm: domain.ManageMembers, status: 200, path: user("/deactivate"), body: fixed(map[string]any{"keep_api_tokens": false})},
		// The matrix runs no relay: the workspace's events never reach
		// the index, which an anonymization waits for (FLUXERA_ANONYMIZE_WAIT).
		"POST /api/v1/users/:id/anonymize": {perm: domain.ManagePersonalData, status: 409, path: user("/anonymize"), body: none},
		"DELETE /api/v1/users/:id":         {perm: domain.ManageMembers, status: 200, path: user(""), body: none},
		"GET /api/v1/invitations":          {perm: domain.ManageMembers, status: 200, path: p("/api/v1/invitations"), body: none},
		"POST /api/v1/invitations": {perm: domain.ManageMembers, status: 201, path: p("/api/v1/invitations"), body: func(fixture) any {
			return map[string]string{"email": "x-" + stacktest.RandomID() + "@example.com", "role": "member"}
		}},
		"DELETE /api/v1/invitations/:id": {perm: domain.ManageMembers, status: 204, path: func(f fixture) string { return "/api/v1/invitations/" + f.invitation }, body: none},

		"GET /api/v1/assets":                                {perm: domain.ViewInventory, status: 200, path: p("/api/v1/assets"), body: none},
		"POST /api/v1/assets":                               {perm: domain.ManageAssets, status: 201, path: p("/api/v1/assets"), body: fixed(map[string]string{"name": "iPad"})},
		"POST /api/v1/assets/import":                        {perm: domain.ManageAssets, status: 201, path: p("/api/v1/assets/import"), csv: "name,category\nMonitor,Display\n"},
		"GET /api/v1/assets/export":                         {perm: domain.ExportData, status: 200, path: p("/api/v1/assets/export"), body: none},
		"GET /api/v1/assets/:id":                            {perm: domain.ViewInventory, status: 200, path: asset(""), body: none},
		"PATCH /api/v1/assets/:id":                          {perm: domain.ManageAssets, status: 200, path: asset(""), body: fixed(map[string]string{"location": "Paris"})},
		"DELETE /api/v1/assets/:id":                         {perm: domain.DeleteAssets, status: 204, path: asset(""), body: none},
		"POST /api/v1/assets/:id/assign":                    {perm: domain.ManageAssets, status: 200, path: asset("/assign"), body: func(f fixture) any { return map[string]string{"user_id": f.user} }},
		"POST /api/v1/assets/:id/unassign":                  {perm: domain.ManageAssets, status: 409, path: asset("/unassign"), body: none},
		"PUT /api/v1/assets/:id/status":                     {perm: domain.ManageAssets, status: 200, path: asset("/status"), body: fixed(map[string]string{"status": "lost"})},
		"GET /api/v1/assets/:id/maintenance":                {perm: domain.ViewInventory, status: 200, path: asset("/maintenance"), body: none},
		"POST /api/v1/assets/:id/maintenance":               {perm: domain.ManageAssets, status: 201, path: asset("/maintenance"), body: fixed(map[string]string{"scheduled_for": "2027-02-01", "description": "clean"})},
		"POST /api/v1/assets/:id/maintenance/:mid/complete": {perm: domain.ManageAssets, status: 200, path: asset("/maintenance/:mid/complete"), body: none},
		"GET /api/v1/assets/:id/images":                     {perm: domain.ViewInventory, status: 200, path: asset("/images"), body: none},
		"POST /api/v1/assets/:id/images":                    {perm: domain.ManageAssets, status: 201, path: asset("/images"), upload: true},
		"GET /api/v1/assets/:id/images/:iid":                {perm: domain.ViewInventory, status: 200, path: asset("/images/:iid"), body: none},

		"GET /api/v1/licenses":                {perm: domain.ViewInventory, status: 200, path: p("/api/v1/licenses"), body: none},
		"POST /api/v1/licenses":               {perm: domain.ManageLicenses, status: 201, path: p("/api/v1/licenses"), body: fixed(map[string]any{"name": "Zoom", "seats": 1})},
		"GET /api/v1/licenses/:id":            {perm: domain.ViewInventory, status: 200, path: license(""), body: none},
		"PATCH /api/v1/licenses/:id":          {perm: domain.ManageLicenses, status: 200, path: license(""), body: fixed(map[string]any{"seats": 9})},
		"DELETE /api/v1/licenses/:id":         {perm: domain.DeleteLicenses, status: 204, path: license(""), body: none},
		"POST /api/v1/licenses/:id/assign":    {perm: domain.ManageLicenses, status: 409, path: license("/assign"), body: func(f fixture) any { return map[string]string{"user_id": f.user} }},
		"POST /api/v1/licenses/:id/unassign":  {perm: domain.ManageLicenses, status: 200, path: license("/unassign"), body: func(f fixture) any { return map[string]string{"user_id": f.user} }},
		"POST /api/v1/licenses/:id/renew":     {perm: domain.ManageLicenses, status: 200, path: license("/renew"), body: fixed(map[string]string{"expires_on": "2028-05-01"})},
		"PUT /api/v1/licenses/:id/expiration": {perm: domain.ManageLicenses, status: 200, path: license("/expiration"), body: fixed(map[string]string{"expires_on": "2027-04-01"})},
		"GET /api/v1/licenses/:id/key":        {perm: domain.ViewLicenseKeys, status: 200, path: license("/key"), body: none},

		"GET /api/v1/settings":   {perm: domain.ViewInventory, status: 200, path: p("/api/v1/settings"), body: none},
		"PATCH /api/v1/settings": {perm: domain.ManageSettings, status: 200, path: p("/api/v1/settings"), body: func(fixture) any { return map[string]string{"name": "Matrix " + stacktest.RandomID()} }},

		"GET /api/v1/activity/export":             {perm: domain.ExportData, status: 200, path: p("/api/v1/activity/export"), body: none},
		"GET /api/v1/activity/feed":               {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/activity/feed"), body: none},
		"GET /api/v1/audit/keys":                  {perm: domain.ViewWorkspaceLog, status: 200, path: p("/api/v1/audit/keys"), body: none},
		"GET /api/v1/audit/checkpoints":           {perm: domain.ViewWorkspaceLog, status: 200, path: p("/api/v1/audit/checkpoints"), body: none},
		"GET /api/v1/audit/verify":                {perm: domain.ViewWorkspaceLog, status: 200, path: p("/api/v1/audit/verify"), body: none},
		"GET /api/v1/me/activity/export":          {perm: domain.ExportData, status: 200, path: p("/api/v1/me/activity/export?format=json"), body: none},
		"GET /api/v1/users/:id/activity/export":   {perm: domain.ExportData, also: domain.ViewWorkspaceLog, status: 200, path: user("/activity/export?format=ndjson"), body: none}, // another user's: members are refused
		"GET /api/v1/me/data-export":              {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/me/data-export"), body: none},
		"GET /api/v1/users/:id/data-export":       {perm: domain.ManagePersonalData, status: 200, path: user("/data-export"), body: none},
		"GET /api/v1/assets/:id/history/export":   {perm: domain.ExportData, status: 200, path: asset("/history/export?format=pdf"), body: none},
		"GET /api/v1/licenses/:id/history/export": {perm: domain.ExportData, status: 200, path: license("/history/export"), body: none},

		"GET /api/v1/audit/holds": {perm: domain.ManageRetention, status: 200, path: p("/api/v1/audit/holds"), body: none},
		"POST /api/v1/audit/holds": {perm: domain.ManageRetention, status: 201, path: p("/api/v1/audit/holds"), body: fixed(map[string]any{
			"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "reason": "litigation over January",
		})},
		// No period: TestOwnersDeleteOnlyEntriesPastRetentionThatNoRuleKeeps deletes for real.
		"DELETE /api/v1/activity": {perm: domain.ManageRetention, status: 400, path: p("/api/v1/activity"), body: none},
		// No hold of that id: TestOwnersSetRetentionAndPlaceLegalHoldsThroughTheAPI releases a real one.
		"POST /api/v1/audit/holds/:id/release": {perm: domain.ManageRetention, status: 404, path: p("/api/v1/audit/holds/0193f3a0-0000-7000-8000-000000000000/release"), body: none},
		"GET /api/v1/archive/restores":         {perm: domain.ManageRetention, status: 200, path: p("/api/v1/archive/restores"), body: none},
		// Nothing archived: TestOwnersRestoreAnArchivedPeriodThroughTheAPI restores for real.
		"POST /api/v1/archive/restores": {perm: domain.ManageRetention, status: 400, path: p("/api/v1/archive/restores"), body: fixed(map[string]any{
			"from": "2026-01-01", "to": "2026-01-31",
		})},
		"DELETE /api/v1/archive/restores/:id": {perm: domain.ManageRetention, status: 404, path: p("/api/v1/archive/restores/0193f3a0-0000-7000-8000-000000000000"), body: none},

		"GET /api/v1/alert-rules": {perm: domain.ManageAlerts, status: 200, path: p("/api/v1/alert-rules"), body: none},
		"POST /api/v1/alert-rules": {perm: domain.ManageAlerts, status: 201, path: p("/api/v1/alert-rules"), body: fixed(map[string]any{
			"name": "Deletions", "activity_types": []string{"license.deleted"}, "channels": []map[string]any{{"type": "email", "to": []string{"security@example.com"}}},
		})},
		"GET /api/v1/alert-rules/presets":       {perm: domain.ManageAlerts, status: 200, path: p("/api/v1/alert-rules/presets"), body: none},
		"GET /api/v1/alert-rules/:id":           {perm: domain.ManageAlerts, status: 200, path: rule, body: none},
		"PATCH /api/v1/alert-rules/:id":         {perm: domain.ManageAlerts, status: 200, path: rule, body: fixed(map[string]any{"severity": "high"})},
		"DELETE /api/v1/alert-rules/:id":        {perm: domain.ManageAlerts, status: 204, path: rule, body: none},
		"GET /api/v1/alerts":                    {perm: domain.ManageAlerts, status: 200, path: p("/api/v1/alerts"), body: none},
		"GET /api/v1/alerts/:id":                {perm: domain.ManageAlerts, status: 200, path: alert(""), body: none},
		"POST /api/v1/alerts/:id/acknowledge":   {perm: domain.ManageAlerts, status: 200, path: alert("/acknowledge"), body: none},
		"POST /api/v1/alerts/:id/resolve":       {perm: domain.ManageAlerts, status: 200, path: alert("/resolve"), body: none},
		"GET /api/v1/detection":                 {perm: domain.ManageAlerts, status: 200, path: p("/api/v1/detection"), body: none},
		"PATCH /api/v1/detection":               {perm: domain.ManageAlerts, status: 200, path: p("/api/v1/detection"), body: fixed(map[string]any{"detectors": map[string]any{"failed_logins": map[string]any{"threshold": 4}}})},
		"POST /api/v1/detection/signing-secret": {perm: domain.ManageAlerts, status: 200, path: p("/api/v1/detection/signing-secret"), body: none},

		"GET /api/v1/archive":             {perm: domain.ViewArchive, status: 200, path: p("/api/v1/archive"), body: none},
		"GET /api/v1/archive/:kind/:file": {perm: domain.ViewArchive, status: 200, path: func(f fixture) string { return "/api/v1/archive/" + f.archive }, body: none},

		"GET /api/v1/activity": {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/activity"), body: none},
		"GET /api/v1/activity/:id": {perm: domain.ViewOwnActivity, status: 404, path: func(f fixture) string {
			if f.entry != "" {
				return "/api/v1/activity/" + f.entry
			}
			return "/api/v1/activity/" + f.asset
		}, body: none}, // nothing is indexed in the role matrix: TestActivityDetail reads real entries
		"GET /api/v1/me/activity":          {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/me/activity"), body: none},
		"GET /api/v1/users/:id/activity":   {perm: domain.ViewWorkspaceLog, status: 200, path: user("/activity"), body: none}, // another user's: members and viewers are refused
		"GET /api/v1/assets/:id/history":   {perm: domain.ViewOwnActivity, status: 200, path: asset("/history"), body: none},
		"GET /api/v1/licenses/:id/history": {perm: domain.ViewOwnActivity, status: 200, path: license("/history"), body: none},
		// Nothing is indexed in the role matrix, so no entry shows the
		// resource existed: TestAsOfRebuildsAnAssetBetweenItsChanges reads
		// real entries.
		"GET /api/v1/assets/:id/as-of":     {perm: domain.ViewWorkspaceLog, status: 404, path: asset("/as-of?time=2026-12-01T09:00:00Z"), body: none},
		"GET /api/v1/licenses/:id/as-of":   {perm: domain.ViewWorkspaceLog, status: 404, path: license("/as-of?time=2026-12-01T09:00:00Z"), body: none},
		"GET /api/v1/users/:id/as-of":      {perm: domain.ViewWorkspaceLog, status: 404, path: user("/as-of?time=2026-12-01T09:00:00Z"), body: none},
		"GET /api/v1/analytics/heatmap":    {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/heatmap"), body: none},
		"GET /api/v1/analytics/timeline":   {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/timeline"), body: none},
		"GET /api/v1/analytics/top-users":  {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/top-users"), body: none},
		"GET /api/v1/analytics/top-assets": {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/top-assets"), body: none},
		"GET /api/v1/analytics/usage":      {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/usage"), body: none},
		"GET /api/v1/analytics/logins":     {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/logins"), body: none},
		"GET /api/v1/analytics/peak-times": {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/peak-times"), body: none},
		"GET /api/v1/analytics/time-spent": {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/time-spent"), body: none},
		"GET /api/v1/analytics/engagement": {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/engagement"), body: none},

		// The operational-efficiency insights.
		"GET /api/v1/analytics/workflows":      {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/workflows"), body: none},
		"GET /api/v1/analytics/task-times":     {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/task-times"), body: none},
		"GET /api/v1/analytics/alert-response": {perm: domain.ManageAlerts, status: 200, path: p("/api/v1/analytics/alert-response"), body: none},
		"GET /api/v1/analytics/assignments":    {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/analytics/assignments"), body: none},

		"POST /api/v1/reports":           {perm: domain.ExportData, status: 201, path: p("/api/v1/reports"), body: fixed(map[string]any{"type": "user", "range": "30d"})},
		"GET /api/v1/reports":            {perm: domain.ExportData, status: 200, path: p("/api/v1/reports"), body: none},
		"GET /api/v1/reports/:id":        {perm: domain.ExportData, status: 200, path: report(""), body: none},
		"GET /api/v1/reports/:id/export": {perm: domain.ExportData, status: 200, path: report("/export?format=csv"), body: none},

		"GET /api/v1/report-definitions": {perm: domain.ScheduleReports, status: 200, path: p("/api/v1/report-definitions"), body: none},
		"POST /api/v1/report-definitions": {perm: domain.ScheduleReports, status: 201, path: p("/api/v1/report-definitions"), body: fixed(map[string]any{
			"name": "Monthly access review", "metrics": []string{"actions_by_user", "heatmap"}, "period": "last_calendar_month", "formats": []string{"pdf", "json"},
			"schedule": map[string]any{"frequency": "monthly", "day": 1, "hour": 7}, "recipients": []map[string]any{{"type": "email", "roles": []string{"owner"}}},
		})},
		"GET /api/v1/report-definitions/:id":      {perm: domain.ScheduleReports, status: 200, path: definition(""), body: none},
		"PATCH /api/v1/report-definitions/:id":    {perm: domain.ScheduleReports, status: 200, path: definition(""), body: fixed(map[string]any{"enabled": false})},
		"DELETE /api/v1/report-definitions/:id":   {perm: domain.ScheduleReports, status: 204, path: definition(""), body: none},
		"POST /api/v1/report-definitions/:id/run": {perm: domain.ScheduleReports, status: 201, path: definition("/run"), body: none},

		"GET /api/v1/activity/stream":              {perm: domain.ViewOwnActivity, status: 200, path: p("/api/v1/activity/stream"), body: none},
		"GET /api/v1/integrations/webhooks":        {perm: domain.ManageIntegration, status: 200, path: p("/api/v1/integrations/webhooks"), body: none},
		"POST /api/v1/integrations/webhooks":       {perm: domain.ManageIntegration, status: 201, path: p("/api/v1/integrations/webhooks"), body: fixed(map[string]any{"name": "SIEM", "url": "https://93.184.215.14/siem", "filter": map[string]any{"categories": []string{"auth"}}})},
		"GET /api/v1/integrations/webhooks/:id":    {perm: domain.ManageIntegration, status: 200, path: webhook(""), body: none},
		"PATCH /api/v1/integrations/webhooks/:id":  {perm: domain.ManageIntegration, status: 200, path: webhook(""), body: fixed(map[string]any{"name": "Renamed SIEM"})},
		"DELETE /api/v1/integrations/webhooks/:id": {perm: domain.ManageIntegration, status: 204, path: webhook(""), body: none},
		"POST /api/v1/integrations/webhooks/:id/replay": {perm: domain.ManageIntegration, status: 202, path: func(f fixture) string {
			return "/api/v1/integrations/webhooks/" + f.webhook + "/replay?from=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
		}, body: none},
	}
}

// publicRoutes are the routes that need no credentials, which apiRoutes
// leaves out.
var publicRoutes = []string{
	"POST /api/v1/auth/login", "POST /api/v1/auth/logout", "POST /api/v1/invitations/accept", "POST /api/v1/invitations/decline",
	"POST /api/v1/signup", "GET /api/v1/openapi.json",
}

// apiRoutes returns the authenticated routes the server registered, as
// "METHOD /path".
func apiRoutes(m *app.Main) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range m.API.App.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == "HEAD" {
			continue
		}
		if slices.Contains(publicRoutes, r.Method+" "+r.Path) {
			continue
		}
		k := r.Method + " " + r.Path
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (e endpoint) call(t *testing.T, c *client, f fixture, password string) answer {
	t.Helper()
	return e.callWith(t, c, f, password, nil)
}

// callWith calls the endpoint with the given headers.
func (e endpoint) callWith(t *testing.T, c *client, f fixture, password string, header map[string]string) answer {
	t.Helper()
	path := e.path(f)
	if e.upload {
		return c.upload(path, "b.png", png, header)
	}
	if e.csv != "" {
		return c.postCSVWith(path, e.csv, header)
	}
	var body any
	if e.body != nil {
		body = e.body(f)
	} else {
		body = map[string]string{"current_password": password, "new_password": password + "-2"}
	}
	return c.call(e.method, path, body, header)
}

// TestRoleEndpointMatrix calls every authenticated route as each role and
// checks that the role is let through exactly when the role table says so.
func TestRoleEndpointMatrix(t *testing.T) {
	cfg := MustStack(t)
	cfg.AnonymizeWait = 10 * time.Millisecond
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Matrix")
	members := []member{owner}
	for _, role := range []string{activity.RoleAdmin, activity.RoleMember, activity.RoleViewer} {
		members = append(members, mustRoleMember(t, m, owner.client, role))
	}
	eps := endpoints()
	for _, route := range apiRoutes(m) {
		ep, ok := eps[route]
		if !ok {
			t.Errorf("route %s is not in the role matrix; add it to endpoints()", route)
			continue
		}
		ep.method, _, _ = strings.Cut(route, " ")
		for i := range members {
			who := &members[i]
			t.Run(route+" as "+who.role, func(t *testing.T) {
				target := mustRoleMember(t, m, owner.client, activity.RoleMember)
				f := mustFixture(t, m, owner, who.client, target.id)
				before := ob.last()
				a := ep.call(t, who.client, f, who.password)
				want := ep.status
				if !domain.Can(who.role, ep.perm) || ep.also != "" && !domain.Can(who.role, ep.also) {
					want = http.StatusForbidden
				}
				if a.status != want {
					t.Fatalf("status %d, want %d: %s", a.status, want, a.body)
				}
				if want == http.StatusForbidden {
					var e errorAnswer
					a.decode(t, &e)
					if e.Error.Code != activity.EFORBIDDEN || e.Error.Message == "" {
						t.Errorf("403 body = %s", a.body)
					}
					if events, _ := ob.since(before); len(events) != 1 || events[0].Action != "auth.access_denied" || events[0].Actor.ID != who.id {
						t.Errorf("the refusal wrote %d events, want one auth.access_denied by the caller", len(events))
					}
				}
				if a.status == http.StatusNoContent && route == "POST /api/v1/me/password" {
					who.password += "-2"
				}
			})
		}
	}
}

// TestOtherWorkspacesResourcesAreNotFound calls every route that names a
// resource with the ids of another workspace's resources, as that other
// workspace's owner, and expects 404 without a word about the resource.
// The indexer runs, and the other workspace's histories, activity and
// entries are searchable for its own owner before anyone else asks: none
// of it may come back.
func TestOtherWorkspacesResourcesAreNotFound(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	ob := mustOutbox(t, cfg)
	ownerA := mustOwner(t, m, cfg, "Alpha")
	targetA := mustRoleMember(t, m, ownerA.client, activity.RoleMember)
	fA := mustFixture(t, m, ownerA, ownerA.client, targetA.id)
	ownerB := mustOwner(t, m, cfg, "Beta")
	// Wait until workspace A's owner finds its histories, its member's
	// activity and its log in the index.
	var entriesA []string
	stacktest.Eventually(t, "workspace A's activity is searchable for its owner", func() bool {
		entriesA = entriesA[:0]
		for _, path := range []string{
			"/api/v1/assets/" + fA.asset + "/history", "/api/v1/licenses/" + fA.license + "/history",
			"/api/v1/users/" + fA.user + "/activity", "/api/v1/activity",
		} {
			var page searchapi.EventPage
			a := ownerA.call("GET", path, nil, nil)
			if a.status != http.StatusOK {
				return false
			}
			a.decode(t, &page)
			if len(page.Entries) == 0 {
				return false
			}
			for _, e := range page.Entries {
				entriesA = append(entriesA, e.ID)
			}
		}
		return true
	})
	fA.entry = entriesA[0]
	eps := endpoints()
	checked := 0
	for _, route := range apiRoutes(m) {
		ep := eps[route]
		if !strings.Contains(route, ":") || ep.path == nil {
			continue
		}
		ep.method, _, _ = strings.Cut(route, " ")
		checked++
		t.Run(route, func(t *testing.T) {
			before := ob.last()
			if strings.HasSuffix(route, "/activity/export") || strings.HasSuffix(route, "/history/export") {
				// An export of another workspace's history holds no entry.
				path, _, _ := strings.Cut(ep.path(fA), "?")
				a := ownerB.call("GET", path+"?format=ndjson", nil, nil)
				if a.status != http.StatusOK || len(a.body) != 0 {
					t.Fatalf("another workspace's history exported %d: %s", a.status, a.body)
				}
				return
			}
			a := ep.call(t, ownerB.client, fA, ownerB.password)
			if strings.HasSuffix(route, "/history") || strings.HasSuffix(route, "/activity") {
				// Histories come from the index, which keeps them after a
				// resource is deleted; another workspace's id finds nothing,
				// though the index holds that workspace's entries for it.
				var page struct {
					Entries []json.RawMessage `json:"entries"`
					Total   int64             `json:"total"`
				}
				a.decode(t, &page)
				if a.status != http.StatusOK || len(page.Entries) != 0 || page.Total != 0 {
					t.Fatalf("another workspace's history answered %d: %s", a.status, a.body)
				}
				return
			}
			if a.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", a.status, a.body)
			}
			var e errorAnswer
			a.decode(t, &e)
			if e.Error.Code != activity.ENOTFOUND {
				t.Errorf("error code %q, want not_found", e.Error.Code)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused request wrote %d events", len(events))
			}
		})
	}
	if checked < 20 {
		t.Errorf("only %d routes with ids were checked", checked)
	}
	// Lists, the activity log and its analyses show only the caller's own
	// workspace.
	for _, path := range []string{
		"/api/v1/assets", "/api/v1/licenses", "/api/v1/users", "/api/v1/invitations", "/api/v1/tokens", "/api/v1/alert-rules", "/api/v1/alerts", "/api/v1/archive",
		"/api/v1/activity?limit=200", "/api/v1/activity?limit=200&q=" + url.QueryEscape(ownerA.email), "/api/v1/activity?user=" + ownerA.id,
		"/api/v1/me/activity", "/api/v1/analytics/top-users", "/api/v1/analytics/top-assets", "/api/v1/reports", "/api/v1/report-definitions",
		"/api/v1/integrations/webhooks",
	} {
		a := ownerB.call("GET", path, nil, nil)
		if a.status != http.StatusOK {
			t.Errorf("GET %s as another workspace: %d %s", path, a.status, a.body)
		}
		for _, id := range append([]string{fA.asset, fA.license, fA.user, fA.invitation, fA.token, fA.rule, fA.alert, fA.archive, fA.report, fA.definition, fA.webhook, ownerA.id, ownerA.email}, entriesA...) {
			if strings.Contains(string(a.body), id) {
				t.Errorf("GET %s as another workspace shows %s", path, id)
			}
		}
	}
	// Assigning another workspace's user is refused the same way.
	assetB := mustID(t, ownerB.call("POST", "/api/v1/assets", map[string]string{"name": "Beta laptop"}, nil), "asset")
	for _, path := range []string{"/api/v1/assets/" + assetB + "/assign"} {
		a := ownerB.call("POST", path, map[string]string{"user_id": targetA.id}, nil)
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusNotFound || e.Error.Field != "user_id" {
			t.Errorf("assigning another workspace's user: %d %s", a.status, a.body)
		}
	}
}

var (
	tableRows = regexp.MustCompile(`(?s)<!-- roles:begin -->\n(.*?)<!-- roles:end -->`)
	scopeRows = regexp.MustCompile(`(?s)<!-- scopes:begin -->\n(.*?)<!-- scopes:end -->`)
)

// TestDocsMatchTheCode checks that the API reference's role table is the
// one the code enforces and that it lists every endpoint the server has,
// and that the operations page's configuration table names every setting
// the configuration reads.
func TestDocsMatchTheCode(t *testing.T) {
	raw, err := readRepoFile("docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	api := string(raw)
	got := tableRows.FindStringSubmatch(api)
	if got == nil {
		t.Fatal("docs/api.md has no <!-- roles:begin --> … <!-- roles:end --> section")
	}
	if strings.TrimSpace(got[1]) != strings.TrimSpace(domain.RoleTable()) {
		t.Errorf("docs/api.md's role table differs from the code; it should read:\n%s", domain.RoleTable())
	}
	if got := scopeRows.FindStringSubmatch(api); got == nil || strings.TrimSpace(got[1]) != strings.TrimSpace(domain.ScopeTable()) {
		t.Errorf("docs/api.md's API token scope table (<!-- scopes:begin --> … <!-- scopes:end -->) differs from the code; it should read:\n%s", domain.ScopeTable())
	}
	raw, err = readRepoFile("docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	operations := string(raw)
	source, err := readRepoFile("internal/app/config.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range regexp.MustCompile(`"(FLUXERA_[A-Z0-9_]+)"`).FindAllStringSubmatch(string(source), -1) {
		if !strings.Contains(operations, "`"+v[1]+"`") {
			t.Errorf("docs/operations.md's configuration table lacks %s", v[1])
		}
	}
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	for _, route := range append(apiRoutes(m), publicRoutes...) {
		method, path, _ := strings.Cut(route, " ")
		path = regexp.MustCompile(`:([a-z]+)`).ReplaceAllString(path, "{$1}")
		if !strings.Contains(api, fmt.Sprintf("`%s %s`", method, path)) {
			t.Errorf("docs/api.md does not list `%s %s`", method, path)
		}
	}
}

// readRepoFile reads a file by its path from the repository's root.
func readRepoFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
}

// TestNoInputCausesAServerError sends every route, signed in and public,
// hostile requests (see hostileRequests): malformed and mistyped bodies,
// strings with control characters, compressed bodies, JSON nested 100,000
// deep, bytes that are not UTF-8 in the body, the headers, the query and
// the path, a 100 kB header, hostile CSV files and multipart forms. None may
// be answered with a server error, every refusal has a JSON error body, and
// what no route may take is refused with a 4xx.
func TestNoInputCausesAServerError(t *testing.T) {
	cfg := MustStack(t)
	// Hostile logins fail; they must not lock anyone out of this test.
	cfg.Auth.MaxFailuresPerAccount, cfg.Auth.MaxFailuresPerIP = 1_000_000, 1_000_000
	// Sign-ups are open, so that their checks see the hostile bodies.
	cfg.SignupEnabled, cfg.Signup.MaxPerAddress = true, 1_000_000
	// No relay runs: an anonymization would wait for the index in vain.
	cfg.AnonymizeWait = 10 * time.Millisecond
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Hostile")
	target := mustRoleMember(t, m, owner.client, activity.RoleMember)
	eps := endpoints()
	for route, ep := range publicEndpoints(owner) {
		eps[route] = ep
	}
	routes := append(apiRoutes(m), publicRoutes...)
	for _, route := range routes {
		ep, ok := eps[route]
		if !ok {
			t.Errorf("route %s is not in endpoints(); add it", route)
			continue
		}
		ep.method, _, _ = strings.Cut(route, " ")
		t.Run(route, func(t *testing.T) {
			caller := owner.client
			if ep.public {
				// Anonymous, so that a logout ends no session of the owner's.
				caller = newClient(t, m)
			}
			f := mustFixture(t, m, owner, owner.client, target.id)
			for _, h := range hostileRequests(t, ep, f, owner.password) {
				a := caller.sendRaw(t, h.req)
				if h.refused {
					wantRefusedWithJSON(t, h.name, a)
				} else {
					wantNoServerError(t, h.name, a)
				}
				if a.status >= 300 {
					continue
				}
				if route == "POST /api/v1/me/password" {
					var in domain.PasswordChange
					json.Unmarshal(h.req.body, &in)
					owner.password = in.NewPassword
				}
				if route == "DELETE /api/v1/users/:id" {
					target = mustRoleMember(t, m, owner.client, activity.RoleMember) // the member is gone for good
				}
				if ep.method == "DELETE" || strings.HasSuffix(route, "/deactivate") {
					owner.call("POST", "/api/v1/users/"+target.id+"/activate", nil, nil)
					f = mustFixture(t, m, owner, owner.client, target.id) // the resource is gone or changed
				}
			}
		})
	}
}

// TestIDsInOtherFormsAreNotFound asks every route that takes an id for
// ids a UUID parser accepts but the platform never writes (URN, braces,
// no dashes): each is answered 4xx with a JSON body, never a server error.
func TestIDsInOtherFormsAreNotFound(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Odd Ids")
	id := activity.NewEventID()
	param := regexp.MustCompile(`:[a-z]+`)
	for _, form := range []string{"urn:uuid:" + id, "{" + id + "}", strings.ReplaceAll(id, "-", "")} {
		for _, route := range apiRoutes(m) {
			method, path, _ := strings.Cut(route, " ")
			if !param.MatchString(path) {
				continue
			}
			path = param.ReplaceAllString(path, url.PathEscape(form))
			a := owner.call(method, path, nil, nil)
			var body map[string]any
			if a.status >= 500 || json.Unmarshal([]byte(a.body), &body) != nil {
				t.Errorf("%s %s answered %d %s", method, path, a.status, a.body)
			}
		}
	}
}
