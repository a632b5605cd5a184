package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestConsoleAlertsInTheBrowser walks Settings › Activity Alerts and
// Settings › Workspace in chromium, with the real detector and notifier
// running: an owner creates an alert on failed logins from the page's
// form, someone mistypes a password on the console's sign-in page, and
// the alert appears in the list with its email delivery shown as not
// configured (there is no SMTP server), to be acknowledged and resolved;
// an admin saves the workspace in a new time zone and every time is shown
// in it; viewers and members are told they may not, and see no link. Every
// page passes axe-core and its CSP, and is photographed into
// docs/screenshots.
func TestConsoleAlertsInTheBrowser(t *testing.T) {
	stacktest.MustChromium(t)
	cfg := MustStack(t)
	cfg.AlertConfigTTL = 50 * time.Millisecond // the new alert is watched as soon as it is saved
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleDetect, app.RoleNotify)
	owner := mustOwner(t, m, cfg, "Console Alerts")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	worker := mustRoleMember(t, m, owner.client, activity.RoleMember)
	if err := os.MkdirAll(filepath.Join("..", "docs", "screenshots"), 0o755); err != nil {
		t.Fatal(err)
	}
	const ruleName = "Someone at the door"

	b := mustTab(t, m)
	t.Run("an alert created in the console fires on failed logins at its sign-in page", func(t *testing.T) {
		b.t = t
		b.signIn(owner.email, owner.password, "/settings/activity-log")
		b.click(`nav a[href="/settings/activity-alerts"]`)
		b.waitFor("the alerts page", `location.pathname === '/settings/activity-alerts' && document.readyState === 'complete'`)
		b.loaded()
		if got := eval[int](b, `document.querySelectorAll('.presets li').length`); got < 10 {
			t.Errorf("%d presets shown", got)
		}
		b.axe()
		b.do("fill in the alert", chromedp.SendKeys(chromedp.CSS("#name"), ruleName),
			chromedp.SetValue(chromedp.CSS("#activity_type"), "auth.login_failed"), chromedp.SetValue(chromedp.CSS("#severity"), "high"),
			chromedp.SetValue(chromedp.CSS("#method"), "email"))
		b.submitTo("form.rule-form button[type=submit]", "/settings/activity-alerts?created=1")
		if got := eval[string](b, `document.querySelector('.notice').textContent`); !strings.Contains(got, "The alert was created") {
			t.Errorf("after creating: %q", got)
		}
		if !eval[bool](b, `[...document.querySelectorAll('table.rules th')].some(th => th.textContent === `+jsString(ruleName)+`)`) {
			t.Fatal("the new alert is not listed")
		}

		// A condition the rule cannot read comes back with the field named.
		b.do("a bad amount", chromedp.SendKeys(chromedp.CSS("#name"), "High-value hand-outs"),
			chromedp.SetValue(chromedp.CSS("#activity_type"), "asset.assigned"), chromedp.SetValue(chromedp.CSS("#cond_field"), "asset.value"),
			chromedp.SendKeys(chromedp.CSS("#cond_value"), "2,000"), chromedp.SendKeys(chromedp.CSS("#cond_currency"), "EUR"))
		b.submit("form.rule-form button[type=submit]", "/settings/activity-alerts/rules")
		if got := eval[string](b, `document.querySelector('#rule-error').textContent`); !strings.Contains(got, "Amount: conditions[0].value must be a decimal number") || !eval[bool](b, `document.querySelector('#cond_value').getAttribute('aria-invalid') === 'true'`) {
			t.Errorf("the refusal reads %q", got)
		}
		b.axe()
		b.do("scroll to the form", chromedp.ScrollIntoView(chromedp.CSS("#create-h")))
		b.screenshot("activity-alerts-refused-condition", 1440, false)
		// Corrected, it is created and listed with its condition.
		b.do("correct the amount", chromedp.SetValue(chromedp.CSS("#cond_value"), "2000"))
		b.submitTo("form.rule-form button[type=submit]", "/settings/activity-alerts?created=1")
		if got := eval[string](b, `[...document.querySelectorAll('table.rules tr')].find(tr => tr.innerText.includes('High-value hand-outs'))?.innerText || ''`); !strings.Contains(got, "asset.value > 2000 EUR") {
			t.Errorf("the alert with a condition reads %q", got)
		}

		// Someone mistypes the owner's password on the sign-in page.
		door := mustTab(t, m)
		door.open("/login")
		door.do("type a wrong password", chromedp.SendKeys(chromedp.CSS("#email"), owner.email), chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"))
		door.click("main form button[type=submit]")
		door.waitFor("the sign-in page refuses the password", `document.readyState === 'complete' && !!document.querySelector('#login-error')`)
		door.loaded()

		// The alert appears in the list, its email not configured.
		stacktest.Eventually(t, "the alert, its email delivery settled, in the list", func() bool {
			b.open("/settings/activity-alerts")
			return eval[bool](b, `[...document.querySelectorAll('.alert-item')].some(li => li.querySelector('a.summary').textContent.startsWith(`+jsString(ruleName+": ")+`) && li.innerText.includes('email not configured'))`)
		})
		b.axe()
		b.screenshot("activity-alerts", 1440, false)
		b.screenshot("activity-alerts-390px", 390, false)

		b.click(`.alert-item a.summary`)
		b.waitFor("the alert's page", `location.pathname.startsWith('/settings/activity-alerts/alerts/') && document.readyState === 'complete'`)
		b.loaded()
		if got := eval[string](b, `document.querySelector('h1').textContent`); !strings.HasPrefix(got, ruleName+": ") || !strings.Contains(got, "auth.login_failed") {
			t.Errorf("the alert reads %q", got)
		}
		b.axe()
		b.screenshot("alert", 1440, true)
		path := eval[string](b, "location.pathname")
		b.click(`.alert-actions button:not(.secondary)`)
		b.waitFor("the alert is acknowledged", `location.pathname === '`+path+`' && document.readyState === 'complete' && document.querySelector('dd.state').textContent.startsWith('acknowledged')`)
		b.loaded()
		b.click(`.alert-actions button.secondary`)
		b.waitFor("the alert is resolved", `location.pathname === '`+path+`' && document.readyState === 'complete' && document.querySelector('dd.state').textContent.startsWith('resolved')`)
		b.loaded()
		if eval[bool](b, `!!document.querySelector('.alert-actions')`) {
			t.Error("a resolved alert still offers to be acknowledged or resolved")
		}

		b.open("/settings/activity-alerts/detection")
		b.axe()
		b.screenshot("detection-settings", 1440, false)
	})

	t.Run("an admin saves the workspace in a new time zone", func(t *testing.T) {
		ab := mustTab(t, m)
		ab.signIn(admin.email, admin.password, "/settings/activity-log")
		ab.click(`nav a[href="/settings/workspace"]`)
		ab.waitFor("the settings page", `location.pathname === '/settings/workspace' && document.readyState === 'complete'`)
		ab.loaded()
		ab.axe()
		ab.do("choose New York", chromedp.SetValue(chromedp.CSS("#time_zone"), "America/New_York"), chromedp.SetValue(chromedp.CSS("#working_hours_start"), "08:00"))
		ab.submitTo("form.settings button[type=submit]", "/settings/workspace?saved=1")
		if got := eval[string](ab, `document.querySelector('.notice').textContent`); !strings.Contains(got, "America/New_York") {
			t.Errorf("after saving: %q", got)
		}
		if got := eval[string](ab, `document.querySelector('#working_hours_start').value`); got != "08:00" {
			t.Errorf("working hours start at %q", got)
		}
		ab.axe()
		ab.screenshot("workspace-settings", 1440, true)
		ab.screenshot("workspace-settings-390px", 390, true)
		// Every time is shown in New York's zone now, the UTC instant on
		// hover: the alert raised above, say.
		ab.open("/settings/activity-alerts")
		stamp := eval[string](ab, `document.querySelector('.alert-item time').textContent`)
		utc := eval[string](ab, `document.querySelector('.alert-item time').getAttribute('datetime')`)
		at, err := time.Parse("2006-01-02T15:04:05.000Z", utc)
		if err != nil {
			t.Fatal(err)
		}
		ny, _ := time.LoadLocation("America/New_York")
		if want := at.In(ny).Format("Mon 2 Jan 2006, 15:04:05 MST"); stamp != want {
			t.Errorf("a time reads %q, want %q", stamp, want)
		}
		if got := eval[string](ab, `document.querySelector('.foot').textContent`); !strings.Contains(got, "America/New_York") {
			t.Errorf("the footer says %q", got)
		}
		ab.axe()
	})

	for _, who := range []member{viewer, worker} {
		t.Run(who.role+" is told they may not", func(t *testing.T) {
			wb := mustTab(t, m)
			wb.signIn(who.email, who.password, "/me/activity")
			for _, link := range []string{"/settings/activity-alerts", "/settings/workspace"} {
				if eval[bool](wb, `!!document.querySelector('nav a[href="`+link+`"]')`) {
					t.Errorf("a %s is offered %s", who.role, link)
				}
			}
			wb.open("/settings/activity-alerts")
			if got := eval[string](wb, `document.querySelector('[role=alert]').textContent`); !strings.Contains(got, "your role ("+who.role+") may not manage activity alerts") {
				t.Errorf("the refusal reads %q", got)
			}
			wb.axe()
			if who.role == activity.RoleMember {
				wb.screenshot("activity-alerts-member-refused", 1440, true)
			}
			wb.open("/settings/workspace")
			if got := eval[string](wb, `document.querySelector('[role=alert]').textContent`); !strings.Contains(got, "may not change the workspace's settings") {
				t.Errorf("the refusal reads %q", got)
			}
			wb.axe()
		})
	}
}

// submitTo clicks a form's button and waits for the page at url, a path
// with its query, to load.
func (b *tab) submitTo(sel, url string) {
	b.t.Helper()
	b.click(sel)
	b.waitFor("the form leads to "+url, `location.pathname + location.search === `+jsString(url)+` && document.readyState === 'complete'`)
	b.loaded()
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}
