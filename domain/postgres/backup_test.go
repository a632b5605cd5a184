package postgres_test

import (
	"sync"
	"testing"
	"time"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// TestBackupLeasesLetOneProcessWriteEachMonth claims one month of one
// workspace from several processes at once, lets a lease lapse, and
// finishes the backup: one claim wins each time, a lapsed lease is taken
// over, and a finished month is never claimed again.
func TestBackupLeasesLetOneProcessWriteEachMonth(t *testing.T) {
	db := postgrestest.MustDB(t)
	email, _ := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, "Leases")
	ws := postgrestest.MustPrincipal(t, db, email).WorkspaceID
	store := postgres.NewBackupStore(db)
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 4, 10, 6, 0, 0, 0, time.UTC)

	if list, err := store.BackupWorkspaces(t.Context()); err != nil || len(list) != 0 {
		t.Fatalf("with backups off the workspaces are %+v, %v", list, err)
	}
	if _, err := db.ExecContext(t.Context(), "UPDATE workspaces SET monthly_backup = true WHERE id = ?", ws); err != nil {
		t.Fatal(err)
	}
	if list, err := store.BackupWorkspaces(t.Context()); err != nil || len(list) != 1 || list[0].ID != ws || list[0].TimeZone != "Europe/Berlin" {
		t.Fatalf("with backups on the workspaces are %+v, %v", list, err)
	}

	var wg sync.WaitGroup
	won := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := store.ClaimBackup(t.Context(), ws, march, now, time.Minute)
			if err != nil {
				t.Error(err)
			}
			won <- id
		}()
	}
	wg.Wait()
	close(won)
	winners, first := 0, ""
	for id := range won {
		if id != "" {
			winners, first = winners+1, id
		}
	}
	if winners != 1 {
		t.Fatalf("%d of 8 concurrent claims won, want 1", winners)
	}
	if id, _ := store.ClaimBackup(t.Context(), ws, march, now.Add(30*time.Second), time.Minute); id != "" {
		t.Error("a month was claimed while its lease held")
	}
	second, _ := store.ClaimBackup(t.Context(), ws, march, now.Add(2*time.Minute), time.Minute)
	if second == "" || second == first {
		t.Fatalf("a lapsed lease was not taken over: %q", second)
	}
	if id, _ := store.ClaimBackup(t.Context(), ws, march.AddDate(0, 1, 0), now, time.Minute); id == "" {
		t.Error("another month could not be claimed")
	}

	b := domain.MonthlyBackup{WorkspaceID: ws, Month: march, ArchiveName: "backup/" + "ab" + "cd", Entries: 3, Bytes: 120}
	if err := store.FinishBackup(t.Context(), b, first, now.Add(150*time.Second)); err == nil {
		t.Error("the process whose lease was taken over finished the backup")
	}
	if err := store.FinishBackup(t.Context(), b, second, now.Add(4*time.Minute)); err == nil {
		t.Error("a backup was finished after its lease lapsed")
	}
	third, _ := store.ClaimBackup(t.Context(), ws, march, now.Add(4*time.Minute), time.Minute)
	if err := store.FinishBackup(t.Context(), b, third, now.Add(4*time.Minute+30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if id, _ := store.ClaimBackup(t.Context(), ws, march, now.Add(time.Hour), time.Minute); id != "" {
		t.Error("a finished month was claimed again")
	}
	if err := store.FinishBackup(t.Context(), b, third, now.Add(time.Hour)); err == nil {
		t.Error("a finished month was finished again")
	}
}
