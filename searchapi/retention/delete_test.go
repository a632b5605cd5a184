package retention_test

import (
	"slices"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/searchapi/retention"
	"github.com/sirupsen/logrus"
)

// TestOwnersDeleteOnlyEntriesPastRetentionThatNoRuleKeeps deletes January
// of a workspace kept searchable 30 days, with its entries still in the
// index and once the retention job has archived them: a period not wholly
// past retention, a workspace kept indefinitely, a missing period and an
// admin are refused; logins, a key view, an earlier deletion and a held
// member's entries are kept, each with its reason; the rest is deleted,
// the deletion recorded, and a second deletion finds nothing more; an
// archived month is rewritten with what it keeps and still verifies.
func TestOwnersDeleteOnlyEntriesPastRetentionThatNoRuleKeeps(t *testing.T) {
	for _, name := range []string{"in the index", "in the archive", "in the archive and restored"} {
		archived, restored := name != "in the index", name == "in the archive and restored"
		t.Run(name, func(t *testing.T) {
			db := postgrestest.MustDB(t)
			hasher := argon2.Hasher{Params: postgrestest.Argon2}
			email, _ := postgrestest.MustWorkspace(t, db, hasher, "Deletions")
			otherEmail, _ := postgrestest.MustWorkspace(t, db, hasher, "Kept indefinitely")
			owner, other := postgrestest.MustPrincipal(t, db, email), postgrestest.MustPrincipal(t, db, otherEmail)
			ws := owner.WorkspaceID
			ctx := t.Context()
			settings := postgres.NewSettingsService(db)
			active := 30
			if _, err := settings.UpdateSettings(ctx, owner, domain.SettingsUpdate{ActiveLogDays: &active}); err != nil {
				t.Fatal(err)
			}
			heldUser := activity.NewEventID()
			if _, err := db.ExecContext(ctx, "INSERT INTO users (id, workspace_id, email, name, role, created_at, updated_at) SELECT ?, workspace_id, ?, 'Held', 'member', now(), now() FROM users WHERE id = ?",
				heldUser, "held-"+heldUser+"@example.com", owner.UserID); err != nil {
				t.Fatal(err)
			}
			if _, err := postgres.NewHoldService(db).CreateHold(ctx, owner, domain.NewHold{UserID: heldUser, Reason: "dispute"}); err != nil {
				t.Fatal(err)
			}

			jan := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
			updates := events(ws, owner.UserID, jan, 6)
			logins := events(ws, owner.UserID, jan.Add(10*time.Hour), 2)
			views := events(ws, owner.UserID, jan.Add(20*time.Hour), 1)
			earlier := events(ws, owner.UserID, jan.Add(30*time.Hour), 1)
			held := events(ws, heldUser, jan.Add(40*time.Hour), 2)
			recent := events(ws, owner.UserID, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 2)
			for i := range logins {
				logins[i].Action, logins[i].Category = "auth.login", activity.CategoryAuth
			}
			views[0].Action, views[0].Category = "license.key_viewed", "license"
			earlier[0].Action, earlier[0].Category = domain.ActionActivityDeleted, "system"
			link([]byte("0123456789abcdef0123456789abcdef"), updates, logins, views, earlier, held, recent)
			now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			finder, prefix := mustIndex(t, clock, slices.Concat(updates, logins, views, earlier, held, recent))
			archive := disk.Archive{Dir: t.TempDir()}
			restores := postgres.NewRestoreStore(db)
			job := &retention.Job{Store: postgres.NewRetentionStore(db), Scanner: finder, Index: finder, Archive: archive, Now: clock,
				Restores: restores, Reindex: mustRestoreIndexer(t, prefix),
				Log: logrus.NewEntry(logrus.New()).WithField("component", "retention")}
			if archived {
				if res, err := job.Run(ctx); err != nil || res.MonthsArchived != 1 || res.Deleted != 10 {
					t.Fatalf("retention run = %+v, %v; want January archived, its 10 unheld entries gone from the index", res, err)
				}
			}
			var restore domain.ArchiveRestore
			if restored {
				// January searchable again: the held entries, never removed,
				// stay as they are, the 10 others come back as copies.
				var err error
				restore, err = (&retention.Restorer{Restores: restores, Archive: archive}).Create(ctx, owner, retention.RestoreRequest{From: jan, To: jan.AddDate(0, 0, 5)})
				if err != nil {
					t.Fatal(err)
				}
				if res, err := job.Run(ctx); err != nil || res.Restored != 10 {
					t.Fatalf("restore run = %+v, %v; want January's 10 archived entries back", res, err)
				}
			}
			d := &retention.Deleter{Settings: settings, Holds: postgres.NewHoldService(db), Index: finder, Archive: archive, Now: clock}
			january := retention.DeleteRequest{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}

			admin := owner
			admin.Role = activity.RoleAdmin
			for _, tt := range []struct {
				name  string
				p     activity.Principal
				req   retention.DeleteRequest
				code  string
				field string
			}{
				{"an admin", admin, january, activity.EFORBIDDEN, ""},
				{"within retention", owner, retention.DeleteRequest{From: january.From, To: now.AddDate(0, 0, -29)}, activity.EINVALID, "to"},
				{"no period", owner, retention.DeleteRequest{}, activity.EINVALID, "from"},
				{"an empty period", owner, retention.DeleteRequest{From: january.To, To: january.From}, activity.EINVALID, "to"},
				{"a workspace kept searchable indefinitely", other, january, activity.EINVALID, "to"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					if _, err := d.Delete(ctx, tt.p, tt.req); activity.ErrorCode(err) != tt.code || activity.ErrorField(err) != tt.field {
						t.Errorf("error = %v; want %s on %q", err, tt.code, tt.field)
					}
				})
			}

			res, err := d.Delete(ctx, owner, january)
			if err != nil {
				t.Fatal(err)
			}
			want := []retention.Kept{
				{Action: "auth.login", Reason: domain.KeptActions["auth.login"], Count: 2},
				{Action: "license.key_viewed", Reason: domain.KeptActions["license.key_viewed"], Count: 1},
				{Action: domain.ActionActivityDeleted, Reason: domain.KeptActions[domain.ActionActivityDeleted], Count: 1},
				{Reason: "entries under a legal hold are kept", Count: 2},
			}
			if res.Deleted != 6 || !slices.Equal(res.Kept, want) {
				t.Errorf("deletion = %+v; want 6 deleted and kept %+v", res, want)
			}
			if archived != (res.FromArchive == 6) || archived == (res.FromIndex == 6) {
				t.Errorf("deleted %d from the index and %d from the archive", res.FromIndex, res.FromArchive)
			}
			var recorded []string
			if err := db.NewSelect().TableExpr("outbox").ColumnExpr("payload->>'action'").Where("workspace_id = ?", ws).OrderExpr("seq").Scan(ctx, &recorded); err != nil {
				t.Fatal(err)
			}
			if recorded[len(recorded)-1] != domain.ActionActivityDeleted {
				t.Errorf("recorded %v; want the deletion last", recorded)
			}
			if again, err := d.Delete(ctx, owner, january); err != nil || again.Deleted != 0 {
				t.Errorf("second deletion = %+v, %v; want nothing more", again, err)
			}

			if restored {
				// The restored copies of the deleted entries went with them.
				if got, want := restoredIDs(t, finder, ws, restore.ID), idsOf(logins, views, earlier); !slices.Equal(got, want) {
					t.Errorf("%d restored copies left; want the %d of kept entries", len(got), len(want))
				}
			}
			left := ids(t, finder, ws)
			if archived {
				manifests, err := retention.Manifests(ctx, archive, ws)
				if err != nil || len(manifests) != 1 || manifests[0].Entries != 6 || manifests[0].DeletedEntries != 6 {
					t.Fatalf("manifests = %+v, %v; want January with its 6 kept entries and 6 deleted", manifests, err)
				}
				if err := retention.Verify(ctx, archive, manifests[0]); err != nil {
					t.Errorf("rewritten January: %v", err)
				}
				entries, err := retention.ArchivedEntries(ctx, archive, ws)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					left = append(left, e.ID)
				}
				slices.Sort(left)
				left = slices.Compact(left)
			}
			if wantLeft := idsOf(logins, views, earlier, held, recent); !slices.Equal(left, wantLeft) {
				t.Errorf("%d entries left; want the %d kept and recent", len(left), len(wantLeft))
			}
		})
	}
}
