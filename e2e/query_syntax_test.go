package e2e

import (
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// Browsers the actions of TestQuerySyntax come from.
const (
	safariOnMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	chromeOnWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	firefoxOnLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
)

// TestQuerySyntax performs a small history through the API, from several
// addresses and browsers, and checks that each search of a table finds
// exactly the entries it should, and that malformed searches answer 400
// naming q.
func TestQuerySyntax(t *testing.T) {
	cfg := MustStack(t)
	cfg.HTTP.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Quarry")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	from := func(ip, agent string) map[string]string {
		return map[string]string{"X-Forwarded-For": ip, "User-Agent": agent}
	}

	mbp := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{
		"name": "MacBook Pro 16", "asset_tag": "MBP-1", "note": "for the new designer",
	}, from("192.0.2.10", safariOnMac)), "MacBook")
	thinkpad := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{
		"name": "ThinkPad X1 Carbon", "serial": "SN-OLD",
	}, from("198.51.100.20", chromeOnWindows)), "ThinkPad")
	if a := admin.call("PATCH", "/api/v1/assets/"+thinkpad, map[string]string{
		"serial": "SN-ZQ-42", "note": "serial label replaced",
	}, from("203.0.113.5", firefoxOnLinux)); a.status != http.StatusOK {
		t.Fatalf("edit ThinkPad: %d %s", a.status, a.body)
	}
	figma := mustID(t, admin.call("POST", "/api/v1/licenses", map[string]any{
		"name": "Figma Enterprise", "vendor": "Figma", "seats": 10,
	}, from("2001:db8::7", "curl/8.5.0")), "Figma")
	if a := owner.call("DELETE", "/api/v1/assets/"+mbp, map[string]string{"note": "screen broken"}, from("10.1.2.3", safariOnMac)); a.status >= 300 {
		t.Fatalf("delete MacBook: %d %s", a.status, a.body)
	}
	req, _ := http.NewRequest("POST", owner.base+"/api/v1/assets/import", strings.NewReader("name,serial\nDockingstation Zoë,DS-1\n"))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("User-Agent", "fluxera-test/1.0")
	req.Header.Set("X-Forwarded-For", "10.1.2.4")
	if a := owner.send(req); a.status >= 300 {
		t.Fatalf("import: %d %s", a.status, a.body)
	}
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": admin.email, "password": "wrong"}, from("2001:db8:1::9", firefoxOnLinux)); a.status != http.StatusUnauthorized {
		t.Fatalf("failed login: %d %s", a.status, a.body)
	}

	// Every entry of the workspace gets a name, so that the table can say
	// which it expects.
	label := func(e searchapi.Entry) string {
		who := map[string]string{owner.email: "owner", admin.email: "admin", member.email: "member"}
		switch e.Action {
		case "auth.login":
			return who[e.Actor.Email] + " login"
		case "user.invited":
			return "invited " + who[e.Resource.Name]
		case "invitation.accepted":
			return who[e.Actor.Email] + " accepted"
		case "asset.created":
			switch e.Resource.ID {
			case mbp:
				return "MacBook"
			case thinkpad:
				return "ThinkPad"
			}
			return e.Resource.Name
		case "asset.updated":
			return "ThinkPad edit"
		case "asset.deleted":
			return "MacBook deleted"
		case "license.created":
			if e.Resource.ID == figma {
				return "Figma"
			}
		case "auth.login_failed":
			return "failed login"
		case "user.created":
			return "workspace owner"
		}
		return "unexpected " + e.Action
	}
	everything := []string{
		"workspace owner", "owner login", "invited admin", "admin accepted", "admin login",
		"invited member", "member accepted", "member login",
		"MacBook", "ThinkPad", "ThinkPad edit", "Figma", "MacBook deleted", "Dockingstation Zoë", "failed login",
	}
	search := func(t *testing.T, c *client, q string) (answer, []string) {
		t.Helper()
		a := c.call("GET", "/api/v1/activity?limit=200&q="+url.QueryEscape(q), nil, nil)
		if a.status != http.StatusOK {
			return a, nil
		}
		var page searchapi.EventPage
		a.decode(t, &page)
		got := []string{}
		views := 0
		for _, e := range page.Entries {
			if e.Action == "system.log_viewed" {
				// The test's own searches, recorded as they are read.
				views++
				continue
			}
			got = append(got, label(e))
		}
		sort.Strings(got)
		if int64(len(got)+views) != page.Total {
			t.Errorf("q=%s: total %d, %d entries", q, page.Total, len(got))
		}
		return a, got
	}
	stacktest.Eventually(t, "every action is searchable", func() bool {
		_, got := search(t, owner.client, "")
		return len(got) >= len(everything)
	})
	sort.Strings(everything)
	if _, got := search(t, owner.client, ""); strings.Join(got, "|") != strings.Join(everything, "|") {
		t.Fatalf("the workspace holds\n%q\nwant\n%q", got, everything)
	}

	tests := []struct {
		q    string
		want []string
	}{
		{"MacBook", []string{"MacBook", "MacBook deleted"}},
		{"macbook PRO", []string{"MacBook", "MacBook deleted"}},
		{`"MacBook Pro"`, []string{"MacBook", "MacBook deleted"}},
		{`"Pro MacBook"`, nil},
		{`  "MacBook Pro"   ThinkPad `, nil},
		{"MacBook OR ThinkPad", []string{"MacBook", "MacBook deleted", "ThinkPad", "ThinkPad edit"}},
		{"MacBook -action:asset.deleted", []string{"MacBook"}},
		{`-"MacBook Pro" action:asset.*`, []string{"Dockingstation Zoë", "ThinkPad", "ThinkPad edit"}},
		{"action:asset.*", []string{"Dockingstation Zoë", "MacBook", "MacBook deleted", "ThinkPad", "ThinkPad edit"}},
		{"action:*.deleted", []string{"MacBook deleted"}},
		{"action:LICENSE.created", []string{"Figma"}},
		{"license.created", []string{"Figma"}},
		{"action:license.* OR action:*.deleted", []string{"Figma", "MacBook deleted"}},
		{"category:auth", []string{"admin login", "failed login", "member login", "owner login"}},
		{"category:license", []string{"Figma"}},
		{"resource:license", []string{"Figma"}},
		{"resource:asset:" + strings.ToUpper(thinkpad), []string{"ThinkPad", "ThinkPad edit"}},
		{"id:" + mbp, []string{"MacBook", "MacBook deleted"}},
		{"id:" + admin.id, []string{"admin login", "admin accepted", "failed login"}},
		{"ip:192.0.2.0/24", []string{"MacBook"}},
		{"ip:10.0.0.0/8", []string{"Dockingstation Zoë", "MacBook deleted"}},
		{"ip:10.1.2.*", []string{"Dockingstation Zoë", "MacBook deleted"}},
		{"ip:10.1.2.3", []string{"MacBook deleted"}},
		{"ip:2001:db8::/32", []string{"Figma", "failed login"}},
		{"ip:2001:db8:1::/48", []string{"failed login"}},
		{"ip:2001:DB8::7", []string{"Figma"}},
		{"203.0.113.5", []string{"ThinkPad edit"}},
		{"-ip:127.0.0.0/8 -ip:10.0.0.0/8 -outcome:failure -actor:Fluxera", []string{"Figma", "MacBook", "ThinkPad", "ThinkPad edit"}},
		{"actor:" + strings.ToUpper(admin.email), []string{"Figma", "ThinkPad edit", "admin accepted", "admin login", "failed login"}},
		{`actor:"Admin Person"`, []string{"Figma", "ThinkPad edit", "admin accepted", "admin login", "failed login"}},
		{"actor:" + owner.id + " -category:auth -action:user.*", []string{"Dockingstation Zoë", "MacBook", "MacBook deleted", "ThinkPad"}},
		{"field:serial", []string{"Dockingstation Zoë", "ThinkPad", "ThinkPad edit"}},
		{"field:serial -method:import", []string{"ThinkPad", "ThinkPad edit"}},
		{"SN-ZQ-42", []string{"ThinkPad edit"}},
		{"SN-OLD", []string{"ThinkPad", "ThinkPad edit"}},
		{"outcome:failure", []string{"failed login"}},
		{"-outcome:success", []string{"failed login"}},
		{"method:import", []string{"Dockingstation Zoë"}},
		{"country:de", []string{"Figma", "MacBook"}},
		{"country:GB OR country:JP", []string{"ThinkPad edit", "failed login"}},
		{"browser:safari", []string{"MacBook", "MacBook deleted"}},
		{"browser:curl", []string{"Figma"}},
		{"os:windows", []string{"ThinkPad"}},
		{`os:"macOS 14.4" -action:*.deleted`, []string{"MacBook"}},
		{"note:designer", []string{"MacBook"}},
		{`note:"screen broken"`, []string{"MacBook deleted"}},
		{"designer", []string{"MacBook"}},
		{"zoë", []string{"Dockingstation Zoë"}},
		{"https://example.com/zoë", nil},
		{`"status:lost"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			a, got := search(t, owner.client, tt.q)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			want := append([]string{}, tt.want...)
			sort.Strings(want)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("found %q, want %q", got, want)
			}
		})
	}

	// A member sees only their own actions, whatever the search asks for.
	for q, want := range map[string][]string{
		"actor:" + owner.email:                       nil,
		"actor:" + owner.email + " OR category:auth": {"member login"},
		"-outcome:failure":                           {"member accepted", "member login"},
	} {
		if _, got := search(t, member.client, q); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("member searching %s found %q, want %q", q, got, want)
		}
	}

	refused := []struct{ q, message string }{
		{`"MacBook Pro`, "unterminated quote at position 1"},
		{"colour:red", `unknown qualifier "colour" at position 1`},
		{"ip:10.0.0.0/33", `ip: "10.0.0.0/33" is not an address or CIDR range`},
		{"outcome:maybe", "outcome must be success or failure"},
		{"MacBook actor:", "actor: at position 9 has no value"},
		{"MacBook -", `"-" at position 9`},
		{"OR MacBook", "OR at position 1 must stand between two terms"},
		{"action:license", `action: "license" is not an action`},
		{strings.Repeat("a", 501), "the search text is 501 characters long"},
		{strings.Repeat("a ", 21), "the search has more than 20 terms"},
	}
	for _, tt := range refused {
		t.Run("refused "+tt.q[:min(len(tt.q), 20)], func(t *testing.T) {
			a, _ := search(t, owner.client, tt.q)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Code != activity.EINVALID || e.Error.Field != "q" || !strings.HasPrefix(e.Error.Message, tt.message) {
				t.Errorf("%d %s, want 400 on q beginning %q", a.status, a.body, tt.message)
			}
		})
	}
}
