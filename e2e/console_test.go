package e2e

import (
	"context"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/internal/app"
)

// browser talks to the console as a browser does: it keeps cookies, does
// not follow redirects (the tests look at them), and says its posts come
// from the console's own pages.
type browser struct {
	tb   testing.TB
	base string
	http *http.Client
}

func newBrowser(tb testing.TB, m *app.Main) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: tb, base: "http://" + m.HTTPAddr, http: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one answer of the console.
type page struct {
	status int
	header http.Header
	body   string
}

// get fetches path; header adds request headers.
func (b *browser) get(path string, header ...string) page {
	b.tb.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.send(req)
}

// post sends a form from one of the console's pages.
func (b *browser) post(path string, form url.Values) page {
	b.tb.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.send(req)
}

func (b *browser) send(req *http.Request) page {
	b.tb.Helper()
	req.Header.Set("User-Agent", "fluxera-console-test/1.0")
	res, err := b.http.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the form token of a page.
func (p page) csrf(tb testing.TB) string {
	tb.Helper()
	m := csrfInput.FindStringSubmatch(p.body)
	if m == nil {
		tb.Fatalf("the page has no form token:\n%s", p.body)
	}
	return html.UnescapeString(m[1])
}

// mustSignIn signs in through the sign-in page.
func (b *browser) mustSignIn(email, password string) {
	b.tb.Helper()
	login := b.get("/login")
	p := b.post("/login", url.Values{"csrf": {login.csrf(b.tb)}, "email": {email}, "password": {password}, "next": {"/"}})
	if p.status != http.StatusSeeOther {
		b.tb.Fatalf("sign in as %s: %d\n%s", email, p.status, p.body)
	}
}

// TestConsoleSignsInAndOut signs in through the console's sign-in page
// with the API's session, checks the layout and its security headers,
// refuses a form without its token, and signs out.
func TestConsoleSignsInAndOut(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Console")
	b := newBrowser(t, m)

	// Signed out, a page sends the browser to sign in and back.
	p := b.get("/settings/activity-log?date=7d")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login?next="+url.QueryEscape("/settings/activity-log?date=7d") {
		t.Fatalf("signed out: %d to %q", p.status, p.header.Get("Location"))
	}
	login := b.get("/login?next=" + url.QueryEscape("/settings/activity-log?date=7d"))
	if login.status != http.StatusOK || !strings.Contains(login.body, `<form method="post" action="/login">`) {
		t.Fatalf("sign-in page: %d\n%s", login.status, login.body)
	}
	csp := login.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || login.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: CSP %q, X-Frame-Options %q", csp, login.header.Get("X-Frame-Options"))
	}
	token := login.csrf(t)

	for name, tc := range map[string]struct {
		form   url.Values
		status int
		says   string
	}{
		"no token":       {url.Values{"email": {owner.email}, "password": {owner.password}}, http.StatusForbidden, "not sent from Fluxera"},
		"wrong token":    {url.Values{"csrf": {"x" + token[1:]}, "email": {owner.email}, "password": {owner.password}}, http.StatusForbidden, "not sent from Fluxera"},
		"wrong password": {url.Values{"csrf": {token}, "email": {owner.email}, "password": {"not-it"}}, http.StatusUnauthorized, "Sign in"},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.post("/login", tc.form)
			if p.status != tc.status || !strings.Contains(p.body, tc.says) {
				t.Fatalf("%d, want %d saying %q:\n%s", p.status, tc.status, tc.says, p.body)
			}
		})
	}

	p = b.post("/login", url.Values{"csrf": {token}, "email": {owner.email}, "password": {owner.password}, "next": {"/settings/activity-log?date=7d"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/settings/activity-log?date=7d" {
		t.Fatalf("sign in: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	// Another site's address is never where the sign-in leads.
	if got := b.post("/login", url.Values{"csrf": {token}, "email": {owner.email}, "password": {owner.password}, "next": {"//evil.example/"}}); got.header.Get("Location") != "/" {
		t.Errorf("next //evil.example/ led to %q", got.header.Get("Location"))
	}
	if p = b.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/settings/activity-log" {
		t.Fatalf("home: %d to %q", p.status, p.header.Get("Location"))
	}
	p = b.get("/settings/activity-log")
	if p.status != http.StatusOK {
		t.Fatalf("activity log: %d\n%s", p.status, p.body)
	}
	for _, want := range []string{`href="/settings/activity-log" aria-current="page"`, `href="/me/activity"`, `href="/users"`, `href="/assets"`, `href="/licenses"`, `action="/logout"`, `/static/vendor/htmx-4.0.1.min.js`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the layout lacks %s", want)
		}
	}
	for _, asset := range []string{"/static/console.css", "/static/vendor/htmx-4.0.1.min.js"} {
		if a := b.get(asset); a.status != http.StatusOK || len(a.body) < 1000 {
			t.Errorf("%s: %d, %d bytes", asset, a.status, len(a.body))
		}
	}
	// The session is the API's: the same cookie reads the API.
	if a := b.get("/api/v1/me"); a.status != http.StatusOK || !strings.Contains(a.body, owner.email) {
		t.Errorf("the console's session on the API: %d %s", a.status, a.body)
	}

	if p = b.post("/logout", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("sign out without the form token: %d", p.status)
	}
	if p = b.post("/logout", url.Values{"csrf": {b.get("/me/activity").csrf(t)}}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Fatalf("sign out: %d to %q", p.status, p.header.Get("Location"))
	}
	if p = b.get("/settings/activity-log"); p.status != http.StatusSeeOther {
		t.Errorf("after signing out: %d", p.status)
	}
	if a := b.get("/api/v1/me"); a.status != http.StatusUnauthorized {
		t.Errorf("the API after signing out: %d", a.status)
	}
}

// TestConsolePagesRefuseBadInputClearly sends the console's pages what no
// page can read: each is refused with a 4xx page that says why, never a
// server error.
func TestConsolePagesRefuseBadInputClearly(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Console Input")
	b := newBrowser(t, m)
	b.mustSignIn(owner.email, owner.password)
	unknown := "0190f000-0000-7000-8000-000000000001"
	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{"/settings/activity-log?q=%ff%fe", http.StatusBadRequest, "UTF-8"},
		{"/settings/activity-log?q=" + strings.Repeat("a", 600), http.StatusBadRequest, "characters long"},
		{"/settings/activity-log?q=a%00b", http.StatusBadRequest, "control character"},
		{"/settings/activity-log?cursor=garbage", http.StatusBadRequest, "Cursor:"},
		{"/settings/activity-log?user=%3Cscript%3E", http.StatusBadRequest, "&lt;script&gt;"},
		{"/settings/activity-log?resource=asset:nope", http.StatusBadRequest, "Resource:"},
		{"/settings/activity-log?category=weather", http.StatusBadRequest, "Category:"},
		{"/settings/activity-log?date=custom&from=soon", http.StatusBadRequest, "From:"},
		{"/settings/activity-log?date=fortnight", http.StatusBadRequest, "Date:"},
		{"/me/activity?date=custom&from=2026-13-45", http.StatusBadRequest, "From:"},
		{"/settings/activity-log/export?format=csv&user=bob", http.StatusBadRequest, "not a user id"},
		{"/activity/not-an-id", http.StatusNotFound, "no activity entry"},
		{"/activity/%ff", http.StatusNotFound, "no activity entry"},
		{"/activity/" + unknown, http.StatusNotFound, "Not found"},
		{"/users/xyz/activity", http.StatusNotFound, "no user"},
		{"/users/" + unknown + "/activity", http.StatusNotFound, "Not found"},
		{"/assets/" + unknown + "/history", http.StatusNotFound, "Not found"},
		{"/licenses/" + unknown + "/history", http.StatusNotFound, "Not found"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			p := b.get(tc.path)
			if p.status != tc.status || !strings.Contains(p.body, `role="alert"`) || !strings.Contains(p.body, tc.says) {
				t.Errorf("%d, want %d saying %q:\n%s", p.status, tc.status, tc.says, p.body)
			}
			if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
				t.Errorf("content type %q", p.header.Get("Content-Type"))
			}
		})
	}
	if p := b.get("/static/../go.mod"); p.status != http.StatusNotFound {
		t.Errorf("a path out of the static files: %d", p.status)
	}
	token := b.get("/settings/activity-log").csrf(t)
	p := b.post("/settings/activity-log/report", url.Values{"csrf": {token}, "type": {"user"}, "date": {"custom"}, "from": {"yesterday-ish"}, "to": {"2026-01-01"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "<code>from</code>") {
		t.Errorf("a report with a bad period: %d\n%s", p.status, p.body)
	}
}

// TestConsoleSignsTheDemoWorkspaceIn seeds the demo workspace as make run
// does and signs in to the console with the sign-in make run prints.
func TestConsoleSignsTheDemoWorkspaceIn(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	box, err := m.KeyBox()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Seed(context.Background(), m.DB, argon2.Hasher{Params: cfg.Argon2.Params}, box, 3, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, m)
	b.mustSignIn("admin@demo.fluxera.test", "fluxera-demo")
	p := b.get("/users")
	if p.status != http.StatusOK || !strings.Contains(p.body, "Dana Admin") || !strings.Contains(p.body, "Mia Lopez") {
		t.Errorf("the demo workspace's users: %d\n%s", p.status, p.body)
	}
}
