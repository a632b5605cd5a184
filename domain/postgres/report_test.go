package postgres_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

// TestReportStoreKeepsReportsForWhoMaySeeThem keeps reports of an owner
// and of a member of one workspace and of another workspace's owner, and
// checks that each is kept as given with its generated_by, its event
// written in the same transaction, and read back only by who may see it:
// the owner every report of the workspace, the member their own, nobody
// another workspace's; and that a listing pages newest first.
func TestReportStoreKeepsReportsForWhoMaySeeThem(t *testing.T) {
	db := mustAlertStore(t).db
	owner := mustOwner(t, db, "Reporting")
	other := mustOwner(t, db, "Elsewhere")
	s := &alertStore{db: db, owner: owner}
	memberEmail := s.mustMemberRow(t, activity.RoleMember, true)
	member := mustPrincipal(t, db, memberEmail)
	viewer := mustPrincipal(t, db, s.mustMemberRow(t, activity.RoleViewer, true))
	store := postgres.NewReportStore(db)
	ctx := t.Context()

	berlin, _ := time.LoadLocation("Europe/Berlin")
	period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: "2026-03-01", To: "2026-03-31"}, time.Now(), berlin)
	if err != nil {
		t.Fatal(err)
	}
	sample := func(typ string, total int64) report.Report {
		return report.Report{
			Type: typ, Name: report.Title(typ) + ", 2026-03-01 to 2026-03-31", Period: period, Scope: report.ScopeWorkspace,
			Parameters: searchapi.ReportQuery{Type: typ, From: "2026-03-01", To: "2026-03-31", Users: []string{}, ActivityTypes: []string{"auth"}},
			Result: report.Result{ReportResult: searchapi.ReportResult{Type: typ, Period: period, Total: total,
				Security: &searchapi.SecurityReport{LoginAttempts: searchapi.LoginAttempts{Successful: total, Days: []searchapi.LoginDay{{Day: "2026-03-02", Successful: total}}}},
			}, Suspicious: &report.Suspicious{Visible: true, Alerts: 1, Entries: []report.SuspiciousAlert{}}},
		}
	}
	var ownerReports []report.Report
	for i := range 5 {
		before := outboxCount(t, db)
		r, err := store.CreateReport(ctx, owner, sample(searchapi.ReportSecurity, int64(i)))
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == "" || r.WorkspaceID != owner.WorkspaceID || r.Workspace != "Reporting" || r.GeneratedBy.ID != owner.UserID || r.GeneratedAt.IsZero() {
			t.Errorf("kept report: %+v", r)
		}
		var payload string
		if err := db.NewSelect().TableExpr("outbox").ColumnExpr("payload::text").OrderExpr("seq DESC").Limit(1).Scan(ctx, &payload); err != nil {
			t.Fatal(err)
		}
		var e activity.Event
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			t.Fatal(err)
		}
		if outboxCount(t, db) != before+1 || e.Action != "system.report_generated" || e.Resource != (activity.Resource{Type: "report", ID: r.ID, Name: r.Name}) ||
			e.Actor.ID != owner.UserID || e.Details["report_type"] != "security" || e.Details["activity_types"] != "auth" {
			t.Errorf("keeping the report recorded %+v", e)
		}
		ownerReports = append(ownerReports, r)
	}
	mine, err := store.CreateReport(ctx, member, sample(searchapi.ReportSecurity, 9))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := store.CreateReport(ctx, other, sample(searchapi.ReportSecurity, 7))
	if err != nil {
		t.Fatal(err)
	}

	// Read back as it was kept.
	got, err := store.FindReport(ctx, owner, ownerReports[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(ownerReports[2])
	if string(g) != string(w) || got.Period.Location == nil || got.Result.Period.Location == nil {
		t.Errorf("read back:\n%s\nkept:\n%s", g, w)
	}

	for _, c := range []struct {
		name string
		p    activity.Principal
		id   string
		ok   bool
	}{
		{"the owner, the member's", owner, mine.ID, true},
		{"the member, their own", member, mine.ID, true},
		{"the member, the owner's", member, ownerReports[0].ID, false},
		{"the owner, another workspace's", owner, theirs.ID, false},
		{"another workspace, the owner's", other, ownerReports[0].ID, false},
		{"a malformed id", owner, "report-1", false},
	} {
		_, err := store.FindReport(ctx, c.p, c.id)
		if c.ok && err != nil || !c.ok && activity.ErrorCode(err) != activity.ENOTFOUND {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, call := range []func() error{
		func() error { _, err := store.CreateReport(ctx, viewer, sample(searchapi.ReportUser, 1)); return err },
		func() error { _, err := store.FindReport(ctx, viewer, mine.ID); return err },
		func() error { _, err := store.ListReports(ctx, viewer, report.Filter{}); return err },
	} {
		if err := call(); activity.ErrorCode(err) != activity.EFORBIDDEN {
			t.Errorf("a viewer: %v, want EFORBIDDEN", err)
		}
	}

	// Listings: newest first, two at a time, each the caller's.
	var ids []string
	f := report.Filter{Limit: 2}
	for {
		page, err := store.ListReports(ctx, owner, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reports {
			ids = append(ids, r.ID)
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	want := []string{mine.ID}
	for i := len(ownerReports) - 1; i >= 0; i-- {
		want = append(want, ownerReports[i].ID)
	}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("the owner lists %v, want %v", ids, want)
	}
	page, err := store.ListReports(ctx, member, report.Filter{})
	if err != nil || len(page.Reports) != 1 || page.Reports[0].ID != mine.ID || page.Reports[0].Total != 9 {
		t.Errorf("the member lists %+v, %v", page.Reports, err)
	}
	page, err = store.ListReports(ctx, owner, report.Filter{Type: searchapi.ReportUser})
	if err != nil || len(page.Reports) != 0 {
		t.Errorf("the owner's user reports: %+v, %v", page.Reports, err)
	}
	if _, err := store.ListReports(ctx, owner, report.Filter{Cursor: "bogus"}); activity.ErrorField(err) != "cursor" {
		t.Errorf("a bogus cursor: %v", err)
	}
}

func mustPrincipal(t *testing.T, db *postgres.DB, email string) activity.Principal {
	t.Helper()
	var p activity.Principal
	err := db.NewSelect().Table("users").Column("workspace_id", "id", "name", "role", "email").Where("email = ?", email).
		Scan(t.Context(), &p.WorkspaceID, &p.UserID, &p.Name, &p.Role, &p.Email)
	if err != nil {
		t.Fatal(err)
	}
	p.Type = activity.ActorUser
	return p
}

func outboxCount(t *testing.T, db *postgres.DB) int {
	t.Helper()
	return count(t, db, "outbox", "true")
}
