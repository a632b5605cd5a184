package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/internal/app"
)

// TestCrossSiteRequestsWithTheSessionCookieAreRefused sends changes signed
// in with the session cookie as a browser would send them from another
// site, and checks that each is refused with 403 and recorded as
// auth.access_denied, without doing anything; the same requests from the
// console's own origin, and any request with an API token, go through.
func TestCrossSiteRequestsWithTheSessionCookieAreRefused(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Origins")
	target := mustRoleMember(t, m, owner.client, activity.RoleMember)
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Laptop"}, nil), "asset")
	var tok struct{ Token string }
	owner.call("POST", "/api/v1/tokens", map[string]any{"name": "script", "scopes": []string{"admin"}}, nil).decode(t, &tok)
	self := owner.base
	crossSite := []struct {
		name   string
		header map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"Sec-Fetch-Site cross-site with our own Origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": self}},
		{"another Origin", map[string]string{"Origin": "http://evil.example"}},
		{"our host on another scheme", map[string]string{"Origin": "https://" + m.HTTPAddr}},
		{"our host on another port", map[string]string{"Origin": "http://" + strings.Split(m.HTTPAddr, ":")[0] + ":1"}},
		{"a null Origin", map[string]string{"Origin": "null"}},
		{"neither header", map[string]string{"Origin": "", "Sec-Fetch-Site": ""}},
	}
	requests := []struct {
		name, method, path string
		body               any
	}{
		{"create", "POST", "/api/v1/assets", map[string]string{"name": "Planted"}},
		{"edit", "PATCH", "/api/v1/assets/" + asset, map[string]string{"name": "Renamed"}},
		{"status", "PUT", "/api/v1/assets/" + asset + "/status", map[string]string{"status": "lost"}},
		{"body-less post", "POST", "/api/v1/users/" + target.id + "/deactivate", nil},
		{"body-less delete", "DELETE", "/api/v1/assets/" + asset, nil},
	}
	for _, site := range crossSite {
		for _, r := range requests {
			t.Run(site.name+": "+r.name, func(t *testing.T) {
				before := ob.last()
				a := owner.callWithout(r.method, r.path, r.body, site.header)
				if a.status != http.StatusForbidden {
					t.Fatalf("answered %d %s, want 403", a.status, a.body)
				}
				var e errorAnswer
				a.decode(t, &e)
				if e.Error.Code != activity.EFORBIDDEN || e.Error.Message == "" {
					t.Errorf("403 body = %s", a.body)
				}
				events, _ := ob.since(before)
				if len(events) != 1 || events[0].Action != "auth.access_denied" || events[0].Actor.ID != owner.id {
					t.Errorf("the refusal wrote %d events, want one auth.access_denied by the owner", len(events))
				}
			})
		}
	}
	t.Run("logout from another site", func(t *testing.T) {
		before := ob.last()
		if a := owner.call("POST", "/api/v1/auth/logout", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}); a.status != http.StatusForbidden {
			t.Errorf("answered %d %s, want 403", a.status, a.body)
		}
		if st := owner.call("GET", "/api/v1/me", nil, nil).status; st != http.StatusOK {
			t.Errorf("after a refused logout the session answers %d, want 200", st)
		}
		if events, _ := ob.since(before); len(events) != 1 || events[0].Action != "auth.access_denied" {
			t.Errorf("the refused logout wrote %d events, want one auth.access_denied", len(events))
		}
	})
	var a answer
	for _, ok := range []map[string]string{{"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {"Origin": self}, {"Origin": strings.ToUpper(self)}} {
		if a = owner.call("POST", "/api/v1/assets", map[string]string{"name": "Ours"}, ok); a.status != http.StatusCreated {
			t.Errorf("a create with %v answered %d %s, want 201", ok, a.status, a.body)
		}
	}
	if a = owner.call("GET", "/api/v1/assets/"+asset, nil, map[string]string{"Sec-Fetch-Site": "cross-site"}); a.status != http.StatusOK {
		t.Errorf("a cross-site read answered %d, want 200", a.status)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok.Token, "Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}
	if a = newClient(t, m).call("POST", "/api/v1/assets", map[string]string{"name": "Scripted"}, bearer); a.status != http.StatusCreated {
		t.Errorf("a create with an API token and cross-site headers answered %d %s, want 201", a.status, a.body)
	}
	if a = owner.call("GET", "/api/v1/assets/"+asset, nil, nil); !strings.Contains(string(a.body), `"Laptop"`) {
		t.Errorf("the asset changed through refused requests: %s", a.body)
	}
}

// callWithout is call with the given headers, where an empty value leaves
// the header out altogether, even the Origin the client adds by itself.
func (c *client) callWithout(method, path string, body any, header map[string]string) answer {
	c.tb.Helper()
	set := map[string]string{}
	for k, v := range header {
		if v != "" {
			set[k] = v
		}
	}
	plain := *c
	plain.http = &http.Client{Jar: c.http.Jar, Timeout: c.http.Timeout, Transport: contractCheck{tb: c.tb, next: http.DefaultTransport}}
	return plain.call(method, path, body, set)
}

// TestSessionCookieIsSecureOutsideTheLocalStack checks the session cookie
// as the configuration sets it: Secure, with the __Host- prefix and for
// the whole host, by default; plain on the local stack. The cookie is read
// back under the name it was set with, and only that one.
func TestSessionCookieIsSecureOutsideTheLocalStack(t *testing.T) {
	def, err := app.LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !def.HTTP.CookieSecure {
		t.Errorf("the session cookie is not Secure by default")
	}
	local, err := app.LoadConfig(func(k string) string {
		if k == "FLUXERA_COOKIE_SECURE" {
			return "false"
		}
		return ""
	})
	if err != nil || local.HTTP.CookieSecure {
		t.Errorf("FLUXERA_COOKIE_SECURE=false gave Secure=%v, %v", local.HTTP.CookieSecure, err)
	}
	for _, tt := range []struct {
		secure      bool
		name, wrong string
	}{
		{true, "__Host-" + domainhttp.SessionCookie, domainhttp.SessionCookie},
		{false, domainhttp.SessionCookie, "__Host-" + domainhttp.SessionCookie},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := MustStack(t)
			cfg.HTTP.CookieSecure = tt.secure
			m := MustStart(t, cfg, app.RoleAPI)
			email, password := MustWorkspace(t, cfg, "Cookies")
			body, _ := json.Marshal(map[string]string{"email": email, "password": password})
			res, err := http.Post("http://"+m.HTTPAddr+"/api/v1/auth/login", "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			var session *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == tt.name {
					session = c
				} else {
					t.Errorf("login set the cookie %s", c.Name)
				}
			}
			if session == nil {
				t.Fatalf("login set no %s cookie: %v", tt.name, res.Header["Set-Cookie"])
			}
			if session.Secure != tt.secure || !session.HttpOnly || session.Path != "/" || session.Domain != "" || session.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie %s: Secure=%v HttpOnly=%v Path=%q Domain=%q SameSite=%v", session.Raw, session.Secure, session.HttpOnly, session.Path, session.Domain, session.SameSite)
			}
			me := func(name string) int {
				req, _ := http.NewRequest("GET", "http://"+m.HTTPAddr+"/api/v1/me", nil)
				req.AddCookie(&http.Cookie{Name: name, Value: session.Value})
				res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if st := me(tt.name); st != http.StatusOK {
				t.Errorf("the session under %s answered %d, want 200", tt.name, st)
			}
			if st := me(tt.wrong); st != http.StatusUnauthorized {
				t.Errorf("the session under %s answered %d, want 401", tt.wrong, st)
			}
		})
	}
}
