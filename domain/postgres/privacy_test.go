package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/privacy"
)

// TestPrivacyStoreAnonymizesAlerts raises an alert about Jane and one
// about someone else, anonymizes Jane, and checks that her alert's summary
// and subject now carry her pseudonym, its address is left, the other
// alert is untouched, and a second pass changes nothing.
func TestPrivacyStoreAnonymizesAlerts(t *testing.T) {
	db := postgrestest.MustDB(t)
	owner := mustOwner(t, db, "Private alerts")
	now := time.Now().UTC().Truncate(time.Millisecond)
	jane := postgrestest.Alert(owner.WorkspaceID, alert.DetectFailedLogins, now, "high")
	other := postgrestest.Alert(owner.WorkspaceID, alert.DetectFailedLogins, now.Add(time.Second), "high")
	other.Summary, other.Subject.Label = "3 failed logins for bob@example.com within 10 minutes", "bob@example.com"
	postgrestest.MustRaise(t, db, jane)
	postgrestest.MustRaise(t, db, other)

	store := postgres.NewPrivacyStore(db)
	r := privacy.Replacement{
		Subject:   privacy.Subject{UserID: jane.Subject.ID, Emails: []string{"jane@example.com"}, IPs: []string{"192.0.2.1"}},
		Pseudonym: privacy.Pseudonym{Name: "Former user 1", Email: "former-user-1@anonymized.invalid", IP: "2001:db8::1"},
	}
	n, err := store.AnonymizeAlerts(t.Context(), owner.WorkspaceID, r)
	if err != nil || n != 1 {
		t.Fatalf("anonymized %d alerts, %v; want 1", n, err)
	}
	read := func(id string) (summary, rest string) {
		t.Helper()
		var rows []struct {
			Summary string `bun:"summary"`
			Rest    string `bun:"rest"`
		}
		if err := db.NewRaw("SELECT summary, subject::text || coalesce(details::text, '') AS rest FROM alerts WHERE id = ?", id).Scan(t.Context(), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("read alert %s: %v", id, err)
		}
		return rows[0].Summary, rows[0].Rest
	}
	if s, rest := read(jane.ID); strings.Contains(s+rest, "jane@example.com") || !strings.Contains(s, r.Pseudonym.Email) || !strings.Contains(rest, "192.0.2.1") {
		t.Errorf("Jane's alert: %q %s", s, rest)
	}
	if s, rest := read(other.ID); !strings.Contains(s, "bob@example.com") || !strings.Contains(rest, "bob@example.com") {
		t.Errorf("Bob's alert was touched: %q %s", s, rest)
	}
	if n, err := store.AnonymizeAlerts(t.Context(), owner.WorkspaceID, r); err != nil || n != 0 {
		t.Errorf("second pass: %d, %v", n, err)
	}
}
