package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/export"
)

// chrome is the test binary's one chromium, started by the first browser
// test and stopped when the binary ends (see TestMain).
var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chrome.cancel != nil {
		chrome.cancel()
	}
	os.Exit(code)
}

// watchScript runs before every page's own scripts: it keeps the page's
// Content-Security-Policy violations and the dialogs it tried to open, so
// that a test sees any script that was not the console's own.
const watchScript = `window.__csp = []; window.__dialogs = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
window.alert = window.confirm = window.prompt = m => { window.__dialogs.push(String(m)); };`

// tab is a browser tab of its own browser context (its own cookies), at
// 1440 × 900, whose downloads go to dir.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

// mustTab opens a tab in the test binary's chromium, starting it first.
func mustTab(t *testing.T, m *app.Main) *tab {
	t.Helper()
	path := stacktest.MustChromium(t)
	chrome.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
			chromedp.WindowSize(1440, 900), chromedp.Flag("lang", "en-GB"))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelBrowser := chromedp.NewContext(alloc)
		chrome.err = chromedp.Do(ctx)
		chrome.ctx, chrome.cancel = ctx, func() { cancelBrowser(); cancelAlloc() }
	})
	if chrome.err != nil {
		t.Fatalf("start chromium: %v", chrome.err)
	}
	ctx, cancel := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	tb := &tab{t: t, ctx: ctx, base: "http://" + m.HTTPAddr, dir: t.TempDir()}
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: watchScript}); err != nil {
		t.Fatal(err)
	}
	events := true
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		DownloadPath: tb.dir, EventsEnabled: &events,
	}); err != nil {
		t.Fatal(err)
	}
	return tb
}

// do runs actions, failing the test on an error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the expression holds in the page.
func (b *tab) waitFor(what, expr string) {
	b.t.Helper()
	stacktest.Eventually(b.t, what, func() bool {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
		return err == nil && v
	})
}

// open navigates to path and waits for the page to be loaded.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.loaded()
}

// loaded waits for the page to finish loading and checks that it ran
// nothing but the console's own scripts, and that htmx runs.
func (b *tab) loaded() {
	b.t.Helper()
	b.waitFor("the page loads", `document.readyState === 'complete' && typeof htmx !== 'undefined'`)
	b.clean()
}

// clean fails the test when the page broke its CSP or opened a dialog.
func (b *tab) clean() {
	b.t.Helper()
	if csp := eval[[]string](b, `window.__csp || []`); len(csp) > 0 {
		b.t.Errorf("%s broke its Content-Security-Policy: %v", eval[string](b, "location.pathname"), csp)
	}
	if d := eval[[]string](b, `window.__dialogs || []`); len(d) > 0 {
		b.t.Errorf("%s opened dialogs: %v", eval[string](b, "location.pathname"), d)
	}
}

// click clicks the element sel finds and, when it navigates, waits for
// the next page.
func (b *tab) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// submit clicks a form's button and waits for the page it leads to.
func (b *tab) submit(sel, wantPath string) {
	b.t.Helper()
	b.click(sel)
	b.waitFor("the form leads to "+wantPath, `location.pathname === '`+wantPath+`' && document.readyState === 'complete'`)
	b.loaded()
}

// screenshot writes the page to docs/screenshots/name.png at the given
// width: the whole page, or, for a long one, its first screen.
func (b *tab) screenshot(name string, width int64, whole bool) {
	b.t.Helper()
	b.do("resize", chromedp.EmulateViewport(width, 900))
	shoot := chromedp.CaptureScreenshot()
	if whole {
		shoot = chromedp.FullScreenshot(100)
	}
	shot, err := chromedp.Run(b.ctx, shoot)
	b.do("resize back", chromedp.EmulateViewport(1440, 900))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), shot, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// download clicks sel and returns the path of the file the browser
// downloads, once it is complete.
func (b *tab) download(sel string) string {
	b.t.Helper()
	done := chromedp.BrowserEvents(b.ctx, cdpbrowser.DownloadProgress)
	b.click(sel)
	for ev, err := range done {
		if err != nil {
			b.t.Fatalf("download: %v", err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			if ev.FilePath != "" {
				return ev.FilePath
			}
			// Older browsers leave the path out: the tab's folder holds
			// the one file.
			entries, _ := os.ReadDir(b.dir)
			if len(entries) == 1 {
				return filepath.Join(b.dir, entries[0].Name())
			}
			b.t.Fatalf("the download completed, but %d files are in %s", len(entries), b.dir)
		case cdpbrowser.DownloadProgressStateCanceled:
			b.t.Fatal("the download was canceled")
		}
	}
	b.t.Fatal("the browser stopped before the download completed")
	return ""
}

// axe runs axe-core on the page and fails the test on serious or critical
// violations of WCAG 2.1 A and AA.
func (b *tab) axe() {
	b.t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe-4.14.1.min.js"))
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](string(src)+";true")); err != nil {
		b.t.Fatalf("load axe-core: %v", err)
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []string }
	}
	found, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]violation](
		`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target.map(String)}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run axe-core: %v", err)
	}
	for _, v := range found {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, strings.Join(n.Target, " "))
			}
			b.t.Errorf("%s: %s violation %s (%s) at %v", eval[string](b, "location.pathname"), v.Impact, v.ID, v.Help, where)
		}
	}
}

// signIn signs in through the sign-in page as a person does.
func (b *tab) signIn(email, password, wantPath string) {
	b.t.Helper()
	b.open("/login")
	b.do("type the credentials", chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), password))
	b.submit("main form button[type=submit]", wantPath)
}

// shownIDs are the entries the page lists, in its order.
func (b *tab) shownIDs() []string {
	return eval[[]string](b, `[...document.querySelectorAll('a.summary')].map(a => a.getAttribute('href').split('/').pop())`)
}

// shownActions are the actions of the entries the page lists.
func (b *tab) shownActions() []string {
	return eval[[]string](b, `[...document.querySelectorAll('.entry code.action')].map(c => c.textContent)`)
}

// TestConsoleInTheBrowser walks the console in chromium as people do:
// signing in; "Who changed this asset?"; "Why can't this user log in?"; a
// filter, a search and an export whose CSV holds exactly the rows on
// screen; and a member who sees only their own activity. Names written to
// attack the page show as text, no page runs a script of another origin
// or breaks its CSP, axe-core finds no serious or critical violation, and
// each screen is photographed into docs/screenshots.
func TestConsoleInTheBrowser(t *testing.T) {
	stacktest.MustChromium(t)
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	ws := mustConsoleWorkspace(t, cfg, m)
	owner := ws.owner
	locked := mustRoleMember(t, m, owner.client, activity.RoleMember)
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	laptop := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Laptop 7", "location": "Berlin"}, nil), "asset")
	if a := member.call("PATCH", "/api/v1/assets/"+laptop, map[string]string{"location": "Lyon"}, nil); a.status != http.StatusOK {
		t.Fatalf("member's update: %d %s", a.status, a.body)
	}
	if a := owner.call("POST", "/api/v1/users/"+locked.id+"/deactivate", map[string]any{"keep_api_tokens": false}, nil); a.status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", a.status, a.body)
	}
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": locked.email, "password": locked.password}, nil); a.status == http.StatusOK {
		t.Fatal("a deactivated member signed in")
	}
	seats := mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Figma Organization", "seats": 3}, nil), "license")
	if a := owner.call("POST", "/api/v1/licenses/"+seats+"/assign", map[string]string{"user_id": member.id}, nil); a.status != http.StatusOK {
		t.Fatalf("assign a seat: %d %s", a.status, a.body)
	}
	// Two exports: the member's yesterday at noon in the workspace's time
	// zone, the owner's today.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	y := time.Now().In(berlin).AddDate(0, 0, -1)
	exported := func(id, email, name, role string, at time.Time) activity.Event {
		e := activity.NewEvent(owner.workspace, "system.data_exported", at)
		e.Actor = activity.Actor{ID: id, Email: email, Name: name, Role: role, Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "export", Name: "assets.csv"}
		e.Context.Method = activity.MethodWeb
		return e
	}
	mustWriteEvents(t, cfg, []activity.Event{
		exported(member.id, member.email, "Member Person", activity.RoleMember, time.Date(y.Year(), y.Month(), y.Day(), 12, 0, 0, 0, berlin)),
		exported(owner.id, owner.email, "Console Log Owner", activity.RoleOwner, time.Now().Add(-time.Second)),
	})
	stacktest.Eventually(t, "the journeys' activity is indexed", func() bool {
		var history, failures, license, exports searchapi.EventPage
		owner.call("GET", "/api/v1/assets/"+laptop+"/history", nil, nil).decode(t, &history)
		owner.call("GET", "/api/v1/activity?action=auth.login_failed,user.deactivated", nil, nil).decode(t, &failures)
		owner.call("GET", "/api/v1/licenses/"+seats+"/history", nil, nil).decode(t, &license)
		owner.call("GET", "/api/v1/activity?action=system.data_exported", nil, nil).decode(t, &exports)
		return history.Total == 2 && failures.Total == 2 && license.Total == 2 && exports.Total >= 2
	})
	if err := os.MkdirAll(filepath.Join("..", "docs", "screenshots"), 0o755); err != nil {
		t.Fatal(err)
	}

	b := mustTab(t, m)
	t.Run("sign in", func(t *testing.T) {
		b.t = t
		b.open("/login")
		b.axe()
		b.screenshot("sign-in", 1440, true)
		b.signIn(owner.email, owner.password, "/settings/activity-log")
		if got := eval[string](b, `document.querySelector('h1').textContent`); got != "Activity Log" {
			t.Errorf("signed in on %q", got)
		}
		// Names written to attack the page are text: no image, no script.
		if n := eval[int](b, `document.querySelectorAll('main img').length`); n != 0 {
			t.Errorf("the page holds %d images", n)
		}
		for _, name := range []string{hostileName, formulaName} {
			if !eval[bool](b, `document.body.innerText.includes(`+strconv.Quote(name)+`)`) {
				t.Errorf("the asset name %s is not shown as text", name)
			}
		}
		// The facet counts arrive after the page, through htmx.
		b.waitFor("the facets load", `document.querySelector('section.facets .count') !== null`)
		if !eval[bool](b, `[...document.querySelectorAll('section.facets a')].some(a => a.textContent === 'asset.updated')`) {
			t.Error("the facets do not count the asset edits")
		}
		b.axe()
		b.screenshot("activity-log", 1440, false)
		b.screenshot("activity-log-390px", 390, false)
	})

	t.Run("who changed this asset", func(t *testing.T) {
		b.t = t
		b.open("/assets")
		b.axe()
		b.submit(`a[href="/assets/`+laptop+`/history"]`, "/assets/"+laptop+"/history")
		if got := b.shownActions(); !slices.Equal(got, []string{"asset.updated", "asset.created"}) {
			t.Fatalf("history %v", got)
		}
		// The change opens in place, through htmx, with before and after.
		b.click(".entry a.summary")
		b.waitFor("the entry opens in place", `!!document.querySelector('.slot .detail table.changes')`)
		if got := eval[string](b, `document.querySelector('.slot .detail table.changes tbody tr').innerText`); !strings.Contains(got, "Berlin") || !strings.Contains(got, "Lyon") {
			t.Errorf("the change reads %q", got)
		}
		if got := eval[string](b, `document.querySelector('.slot .detail').innerText`); !strings.Contains(got, member.email) {
			t.Errorf("the entry does not say who: %q", got)
		}
		if path := eval[string](b, "location.pathname"); path != "/assets/"+laptop+"/history" {
			t.Errorf("opening the entry left the page for %s", path)
		}
		b.clean()
		b.axe()
		b.screenshot("asset-history", 1440, true)
		b.screenshot("asset-history-390px", 390, true)
		// The entry is a page of its own too.
		b.open(eval[string](b, `document.querySelector('.slot .detail .permalink a').getAttribute('href')`))
		if !eval[bool](b, `!!document.querySelector('main .detail table.changes')`) {
			t.Error("the entry's own page shows no changes")
		}
		b.axe()
		b.open("/licenses")
		b.axe()
	})

	t.Run("when was this license assigned", func(t *testing.T) {
		b.t = t
		b.open("/licenses")
		b.submit(`a[href="/licenses/`+seats+`/history"]`, "/licenses/"+seats+"/history")
		if got := b.shownActions(); !slices.Equal(got, []string{"license.assigned", "license.created"}) {
			t.Fatalf("license history %v", got)
		}
		when := eval[string](b, `document.querySelector('li.entry time').getAttribute('title')`)
		b.click("li.entry a.summary")
		b.waitFor("the assignment opens in place", `!!document.querySelector('.slot .detail')`)
		detail := eval[string](b, `document.querySelector('.slot .detail').innerText`)
		if !strings.Contains(detail, "Member Person") || !strings.Contains(detail, "license.assigned") {
			t.Errorf("the assignment's details do not name whom it went to:\n%s", detail)
		}
		if !strings.HasSuffix(when, "(UTC)") {
			t.Errorf("the assignment's time has no UTC instant: %q", when)
		}
		b.axe()
		b.screenshot("license-history", 1440, true)
	})

	t.Run("who exported data yesterday", func(t *testing.T) {
		b.t = t
		b.open("/settings/activity-log")
		b.do("filter", chromedp.SetValue(chromedp.CSS("#category"), "exports"), chromedp.SetValue(chromedp.CSS("#date"), "yesterday"))
		b.click("form.filters button[type=submit]")
		b.waitFor("the filtered log loads", `location.search.includes('category=exports') && document.readyState === 'complete'`)
		b.loaded()
		if got := b.shownActions(); !slices.Equal(got, []string{"system.data_exported"}) {
			t.Fatalf("yesterday's exports: %v", got)
		}
		if row := eval[string](b, `document.querySelector('li.entry').innerText`); !strings.Contains(row, "Member Person") {
			t.Errorf("the export's row does not say who: %q", row)
		}
		b.axe()
		b.screenshot("exports-yesterday", 1440, false)
	})

	t.Run("why can't this user log in", func(t *testing.T) {
		b.t = t
		b.open("/users")
		b.axe()
		b.submit(`a[href="/users/`+locked.id+`/activity"]`, "/users/"+locked.id+"/activity")
		got := b.shownActions()
		if len(got) < 2 || got[0] != "auth.login_failed" || got[1] != "user.deactivated" {
			t.Errorf("the user's activity starts %v", got)
		}
		if !eval[bool](b, `document.querySelector('.sub .badge').textContent === 'Deactivated'`) {
			t.Error("the page does not say the user is deactivated")
		}
		b.axe()
		b.screenshot("user-activity", 1440, true)

		// By keyboard alone: the skip link first, then on to the first
		// entry, which Enter opens in place.
		b.open("/users/" + locked.id + "/activity")
		b.do("tab", chromedp.KeyEvent(kb.Tab))
		if got := eval[string](b, `document.activeElement.textContent`); got != "Skip to content" {
			t.Errorf("the first Tab reaches %q", got)
		}
		b.do("skip", chromedp.KeyEvent(kb.Enter))
		for i := 0; i < 40 && !eval[bool](b, `document.activeElement.matches('a.summary')`); i++ {
			b.do("tab", chromedp.KeyEvent(kb.Tab))
		}
		if !eval[bool](b, `document.activeElement.matches('a.summary')`) {
			t.Fatal("Tab never reaches the first entry")
		}
		if got := eval[string](b, `getComputedStyle(document.activeElement).outlineStyle`); got == "none" {
			t.Error("the focused entry shows no focus outline")
		}
		b.do("open", chromedp.KeyEvent(kb.Enter))
		b.waitFor("the entry opens in place", `!!document.querySelector('.slot .detail')`)
		b.clean()
	})

	t.Run("filter, search and export", func(t *testing.T) {
		b.t = t
		b.open("/settings/activity-log")
		b.do("filter", chromedp.SetValue(chromedp.CSS("#category"), "asset"), chromedp.SetValue(chromedp.CSS("#date"), "today"),
			chromedp.SendKeys(chromedp.CSS("#q"), `"Desk phone"`))
		b.click("form.filters button[type=submit]")
		b.waitFor("the filtered log loads", `location.search.includes('category=asset') && document.readyState === 'complete'`)
		b.loaded()
		if q := eval[string](b, "location.search"); !strings.Contains(q, "category=asset") || !strings.Contains(q, "date=today") {
			t.Errorf("the filters are not in the URL: %s", q)
		}
		// Paging without end: older entries join the list in place.
		for eval[bool](b, `!!document.querySelector('li.more a')`) {
			before := len(b.shownIDs())
			b.click("li.more a")
			b.waitFor("older entries join the list", `document.querySelectorAll('a.summary').length > `+strconv.Itoa(before))
		}
		onScreen := b.shownIDs()
		if len(onScreen) != pagingEvents-2 {
			t.Errorf("%d entries on screen, want %d", len(onScreen), pagingEvents-2)
		}
		b.click(".tools details summary")
		b.do("choose CSV", chromedp.SetValue(chromedp.CSS("#format"), "csv"))
		raw, err := os.ReadFile(b.download("form.export button[type=submit]"))
		if err != nil {
			t.Fatalf("read the download: %v", err)
		}
		records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(export.Columns, "id")
		var ids []string
		for _, r := range records[1:] {
			ids = append(ids, r[col])
		}
		if !slices.Equal(ids, onScreen) {
			t.Errorf("the CSV holds %d entries, the screen %d", len(ids), len(onScreen))
		}
		// A search the syntax cannot read is pointed at.
		b.open("/settings/activity-log?q=" + "laptop%20-")
		if got := eval[string](b, `document.querySelector('#q-error mark').textContent`); got != "-" {
			t.Errorf("the query error marks %q", got)
		}
		b.axe()
		b.screenshot("search-error", 1440, true)
	})

	t.Run("a member sees only their own activity", func(t *testing.T) {
		mb := mustTab(t, m)
		mb.signIn(member.email, member.password, "/me/activity")
		if eval[bool](mb, `!!document.querySelector('a[href="/settings/activity-log"]')`) {
			t.Error("a member is offered the workspace's log")
		}
		var page searchapi.EventPage
		member.call("GET", "/api/v1/me/activity?limit=200", nil, nil).decode(t, &page)
		var want []string
		for _, e := range page.Entries {
			want = append(want, e.ID)
		}
		if got := mb.shownIDs(); len(got) == 0 || !slices.Equal(got, want) {
			t.Errorf("my activity shows %v, want %v", got, want)
		}
		mb.axe()
		mb.screenshot("my-activity", 1440, true)
		// Subject access from My activity: one JSON file about them.
		raw, err := os.ReadFile(mb.download(`a[href="/api/v1/me/data-export"]`))
		if err != nil {
			t.Fatal(err)
		}
		var mine struct {
			UserID       string `json:"user_id"`
			PersonalData struct {
				Account struct{ Email string }
			} `json:"personal_data"`
		}
		if err := json.Unmarshal(raw, &mine); err != nil || mine.UserID != member.id || mine.PersonalData.Account.Email != member.email {
			t.Errorf("the member's data export (%v): user %q, email %q", err, mine.UserID, mine.PersonalData.Account.Email)
		}
		mb.open("/assets/" + laptop + "/history")
		if got := mb.shownActions(); !slices.Equal(got, []string{"asset.updated"}) {
			t.Errorf("a member's asset history: %v", got)
		}
		mb.open("/settings/activity-log")
		if got := eval[string](mb, `document.querySelector('[role=alert]').textContent`); !strings.Contains(got, "your role (member) may not see the whole workspace's activity") {
			t.Errorf("the refusal reads %q", got)
		}
		mb.axe()
		mb.screenshot("member-refused", 1440, true)
	})

	t.Run("a report that takes a while shows its progress", func(t *testing.T) {
		b.t = t
		b.open("/settings/activity-log")
		// The post is held in the page, as a long period holds the answer
		// at the server: a listener after the console's own keeps the
		// form from leaving, then the test sends it.
		eval[bool](b, `(() => {
			document.querySelectorAll('details').forEach(d => d.open = true);
			window.__hold = e => e.preventDefault();
			window.addEventListener('submit', window.__hold);
			return true })()`)
		b.click(`form[action="/settings/activity-log/report"] button[type=submit]`)
		b.waitFor("the form says the report is on its way", `(() => { const s = document.querySelector('[data-progress-status]'); return !!s && s.textContent.startsWith('Generating the report') })()`)
		if !eval[bool](b, `document.querySelector('form[action="/settings/activity-log/report"] button[type=submit]').disabled`) {
			t.Error("the button can be pressed again while the report is generated")
		}
		eval[bool](b, `(() => { window.removeEventListener('submit', window.__hold); document.querySelector('form[action="/settings/activity-log/report"]').submit(); return true })()`)
		b.waitFor("the report's page", `location.pathname === '/settings/activity-log/report' && document.readyState === 'complete'`)
		b.loaded()
		if !eval[bool](b, `[...document.querySelectorAll('a')].some(a => (a.getAttribute('href') || '').includes('/api/v1/reports/'))`) {
			t.Errorf("the report's page offers no download:\n%s", eval[string](b, `document.querySelector('main').innerText`))
		}
	})

	t.Run("integrations", func(t *testing.T) {
		b.t = t
		b.open("/settings/integrations")
		if got := eval[string](b, `document.querySelector('h1').textContent`); got != "Integrations" {
			t.Fatalf("the integrations page is headed %q", got)
		}
		b.axe()
		b.screenshot("integrations", 1440, true)
	})

	t.Run("live mode shows new entries as they happen", func(t *testing.T) {
		b.t = t
		b.open("/settings/activity-log?category=asset")
		before := len(b.shownIDs())
		b.click("#live-toggle")
		b.waitFor("the stream opens", `document.getElementById('live-status').textContent.startsWith('Live')`)
		name := hostileName + " live"
		mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": name, "location": "Oslo"}, nil), "asset")
		owner.call("POST", "/api/v1/auth/login", map[string]string{"email": owner.email, "password": "not the password"}, nil)
		b.waitFor("the new asset's entry appears at the top", `(() => { const a = document.querySelector('#entries li.entry.new a.summary'); return !!a && a.textContent.includes(`+strconv.Quote(name)+`) })()`)
		// The filter holds: the failed login made meanwhile is not shown.
		if got := b.shownActions(); len(got) != before+1 || got[0] != "asset.created" {
			t.Errorf("live listing %v (had %d entries)", got, before)
		}
		if n := eval[int](b, `document.querySelectorAll('main img').length`); n != 0 {
			t.Errorf("a live entry's name became %d images", n)
		}
		if href := eval[string](b, `document.querySelector('#entries li.entry.new a.summary').getAttribute('href')`); !strings.Contains(href, "/activity/") {
			t.Errorf("the live entry links to %q", href)
		}
		b.clean()
		b.axe()
		b.screenshot("live-mode", 1440, false)
		b.click("#live-toggle")
		b.waitFor("live mode pauses", `document.getElementById('live-toggle').getAttribute('aria-pressed') === 'false'`)
	})
}
