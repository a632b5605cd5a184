package e2e

import (
	"context"
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

// TestConsoleArchiveRestoreInTheBrowser walks Settings › Archive in
// chromium with a month archived by the retention job (run by the test
// with its own clock): the owner finds the month listed, is told which
// field is wrong when the period ends before it starts, restores the
// month for 3 days, and after the job's next run sees its entries in the
// activity log marked "restored from the archive until …"; "End now" ends
// the restore, and after the next run the entries are gone from the log
// again. An admin sees no link and is told they may not. Every page passes
// axe-core and its CSP, and the archive page is photographed into
// docs/screenshots.
func TestConsoleArchiveRestoreInTheBrowser(t *testing.T) {
	stacktest.MustChromium(t)
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Console Archive")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	if err := os.MkdirAll(filepath.Join("..", "docs", "screenshots"), 0o755); err != nil {
		t.Fatal(err)
	}
	job, clock, old := mustArchivedMonth(t, cfg, m, owner)
	run := func(what string) {
		t.Helper()
		if _, err := job.Run(context.Background()); err != nil {
			t.Fatalf("retention run (%s): %v", what, err)
		}
	}
	from, to := old.AddDate(0, 0, -1).Format("2006-01-02"), old.AddDate(0, 0, 1).Format("2006-01-02")

	b := mustTab(t, m)
	b.signIn(owner.email, owner.password, "/settings/activity-log")
	if got := eval[int](b, `document.querySelectorAll('.badge.restored').length`); got != 0 {
		t.Fatalf("%d entries marked restored before any restore", got)
	}
	b.click(`nav a[href="/settings/archive"]`)
	b.waitFor("the archive page", `location.pathname === '/settings/archive' && document.readyState === 'complete'`)
	b.loaded()
	if got := eval[string](b, `document.querySelector('table.months tbody').innerText`); !strings.Contains(got, old.Format("2006-01")) || !strings.Contains(got, "20") {
		t.Errorf("the archived months read %q; want %s with its 20 entries", got, old.Format("2006-01"))
	}
	b.axe()

	// A period that ends before it starts is refused, naming To.
	b.do("a period backwards", chromedp.SetValue(chromedp.CSS("#from"), to), chromedp.SetValue(chromedp.CSS("#to"), from), chromedp.SetValue(chromedp.CSS("#days"), "3"))
	b.submit("form.settings button[type=submit]", "/settings/archive/restores")
	if got := eval[string](b, `document.querySelector('#restore-error').textContent`); !strings.Contains(got, "To:") || !eval[bool](b, `document.querySelector('#to').getAttribute('aria-invalid') === 'true'`) {
		t.Errorf("the refusal reads %q", got)
	}
	b.axe()

	b.do("the archived days", chromedp.SetValue(chromedp.CSS("#from"), from), chromedp.SetValue(chromedp.CSS("#to"), to), chromedp.SetValue(chromedp.CSS("#days"), "3"))
	b.submitTo("form.settings button[type=submit]", "/settings/archive?done=restore")
	if got := eval[string](b, `document.querySelector('table.restores td.status').textContent`); !strings.HasPrefix(got, "Pending") {
		t.Errorf("the new restore's state reads %q", got)
	}

	run("restore")
	b.open("/settings/activity-log")
	if got := eval[int](b, `document.querySelectorAll('.badge.restored').length`); got != 20 {
		t.Errorf("%d entries marked restored in the log; want 20", got)
	}
	if got := eval[string](b, `document.querySelector('.badge.restored').textContent`); !strings.HasPrefix(got, "restored from the archive until ") {
		t.Errorf("a restored entry is marked %q", got)
	}
	b.axe()

	b.open("/settings/archive")
	if got := eval[string](b, `document.querySelector('table.restores tbody tr').innerText`); !strings.Contains(got, "Restored") || !strings.Contains(got, "20 restored") {
		t.Errorf("the restore reads %q", got)
	}
	b.axe()
	b.screenshot("archive", 1440, true)
	b.submitTo("table.restores button", "/settings/archive?done=end")
	if got := eval[string](b, `document.querySelector('.notice').textContent`); !strings.Contains(got, "The restore is ended") {
		t.Errorf("after ending: %q", got)
	}
	if eval[bool](b, `!!document.querySelector('table.restores button')`) {
		t.Error("an ended restore still offers to be ended")
	}

	*clock = clock.Add(time.Minute) // past the moment it ended
	run("expiry")
	b.open("/settings/activity-log")
	if got := eval[int](b, `document.querySelectorAll('.badge.restored').length`); got != 0 {
		t.Errorf("%d entries still marked restored once the restore ended", got)
	}

	ab := mustTab(t, m)
	ab.signIn(admin.email, admin.password, "/settings/activity-log")
	if eval[bool](ab, `!!document.querySelector('nav a[href="/settings/archive"]')`) {
		t.Error("an admin is offered the archive")
	}
	ab.open("/settings/archive")
	if got := eval[string](ab, `document.querySelector('[role=alert]').textContent`); !strings.Contains(got, "may not see or restore the archive") {
		t.Errorf("the refusal reads %q", got)
	}
	ab.axe()
}
