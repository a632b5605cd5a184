package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// answer is one HTTP answer as the tests see it.
type answer struct {
	status int
	body   []byte
	header http.Header
}

func (a answer) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		tb.Fatalf("answer is not JSON (%d): %s", a.status, a.body)
	}
}

// call sends a request with a JSON body (or none when body is nil), the
// given extra headers, and returns the whole answer.
func (c *client) call(method, path string, body any, header map[string]string) answer {
	c.tb.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case *multipart.Writer:
		c.tb.Fatal("use upload for multipart bodies")
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/json"
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "fluxera-test/1.0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) answer {
	c.tb.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	return answer{status: res.StatusCode, body: readBody(res), header: res.Header}
}

// readBody reads an answer's body; of a live stream, which never ends,
// only its opening line, and then hangs up.
func readBody(res *http.Response) []byte {
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		opening, _ := bufio.NewReader(res.Body).ReadString('\n')
		return []byte(opening)
	}
	raw, _ := io.ReadAll(res.Body)
	return raw
}

// upload sends one file as multipart/form-data in the field "file".
func (c *client) upload(path, fileName string, data []byte, header map[string]string) answer {
	c.tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", fileName)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", c.base+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("User-Agent", "fluxera-test/1.0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.send(req)
}

// outbox reads the events of the test's outbox.
type outbox struct {
	tb testing.TB
	db *postgres.DB
}

func mustOutbox(tb testing.TB, cfg app.Config) *outbox {
	tb.Helper()
	db, err := postgres.Open(cfg.Postgres)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return &outbox{tb: tb, db: db}
}

// last returns the highest sequence number so far.
func (o *outbox) last() int64 {
	o.tb.Helper()
	var seq int64
	if err := o.db.NewSelect().TableExpr("outbox").ColumnExpr("coalesce(max(seq), 0)").Scan(context.Background(), &seq); err != nil {
		o.tb.Fatal(err)
	}
	return seq
}

// since returns the events written after seq, in order, with their raw JSON.
func (o *outbox) since(seq int64) ([]activity.Event, []string) {
	o.tb.Helper()
	var rows []struct {
		Payload string `bun:"payload"`
	}
	if err := o.db.NewSelect().TableExpr("outbox").ColumnExpr("payload::text AS payload").Where("seq > ?", seq).OrderExpr("seq").Scan(context.Background(), &rows); err != nil {
		o.tb.Fatal(err)
	}
	events := make([]activity.Event, len(rows))
	raws := make([]string, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal([]byte(r.Payload), &events[i]); err != nil {
			o.tb.Fatal(err)
		}
		raws[i] = r.Payload
	}
	return events, raws
}

func changeOf(e activity.Event, field string) (activity.Change, bool) {
	for _, c := range e.Changes {
		if c.Field == field {
			return c, true
		}
	}
	return activity.Change{}, false
}

// wantChange fails unless the event changed field from before to after.
func wantChange(t *testing.T, e activity.Event, field, before, after string) {
	t.Helper()
	c, ok := changeOf(e, field)
	if !ok {
		t.Errorf("%s: no change of %s in %+v", e.Action, field, e.Changes)
		return
	}
	if c.Before != before || c.After != after {
		t.Errorf("%s: %s changed %q → %q, want %q → %q", e.Action, field, c.Before, c.After, before, after)
	}
}

// png is the smallest valid PNG: one transparent pixel.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestEveryTrackedActionRecordsOneEvent performs every action the user
// guide lists under "What is Tracked" through the API, in one workspace,
// and checks that each wrote exactly one event with its action, actor,
// resource, changes and context; then that Kafka carries them in order.
func TestEveryTrackedActionRecordsOneEvent(t *testing.T) {
	cfg := MustStack(t)
	// The relay starts at the end, so that the outbox keeps every event.
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	ownerEmail, ownerPassword := MustWorkspace(t, cfg, "Tracked")
	owner := newClient(t, m)
	start := ob.last()

	var (
		ownerID, sessionID, bobID, bobEmail, carolEmail, inviteToken, declineToken string
		tokenID, apiToken, assetID, maintenanceID, licenseID                       string
		bob                                                                        *client
	)
	bobEmail, carolEmail = "bob-"+stacktest.RandomID()+"@example.com", "carol-"+stacktest.RandomID()+"@example.com"
	const licenseKey = "SECRET-KEY-4242-ABCD"

	type step struct {
		name string
		// prepare runs before the action and may write events of its own.
		prepare func(t *testing.T)
		do      func(t *testing.T, requestID string) answer
		status  int
		// actor is the email of the acting user; "" for anonymous actors.
		action, actor string
		check         func(t *testing.T, e activity.Event, a answer)
	}
	hdr := func(id string) map[string]string { return map[string]string{"X-Request-ID": id} }
	steps := []step{
		{name: "login", action: "auth.login", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/auth/login", map[string]string{"email": ownerEmail, "password": ownerPassword}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var res struct {
					SessionID string `json:"session_id"`
					User      domain.User
				}
				a.decode(t, &res)
				ownerID, sessionID = res.User.ID, res.SessionID
				if e.Context.SessionID != sessionID || e.Resource.ID != ownerID {
					t.Errorf("login event names session %q and user %q, want %q and %q", e.Context.SessionID, e.Resource.ID, sessionID, ownerID)
				}
				if cookie := a.header.Get("Set-Cookie"); !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
					t.Errorf("session cookie %q is not HttpOnly and SameSite", cookie)
				}
			}},
		{name: "failed login", action: "auth.login_failed", status: 401,
			do: func(t *testing.T, id string) answer {
				return newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": ownerEmail, "password": "wrong password"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if e.Outcome != activity.OutcomeFailure || e.Details["reason"] != "wrong_password" {
					t.Errorf("failed login: outcome %q, details %v", e.Outcome, e.Details)
				}
			}},
		{name: "settings changed", action: "system.settings_changed", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("PATCH", "/api/v1/settings", map[string]any{"working_hours_start": "08:00", "working_days": []string{"fri", "mon", "tue"}}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "working_hours_start", "09:00", "08:00")
				wantChange(t, e, "working_days", "mon,tue,wed,thu,fri", "mon,tue,fri")
				if e.Resource.Type != "workspace" || e.Resource.Name != "Tracked" {
					t.Errorf("settings event resource = %+v", e.Resource)
				}
			}},
		{name: "user invited", action: "user.invited", status: 201,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/invitations", map[string]string{"email": bobEmail, "name": "Bob Builder", "role": "member"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var inv domain.NewInvitation
				a.decode(t, &inv)
				inviteToken = inv.Token
				if e.Resource.Type != "invitation" || e.Resource.Name != bobEmail || inv.Token == "" {
					t.Errorf("invitation event resource = %+v, token %q", e.Resource, inv.Token)
				}
				wantChange(t, e, "role", "", "member")
			}},
		{name: "invitation accepted", action: "invitation.accepted", status: 201,
			do: func(t *testing.T, id string) answer {
				return newClient(t, m).call("POST", "/api/v1/invitations/accept", map[string]string{"token": inviteToken, "password": "bob-password-1"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var u domain.User
				a.decode(t, &u)
				bobID = u.ID
				if e.Actor.Email != bobEmail || e.Actor.ID != bobID || e.Resource.Name != bobEmail {
					t.Errorf("accepted event actor %+v resource %+v", e.Actor, e.Resource)
				}
				bob = newClient(t, m)
				bob.mustLogin(bobEmail, "bob-password-1")
			}},
		{name: "invitation declined", action: "invitation.declined", status: 204,
			prepare: func(t *testing.T) {
				inv := owner.call("POST", "/api/v1/invitations", map[string]string{"email": carolEmail, "role": "viewer"}, nil)
				var ni domain.NewInvitation
				inv.decode(t, &ni)
				declineToken = ni.Token
			},
			do: func(t *testing.T, id string) answer {
				return newClient(t, m).call("POST", "/api/v1/invitations/decline", map[string]string{"token": declineToken}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if e.Actor.Type != activity.ActorAnonymous || e.Actor.Email != carolEmail {
					t.Errorf("declined event actor = %+v", e.Actor)
				}
			}},
		{name: "role changed", action: "user.role_changed", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("PUT", "/api/v1/users/"+bobID+"/role", map[string]string{"role": "admin", "note": "runs IT now"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "role", "member", "admin")
				if e.Resource.ID != bobID || e.Note != "runs IT now" {
					t.Errorf("role event resource %+v note %q", e.Resource, e.Note)
				}
			}},
		{name: "user deactivated", action: "user.deactivated", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/users/"+bobID+"/deactivate", nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "active", "true", "false")
				if st := bob.call("GET", "/api/v1/me", nil, nil).status; st != 401 {
					t.Errorf("a deactivated user's session still answers %d", st)
				}
				if st := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": bobEmail, "password": "bob-password-1"}, nil).status; st != 401 {
					t.Errorf("a deactivated user logs in with status %d", st)
				}
			}},
		{name: "user activated", action: "user.activated", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/users/"+bobID+"/activate", nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "active", "false", "true")
				bob.mustLogin(bobEmail, "bob-password-1")
			}},
		{name: "profile updated", action: "user.profile_updated", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("PATCH", "/api/v1/me", map[string]string{"name": "Tracked Chief"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "name", "Tracked Owner", "Tracked Chief")
				if len(e.Changes) != 1 {
					t.Errorf("profile event lists unchanged fields: %+v", e.Changes)
				}
			}},
		{name: "password changed", action: "user.password_changed", status: 204,
			do: func(t *testing.T, id string) answer {
				return bob.call("POST", "/api/v1/me/password", map[string]string{"current_password": "bob-password-1", "new_password": "bob-password-2"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				c, ok := changeOf(e, "password")
				if !ok || !c.Redacted || c.Before != "" || c.After != "" {
					t.Errorf("password change = %+v, want a redacted change", e.Changes)
				}
				if st := bob.call("GET", "/api/v1/me", nil, nil).status; st != 200 {
					t.Errorf("the session that changed the password ended (%d)", st)
				}
			}},
		{name: "api token created", action: "user.api_token_created", status: 201,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/tokens", map[string]any{"name": "inventory sync", "scopes": []string{"assets:write"}}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var nt domain.NewAPIToken
				a.decode(t, &nt)
				tokenID, apiToken = nt.ID, nt.Token
				if e.Resource.Type != "api_token" || e.Resource.ID != tokenID || !strings.HasPrefix(apiToken, "flx_") || len(apiToken) < 40 {
					t.Errorf("token event resource %+v, token %q", e.Resource, apiToken)
				}
			}},
		{name: "asset created with an API token", action: "asset.created", status: 201,
			do: func(t *testing.T, id string) answer {
				return newClient(t, m).call("POST", "/api/v1/assets", map[string]string{"name": "MacBook Pro", "asset_tag": "A-1029", "serial": "C02X", "category": "Laptop", "value": "2399.00", "currency": "EUR", "location": "Berlin", "purchase_date": "2026-03-01"},
					map[string]string{"X-Request-ID": id, "Authorization": "Bearer " + apiToken})
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var as domain.Asset
				a.decode(t, &as)
				assetID = as.ID
				if e.Actor.Type != activity.ActorAPIToken || e.Context.Method != activity.MethodAPI || e.Details["api_token_id"] != tokenID {
					t.Errorf("token request recorded actor %+v method %q details %v", e.Actor, e.Context.Method, e.Details)
				}
				wantChange(t, e, "name", "", "MacBook Pro")
				wantChange(t, e, "value", "", "2399.00")
				wantChange(t, e, "purchase_date", "", "2026-03-01")
			}},
		{name: "api token revoked", action: "user.api_token_revoked", status: 204,
			do: func(t *testing.T, id string) answer {
				return owner.call("DELETE", "/api/v1/tokens/"+tokenID, nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				st := newClient(t, m).call("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer " + apiToken}).status
				if st != 401 {
					t.Errorf("a revoked token still answers %d", st)
				}
			}},
		{name: "asset edited", action: "asset.updated", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("PATCH", "/api/v1/assets/"+assetID, map[string]string{"location": "Hamburg", "value": "2199.00", "note": "moved"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "location", "Berlin", "Hamburg")
				wantChange(t, e, "value", "2399.00", "2199.00")
				if len(e.Changes) != 2 || e.Note != "moved" {
					t.Errorf("edit changes %+v note %q", e.Changes, e.Note)
				}
			}},
		{name: "asset assigned", action: "asset.assigned", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/assets/"+assetID+"/assign", map[string]string{"user_id": bobID}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "assigned_to", "", "Bob Builder ("+bobID+")")
				wantChange(t, e, "status", "available", "assigned")
				if len(e.Related) != 1 || e.Related[0].ID != bobID || e.Related[0].Name != "Bob Builder" || e.Related[0].Role != "assignee" {
					t.Errorf("assignment related = %+v", e.Related)
				}
			}},
		{name: "asset unassigned", action: "asset.unassigned", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/assets/"+assetID+"/unassign", nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "assigned_to", "Bob Builder ("+bobID+")", "")
				wantChange(t, e, "status", "assigned", "available")
			}},
		{name: "asset status changed", action: "asset.status_changed", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("PUT", "/api/v1/assets/"+assetID+"/status", map[string]string{"status": "in_maintenance"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "status", "available", "in_maintenance")
			}},
		{name: "maintenance scheduled", action: "asset.maintenance_scheduled", status: 201,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/assets/"+assetID+"/maintenance", map[string]string{"scheduled_for": "2026-12-01", "description": "battery swap"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var mt domain.Maintenance
				a.decode(t, &mt)
				maintenanceID = mt.ID
				if e.Details["scheduled_for"] != "2026-12-01" || e.Details["description"] != "battery swap" || len(e.Related) != 1 || e.Related[0].ID != maintenanceID {
					t.Errorf("maintenance event details %v related %+v", e.Details, e.Related)
				}
			}},
		{name: "maintenance completed", action: "asset.maintenance_completed", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/assets/"+assetID+"/maintenance/"+maintenanceID+"/complete", map[string]string{"outcome": "new battery fitted"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if e.Details["outcome"] != "new battery fitted" {
					t.Errorf("completion details %v", e.Details)
				}
			}},
		{name: "asset image uploaded", action: "asset.image_uploaded", status: 201,
			do: func(t *testing.T, id string) answer {
				return owner.upload("/api/v1/assets/"+assetID+"/images", "front.png", png, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if e.Details["file_name"] != "front.png" || e.Details["content_type"] != "image/png" || e.Details["size"] != float64(len(png)) {
					t.Errorf("image details %v", e.Details)
				}
			}},
		{name: "data exported", action: "system.data_exported", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("GET", "/api/v1/assets/export", nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if e.Details["rows"] != float64(1) || e.Details["dataset"] != "assets" || !strings.Contains(string(a.body), "MacBook Pro") {
					t.Errorf("export details %v, body %q", e.Details, a.body)
				}
			}},
		{name: "asset deleted", action: "asset.deleted", status: 204,
			do: func(t *testing.T, id string) answer {
				return owner.call("DELETE", "/api/v1/assets/"+assetID, map[string]string{"note": "written off"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "name", "MacBook Pro", "")
				wantChange(t, e, "asset_tag", "A-1029", "")
				wantChange(t, e, "location", "Hamburg", "")
				if st := owner.call("GET", "/api/v1/assets/"+assetID, nil, nil).status; st != 404 {
					t.Errorf("a deleted asset answers %d", st)
				}
			}},
		{name: "license created", action: "license.created", status: 201,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Figma Pro", "vendor": "Figma", "seats": 2, "key": licenseKey, "expires_on": "2027-01-31", "value": "540.00", "currency": "USD"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var l struct{ ID string }
				a.decode(t, &l)
				licenseID = l.ID
				wantChange(t, e, "name", "", "Figma Pro")
				if c, ok := changeOf(e, "key"); !ok || !c.Redacted {
					t.Errorf("license key change = %+v, want redacted", c)
				}
			}},
		{name: "license edited", action: "license.updated", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("PATCH", "/api/v1/licenses/"+licenseID, map[string]any{"seats": 3}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "seats", "2", "3")
			}},
		{name: "license assigned", action: "license.assigned", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/licenses/"+licenseID+"/assign", map[string]string{"user_id": bobID}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if len(e.Related) == 0 || e.Related[0].ID != bobID || e.Related[0].Name != "Bob Builder" {
					t.Errorf("license assignment related = %+v", e.Related)
				}
			}},
		{name: "license unassigned", action: "license.unassigned", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/licenses/"+licenseID+"/unassign", map[string]string{"user_id": bobID}, hdr(id))
			}},
		{name: "license renewed", action: "license.renewed", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/licenses/"+licenseID+"/renew", map[string]string{"expires_on": "2028-01-31"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "expires_on", "2027-01-31", "2028-01-31")
			}},
		{name: "expiration date updated", action: "license.expiration_updated", status: 200,
			do: func(t *testing.T, id string) answer {
				return owner.call("PUT", "/api/v1/licenses/"+licenseID+"/expiration", map[string]string{"expires_on": "2028-02-29"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "expires_on", "2028-01-31", "2028-02-29")
			}},
		{name: "license key viewed", action: "license.key_viewed", status: 200,
			do: func(t *testing.T, id string) answer {
				return bob.call("GET", "/api/v1/licenses/"+licenseID+"/key", nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				var k struct{ Key string }
				a.decode(t, &k)
				if k.Key != licenseKey || a.header.Get("Cache-Control") != "no-store" {
					t.Errorf("key view answered %q with Cache-Control %q", k.Key, a.header.Get("Cache-Control"))
				}
				if e.Actor.ID != bobID || e.Resource.ID != licenseID {
					t.Errorf("key view actor %+v resource %+v", e.Actor, e.Resource)
				}
			}},
		{name: "license deleted", action: "license.deleted", status: 204,
			do: func(t *testing.T, id string) answer {
				return owner.call("DELETE", "/api/v1/licenses/"+licenseID, nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				wantChange(t, e, "name", "Figma Pro", "")
			}},
		{name: "failed login of an unknown email", action: "auth.login_failed", status: 401,
			do: func(t *testing.T, id string) answer {
				return newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": "nobody-" + stacktest.RandomID() + "@example.com", "password": "guess"}, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if e.WorkspaceID != activity.PlatformWorkspace || e.Actor.Type != activity.ActorAnonymous || !strings.HasPrefix(e.Actor.Email, "nobody-") {
					t.Errorf("unknown-email failure recorded in %s with actor %+v", e.WorkspaceID, e.Actor)
				}
			}},
		{name: "logout", action: "auth.logout", status: 204,
			do: func(t *testing.T, id string) answer {
				return owner.call("POST", "/api/v1/auth/logout", nil, hdr(id))
			},
			check: func(t *testing.T, e activity.Event, a answer) {
				if e.Context.SessionID != sessionID {
					t.Errorf("logout names session %q, want %q", e.Context.SessionID, sessionID)
				}
				if st := owner.call("GET", "/api/v1/me", nil, nil).status; st != 401 {
					t.Errorf("the ended session still answers %d", st)
				}
			}},
	}

	actors := map[string]string{"invitation accepted": bobEmail, "password changed": bobEmail, "license key viewed": bobEmail, "invitation declined": carolEmail}
	var workspaceID string
	for i, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			requestID := fmt.Sprintf("req-%02d-%s", i, stacktest.RandomID())
			if st.prepare != nil {
				st.prepare(t)
			}
			before := ob.last()
			a := st.do(t, requestID)
			if a.status != st.status {
				t.Fatalf("status %d, want %d: %s", a.status, st.status, a.body)
			}
			events, raws := ob.since(before)
			if len(events) != 1 {
				t.Fatalf("the action wrote %d events, want exactly 1", len(events))
			}
			e := events[0]
			if e.Action != st.action {
				t.Fatalf("action %q, want %q", e.Action, st.action)
			}
			if e.Category != activity.CategoryOf(st.action) || e.Schema != activity.SchemaVersion || e.Validate() != nil {
				t.Errorf("event is not well formed: %+v (%v)", e, e.Validate())
			}
			if workspaceID == "" {
				workspaceID = e.WorkspaceID
			}
			if e.WorkspaceID != workspaceID && st.name != "failed login of an unknown email" {
				t.Errorf("event in workspace %s, want %s", e.WorkspaceID, workspaceID)
			}
			wantActor, named := actors[st.name]
			if !named {
				wantActor = ownerEmail
			}
			if e.Actor.Email != wantActor && st.name != "failed login of an unknown email" {
				t.Errorf("actor %q, want %q", e.Actor.Email, wantActor)
			}
			if e.Resource.Type == "" || (e.Resource.Name == "" && e.Resource.ID == "") {
				t.Errorf("resource is not named: %+v", e.Resource)
			}
			if e.Context.IP != "127.0.0.1" || e.Context.UserAgent != "fluxera-test/1.0" || e.Context.RequestID != requestID {
				t.Errorf("context = %+v, want ip 127.0.0.1, the test's user agent and request id %s", e.Context, requestID)
			}
			if e.Context.Method != activity.MethodWeb && e.Context.Method != activity.MethodAPI {
				t.Errorf("context.method = %q", e.Context.Method)
			}
			if e.OccurredAt.IsZero() || time.Since(e.OccurredAt) > time.Hour {
				t.Errorf("occurred_at = %v", e.OccurredAt)
			}
			for _, secret := range []string{licenseKey, "bob-password-1", "bob-password-2", ownerPassword, inviteToken, declineToken} {
				if secret != "" && strings.Contains(raws[0], secret) {
					t.Errorf("the event carries a secret: %s", raws[0])
				}
			}
			if apiToken != "" && strings.Contains(raws[0], apiToken) {
				t.Errorf("the event carries the API token: %s", raws[0])
			}
			if st.check != nil {
				st.check(t, e, a)
			}
		})
		if !ok {
			t.FailNow() // later steps build on this one
		}
	}

	// Reports and integrations are recorded by the features that produce
	// them through the same service; record one of each as those would.
	db := ob.db
	p := activity.Principal{WorkspaceID: workspaceID, UserID: ownerID, Email: ownerEmail, Name: "Tracked Chief", Role: activity.RoleOwner, Type: activity.ActorUser}
	settings := postgres.NewSettingsService(db)
	for _, a := range []domain.SystemAction{
		{Action: domain.ActionReportGenerated, Resource: activity.Resource{Type: "report", Name: "License utilisation"}, Details: map[string]any{"format": "pdf"}},
		{Action: domain.ActionIntegrationConfigured, Resource: activity.Resource{Type: "integration", Name: "SIEM webhook"}, Changes: []activity.Change{{Field: "url", Before: "", After: "https://siem.example.com/hook"}}},
	} {
		before := ob.last()
		if err := settings.Record(context.Background(), p, a); err != nil {
			t.Fatalf("record %s: %v", a.Action, err)
		}
		if events, _ := ob.since(before); len(events) != 1 || events[0].Action != a.Action || events[0].Actor.ID != ownerID {
			t.Errorf("recording %s wrote %+v", a.Action, events)
		}
	}
	viewer := p
	viewer.Role = activity.RoleViewer
	if err := settings.Record(context.Background(), viewer, domain.SystemAction{Action: domain.ActionDataExported, Resource: activity.Resource{Type: "export"}}); activity.ErrorCode(err) != activity.EFORBIDDEN {
		t.Errorf("a viewer's export was recorded (%v)", err)
	}

	// Every event reaches Kafka, in the order of the outbox.
	want, _ := ob.since(start)
	MustStart(t, cfg, app.RoleRelay)
	wanted := map[string]bool{}
	var wantIDs []string
	for _, e := range want {
		if e.WorkspaceID == workspaceID {
			wanted[e.ID] = true
			wantIDs = append(wantIDs, e.ID)
		}
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.Publisher.Topic, GroupID: "test-reader-" + stacktest.RandomID(), StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(got) < len(wantIDs) {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d of %d events from Kafka: %v", len(got), len(wantIDs), err)
		}
		e, err := activity.DecodeEvent(msg.Value)
		if err != nil {
			t.Fatalf("Kafka carries an invalid event: %v", err)
		}
		if string(msg.Key) != e.WorkspaceID {
			t.Errorf("message key %q, want the workspace id %s", msg.Key, e.WorkspaceID)
		}
		if wanted[e.ID] {
			delete(wanted, e.ID) // a republished event counts once
			got = append(got, e.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(wantIDs, ",") {
		t.Errorf("Kafka order differs from the outbox:\n got %v\nwant %v", got, wantIDs)
	}
}
