package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	apiclient "github.com/fluxera/activity/client"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// mustGoClient returns a client of the API m serves, with opts, whose
// requests and answers are held to the OpenAPI document like the other
// tests'.
func mustGoClient(t *testing.T, m *app.Main, opts ...apiclient.Option) *apiclient.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	h := &http.Client{Jar: jar, Transport: contractCheck{tb: t, next: http.DefaultTransport}}
	c, err := apiclient.New("http://"+m.HTTPAddr, append([]apiclient.Option{apiclient.WithHTTPClient(h)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGoClient signs in through the Go client, creates an asset and finds
// its entry in the activity log, then reads it, its history, an export and
// a report, and checks that refusals come back as the API's errors, with a
// session and with a token.
func TestGoClient(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	email, password := MustWorkspace(t, cfg, "Client Co")
	ctx := context.Background()
	c := mustGoClient(t, m)

	if _, err := c.Login(ctx, email, "not-the-password"); !apiclient.IsCode(err, activity.EUNAUTHORIZED) {
		t.Fatalf("login with a wrong password: %v, want unauthorized", err)
	}
	s, err := c.Login(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	if s.User.Email != email || s.User.Role != activity.RoleOwner {
		t.Errorf("signed in as %+v", s.User)
	}
	me, err := c.Me(ctx)
	if err != nil || me.ID != s.User.ID || me.ActorType != activity.ActorUser {
		t.Fatalf("me: %+v, %v", me, err)
	}

	_, err = c.CreateAsset(ctx, apiclient.AssetCreate{Name: ""})
	var apiErr *apiclient.Error
	if !asError(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Code != activity.EINVALID || apiErr.Field != "name" {
		t.Errorf("create an asset without a name: %v, want 400 invalid naming name", err)
	}
	name := "Client laptop " + stacktest.RandomID()
	asset, err := c.CreateAsset(ctx, apiclient.AssetCreate{Name: name, AssetTag: "CL-1", Value: "999.00", Currency: "eur", PurchaseDate: "2026-03-01", Note: "made by the Go client"})
	if err != nil {
		t.Fatal(err)
	}
	if asset.Name != name || asset.Currency != "EUR" || asset.Status != "available" {
		t.Errorf("created %+v", asset)
	}
	if got, err := c.Asset(ctx, asset.ID); err != nil || got.ID != asset.ID {
		t.Errorf("read the asset back: %+v, %v", got, err)
	}

	var page *apiclient.EntryPage
	stacktest.Eventually(t, "the asset's entry is found through the client", func() bool {
		page, err = c.Activity(ctx, apiclient.Query{Q: name, Actions: []string{"asset.created"}})
		return err == nil && page.Total > 0
	})
	if page.Total != 1 || len(page.Entries) != 1 {
		t.Fatalf("found %d entries, want 1", page.Total)
	}
	e := page.Entries[0]
	if e.Resource.ID != asset.ID || e.Actor.Email != email || e.Note != "made by the Go client" || e.Context.UserAgent != "fluxera-client/1" {
		t.Errorf("entry %+v", e.Event)
	}
	detail, err := c.Entry(ctx, e.ID)
	if err != nil || detail.ID != e.ID || detail.User.Email != email {
		t.Errorf("entry in full: %+v, %v", detail, err)
	}
	if _, err := c.Entry(ctx, activity.NewEventID()); !apiclient.IsCode(err, activity.ENOTFOUND) {
		t.Errorf("an entry that does not exist: %v, want not_found", err)
	}
	if h, err := c.AssetHistory(ctx, asset.ID, apiclient.Query{}); err != nil || h.Total != 1 || h.Entries[0].ID != e.ID {
		t.Errorf("the asset's history: %+v, %v", h, err)
	}
	if _, err := c.Activity(ctx, apiclient.Query{Limit: 500}); !apiclient.IsCode(err, activity.EINVALID) {
		t.Errorf("a limit of 500: %v, want invalid", err)
	}

	f, err := c.ExportActivity(ctx, apiclient.Query{Q: name}, apiclient.CSV)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil || !strings.HasPrefix(f.ContentType, "text/csv") || !strings.Contains(string(raw), name) {
		t.Errorf("the CSV export (%s): %v %.300s", f.ContentType, err, raw)
	}

	r, err := c.GenerateReport(ctx, apiclient.ReportRequest{Type: "asset", Range: "7d"})
	if err != nil {
		t.Fatal(err)
	}
	if reports, err := c.Reports(ctx, apiclient.ReportFilter{Type: "asset"}); err != nil || len(reports.Reports) != 1 || reports.Reports[0].ID != r.ID {
		t.Errorf("the reports: %+v, %v", reports, err)
	}

	lic, err := c.CreateLicense(ctx, apiclient.LicenseCreate{Name: "Figma", Seats: 2, Key: "FIG-123"})
	if err != nil {
		t.Fatal(err)
	}
	if key, err := c.LicenseKey(ctx, lic.ID); err != nil || key != "FIG-123" {
		t.Errorf("license key: %q, %v", key, err)
	}
	if users, err := c.Users(ctx); err != nil || len(users) != 1 {
		t.Errorf("members: %+v, %v", users, err)
	}
	if alerts, err := c.Alerts(ctx, apiclient.AlertFilter{State: "open"}); err != nil || alerts.Alerts == nil && alerts.NextCursor != "" {
		t.Errorf("alerts: %+v, %v", alerts, err)
	}

	// A token reads what its scope allows, and nothing more.
	tok, err := c.CreateToken(ctx, apiclient.TokenCreate{Name: "siem", Scopes: []string{"activity:read"}, ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token == "" || tok.ExpiresAt == nil || len(tok.Scopes) != 1 {
		t.Errorf("token %+v", tok.APIToken)
	}
	tc := mustGoClient(t, m, apiclient.WithToken(tok.Token))
	if p, err := tc.Activity(ctx, apiclient.Query{Q: name}); err != nil || p.Total != 1 {
		t.Errorf("the log with a read token: %+v, %v", p, err)
	}
	_, err = tc.CreateAsset(ctx, apiclient.AssetCreate{Name: "Refused"})
	if !asError(err, &apiErr) || apiErr.Status != http.StatusForbidden || !strings.Contains(apiErr.Message, "assets:write") {
		t.Errorf("create an asset with a read token: %v, want 403 naming assets:write", err)
	}
	if err := c.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Me(ctx); !apiclient.IsCode(err, activity.EUNAUTHORIZED) {
		t.Errorf("a revoked token: %v, want unauthorized", err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(ctx); !apiclient.IsCode(err, activity.EUNAUTHORIZED) {
		t.Errorf("after logout: %v, want unauthorized", err)
	}
}

// asError reports whether err is a *apiclient.Error, setting target to it.
func asError(err error, target **apiclient.Error) bool {
	e, ok := err.(*apiclient.Error)
	if ok {
		*target = e
	}
	return ok
}
