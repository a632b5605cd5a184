package e2e

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/searchapi/retention"
)

// restoreAnswer is a restore as the API answers it.
type restoreAnswer struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Months    []string  `json:"months"`
	Days      int       `json:"days"`
	Entries   int64     `json:"entries_restored"`
	Removed   int64     `json:"entries_removed"`
	ExpiresAt time.Time `json:"expires_at"`
}

// mustArchivedMonth stores 20 entries of the owner's workspace from about
// 100 days ago and 5 of a minute ago straight in the test's indices, sets
// the workspace's active_log_days to 30, and runs the retention job of
// m's wiring once, so that the old month is archived and gone from the
// log. It returns the job, its clock's time (now), and when the old
// entries occurred.
func mustArchivedMonth(t *testing.T, cfg app.Config, m *app.Main, owner member) (*retention.Job, *time.Time, time.Time) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	old := mustPastActiveRetention(t, cfg, owner, now)
	job, err := m.Retention()
	if err != nil {
		t.Fatal(err)
	}
	job.Now = func() time.Time { return now }
	if res, err := job.Run(ctx); err != nil || res.MonthsArchived != 1 {
		t.Fatalf("retention run = %+v, %v; want the old month archived", res, err)
	}
	return job, &now, old
}

// TestOwnersRestoreAnArchivedPeriodThroughTheAPI runs the API, stores 20
// entries of a workspace from about 100 days ago and 5 of a minute ago
// straight in the test's indices, and runs the retention job of the same
// wiring with a clock the test moves: the old month goes to the archive;
// the owner restores it through the API, and after the job's next run the
// same GET /api/v1/activity, the entry's detail, the member's activity and
// the log's export find the 20 entries again, marked as restored until the restore's expiry; once the clock has
// passed it, the next run removes them from the log while the archive
// still lists the month. Admins are refused with 403, bad input with 400
// naming the field, another workspace's restore is 404, and an owner ends
// a restore early with DELETE.
func TestOwnersRestoreAnArchivedPeriodThroughTheAPI(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Restores")
	other := mustOwner(t, m, cfg, "Other restores")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)

	ctx := context.Background()
	job, clock, old := mustArchivedMonth(t, cfg, m, owner)
	now := *clock
	job.Now = func() time.Time { return now }
	run := func(what string) {
		t.Helper()
		if _, err := job.Run(ctx); err != nil {
			t.Fatalf("retention run (%s): %v", what, err)
		}
	}
	type logPage struct {
		Total   int64
		Entries []struct {
			ID       string
			Restored *struct {
				ID        string    `json:"id"`
				ExpiresAt time.Time `json:"expires_at"`
			}
		}
	}
	logged := func() logPage {
		t.Helper()
		var page logPage
		if a := owner.call("GET", "/api/v1/activity?limit=100&action=asset.updated", nil, nil); a.status != 200 {
			t.Fatalf("activity log: %d %s", a.status, a.body)
		} else {
			a.decode(t, &page)
		}
		return page
	}
	if page := logged(); page.Total != 5 {
		t.Fatalf("after archiving the log lists %d entries; want the 5 recent ones", page.Total)
	}

	type failure struct {
		Error struct{ Code, Field string }
	}
	from, to := old.AddDate(0, 0, -1).Format("2006-01-02"), old.AddDate(0, 0, 1).Format("2006-01-02")
	for _, c := range []struct {
		name   string
		who    *client
		body   any
		status int
		field  string
	}{
		{"an admin", admin.client, map[string]any{"from": from, "to": to}, http.StatusForbidden, ""},
		{"no from", owner.client, map[string]any{"to": to}, http.StatusBadRequest, "from"},
		{"a malformed to", owner.client, map[string]any{"from": from, "to": "next week"}, http.StatusBadRequest, "to"},
		{"to before from", owner.client, map[string]any{"from": to, "to": from}, http.StatusBadRequest, "to"},
		{"no day", owner.client, map[string]any{"from": from, "to": to, "days": 0}, http.StatusBadRequest, "days"},
		{"too many days", owner.client, map[string]any{"from": from, "to": to, "days": 31}, http.StatusBadRequest, "days"},
		{"an unknown field", owner.client, map[string]any{"from": from, "to": to, "weeks": 1}, http.StatusBadRequest, "weeks"},
		{"nothing archived then", owner.client, map[string]any{"from": "2020-01-01", "to": "2020-01-31"}, http.StatusBadRequest, "from"},
		{"another workspace's archive", other.client, map[string]any{"from": from, "to": to}, http.StatusBadRequest, "from"},
	} {
		a := c.who.call("POST", "/api/v1/archive/restores", c.body, nil)
		var f failure
		if a.status != c.status {
			t.Errorf("%s: %d %s; want %d", c.name, a.status, a.body, c.status)
			continue
		}
		if a.decode(t, &f); f.Error.Field != c.field {
			t.Errorf("%s: error %s names %q; want %q", c.name, a.body, f.Error.Field, c.field)
		}
	}

	var r restoreAnswer
	a := owner.call("POST", "/api/v1/archive/restores", map[string]any{"from": from, "to": to, "days": 3}, nil)
	if a.status != http.StatusAccepted {
		t.Fatalf("restore: %d %s", a.status, a.body)
	}
	a.decode(t, &r)
	if r.Status != "pending" || r.Days != 3 || len(r.Months) != 1 || r.Months[0] != old.Format("2006-01") || r.ExpiresAt.Before(now.AddDate(0, 0, 3).Add(-time.Minute)) {
		t.Fatalf("restore = %s; want pending for 3 days over %s", a.body, old.Format("2006-01"))
	}
	if a := other.call("DELETE", "/api/v1/archive/restores/"+r.ID, nil, nil); a.status != http.StatusNotFound {
		t.Errorf("another workspace's owner ends the restore: %d %s; want 404", a.status, a.body)
	}
	if a := admin.call("GET", "/api/v1/archive/restores", nil, nil); a.status != http.StatusForbidden {
		t.Errorf("an admin lists restores: %d; want 403", a.status)
	}

	run("restore")
	page := logged()
	if page.Total != 25 {
		t.Fatalf("after the restore the log lists %d entries; want 25", page.Total)
	}
	var restored string
	for _, e := range page.Entries {
		if e.Restored != nil {
			if e.Restored.ID != r.ID || !e.Restored.ExpiresAt.Equal(r.ExpiresAt) {
				t.Errorf("entry %s restored = %+v; want restore %s until %s", e.ID, *e.Restored, r.ID, r.ExpiresAt)
			}
			restored = e.ID
		}
	}
	if restored == "" {
		t.Fatal("no entry of the log is marked as restored")
	}
	var detail struct {
		Restored *struct{ ID string }
	}
	if a := owner.call("GET", "/api/v1/activity/"+restored, nil, nil); a.status != 200 {
		t.Errorf("detail of a restored entry: %d %s", a.status, a.body)
	} else if a.decode(t, &detail); detail.Restored == nil || detail.Restored.ID != r.ID {
		t.Errorf("detail of a restored entry = %s; want it marked", a.body)
	}
	// The member's activity and the log's export find them too.
	var mine logPage
	if owner.call("GET", "/api/v1/users/"+owner.id+"/activity?limit=100&action=asset.updated", nil, nil).decode(t, &mine); mine.Total != 25 {
		t.Errorf("the owner's activity lists %d entries; want 25", mine.Total)
	}
	if a := owner.call("GET", "/api/v1/activity/export?format=ndjson&action=asset.updated", nil, nil); a.status != 200 || bytes.Count(a.body, []byte("\n")) != 25 {
		t.Errorf("the log's export: %d, %d lines; want 25", a.status, bytes.Count(a.body, []byte("\n")))
	}
	var list struct{ Restores []restoreAnswer }
	owner.call("GET", "/api/v1/archive/restores", nil, nil).decode(t, &list)
	if len(list.Restores) != 1 || list.Restores[0].Status != "restored" || list.Restores[0].Entries != 20 {
		t.Fatalf("restores = %+v; want the one restored with 20 entries", list.Restores)
	}
	if a := owner.call("POST", "/api/v1/archive/restores", map[string]any{"from": from, "to": to}, nil); a.status != http.StatusConflict {
		t.Errorf("restore the same period again: %d %s; want 409", a.status, a.body)
	}

	now = r.ExpiresAt.Add(time.Minute)
	run("expiry")
	if page := logged(); page.Total != 5 {
		t.Errorf("after the restore expired the log lists %d entries; want the 5 recent ones", page.Total)
	}
	var manifests struct{ Files []struct{ Name string } }
	if owner.call("GET", "/api/v1/archive?kind=manifest", nil, nil).decode(t, &manifests); len(manifests.Files) != 1 {
		t.Errorf("the archive lists %d months; want still 1", len(manifests.Files))
	}
	owner.call("GET", "/api/v1/archive/restores", nil, nil).decode(t, &list)
	if len(list.Restores) != 1 || list.Restores[0].Status != "expired" || list.Restores[0].Removed != 20 {
		t.Errorf("restores = %+v; want the one expired with 20 removed", list.Restores)
	}

	// Ended early: a pending restore expires at once.
	a = owner.call("POST", "/api/v1/archive/restores", map[string]any{"from": from, "to": to}, nil)
	if a.status != http.StatusAccepted {
		t.Fatalf("restore again: %d %s", a.status, a.body)
	}
	a.decode(t, &r)
	if a := owner.call("DELETE", "/api/v1/archive/restores/"+r.ID, nil, nil); a.status != 200 {
		t.Fatalf("end the restore: %d %s", a.status, a.body)
	} else if a.decode(t, &r); r.Status != "expired" {
		t.Errorf("ended restore = %s; want expired", a.body)
	}
	if a := owner.call("DELETE", "/api/v1/archive/restores/"+r.ID, nil, nil); a.status != http.StatusConflict {
		t.Errorf("end it twice: %d %s; want 409", a.status, a.body)
	}
	run("nothing pending")
	if page := logged(); page.Total != 5 {
		t.Errorf("after a restore ended while pending the log lists %d entries; want 5", page.Total)
	}
}
