package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestConsoleIntegrations manages an activity webhook from Settings ›
// Integrations as an owner does: a URL that is not public is refused with
// the field named and nothing kept; a webhook of asset actions is added and
// its signing secret shown once; an asset made through the API reaches the
// receiver; pause, a replay with an unreadable time, resume and delete
// each answer as the API would; and a member is refused the page.
func TestConsoleIntegrations(t *testing.T) {
	cfg := activityHookConfig(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleDeliver)
	owner := mustOwner(t, m, cfg, "Console Hooks")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	hooks := newActivityHooks(t)
	b := newBrowser(t, m)
	b.mustSignIn(owner.email, owner.password)

	listing := b.get("/settings/integrations")
	if listing.status != http.StatusOK || !strings.Contains(listing.body, "No activity webhooks yet") {
		t.Fatalf("integrations: %d\n%s", listing.status, listing.body)
	}
	csrf := listing.csrf(t)
	add := func(name, u string) page {
		return b.post("/settings/integrations/webhooks", url.Values{"csrf": {csrf}, "name": {name}, "url": {u}, "categories": {"asset"}, "actions": {"asset.created"}})
	}
	if p := add("Refused", "http://192.168.1.20/hook"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Url:") && !strings.Contains(p.body, "URL:") {
		t.Errorf("a private URL: %d\n%s", p.status, p.body)
	}
	p := add("SIEM <b>bridge</b>", hooks.url)
	if p.status != http.StatusCreated || !strings.Contains(p.body, "whsec_") || !strings.Contains(p.body, "SIEM &lt;b&gt;bridge&lt;/b&gt;") {
		t.Fatalf("add a webhook: %d\n%s", p.status, p.body)
	}
	if again := b.get("/settings/integrations"); strings.Contains(again.body, "whsec_") {
		t.Error("the signing secret is shown again")
	}
	var list struct {
		Webhooks []struct{ ID, Name string }
	}
	owner.call("GET", "/api/v1/integrations/webhooks", nil, nil).decode(t, &list)
	if len(list.Webhooks) != 1 {
		t.Fatalf("%d webhooks, want the one added", len(list.Webhooks))
	}
	id := list.Webhooks[0].ID

	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Hooked from the console"}, nil), "asset")
	stacktest.Eventually(t, "the receiver gets the asset", func() bool { return len(hooks.accepted()) >= 1 })
	if got := hooks.accepted()[0].payload.Event.Resource.Name; got != "Hooked from the console" {
		t.Errorf("delivered %q", got)
	}

	change := func(what string, form url.Values) page {
		form.Set("csrf", csrf)
		return b.post("/settings/integrations/webhooks/"+id+"/"+what, form)
	}
	if p := change("pause", url.Values{}); p.status != http.StatusOK || !strings.Contains(p.body, "is paused") || !strings.Contains(p.body, ">Resume<") {
		t.Errorf("pause: %d\n%s", p.status, p.body)
	}
	if p := change("replay", url.Values{"from": {"yesterday"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "from must be a date and time") {
		t.Errorf("a replay from an unreadable time: %d", p.status)
	}
	from := time.Now().Add(-time.Hour).In(time.UTC).Format("2006-01-02T15:04")
	if p := change("replay", url.Values{"from": {from}}); p.status != http.StatusOK || !strings.Contains(p.body, "are sent again") {
		t.Errorf("replay: %d\n%s", p.status, p.body)
	}
	if p := change("resume", url.Values{}); p.status != http.StatusOK || !strings.Contains(p.body, "is resumed") {
		t.Errorf("resume: %d", p.status)
	}
	if p := change("delete", url.Values{}); p.status != http.StatusOK || !strings.Contains(p.body, "No activity webhooks yet") {
		t.Errorf("delete: %d\n%s", p.status, p.body)
	}
	if p := change("explode", url.Values{}); p.status != http.StatusNotFound {
		t.Errorf("an unknown change: %d", p.status)
	}

	mb := newBrowser(t, m)
	mb.mustSignIn(member.email, member.password)
	if p := mb.get("/settings/integrations"); p.status != http.StatusForbidden {
		t.Errorf("a member opened the integrations: %d", p.status)
	}
	if p := mb.get("/me/activity"); strings.Contains(p.body, `href="/settings/integrations"`) {
		t.Error("a member is offered the integrations")
	}
}
