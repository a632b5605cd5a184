package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/searchapi"
)

// sample returns a kept report of typ over March 2026 in Berlin whose
// lists hold n entries each, with names in several scripts and one that a
// spreadsheet would run as a formula.
func sample(t *testing.T, typ string, n int) Report {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: "2026-03-01", To: "2026-03-31"}, time.Now(), berlin)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	names := []string{"Zoë Ångström", "Иван Петров", "Αθηνά Παππά", "=HYPERLINK(\"http://x\")"}
	person := func(i int) searchapi.Person {
		return searchapi.Person{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: names[i%len(names)], Email: fmt.Sprintf("p%d@example.com", i)}
	}
	thing := func(i int) searchapi.Thing {
		return searchapi.Thing{ID: fmt.Sprintf("10000000-0000-4000-8000-%012d", i), Name: names[i%len(names)] + " laptop"}
	}
	res := searchapi.ReportResult{Type: typ, Period: period, Total: int64(100 * n)}
	switch typ {
	case searchapi.ReportUser:
		u := &searchapi.UserReport{}
		for i := range n {
			u.ActionsPerUser.Entries = append(u.ActionsPerUser.Entries, searchapi.UserUsage{Person: person(i), Actions: int64(n - i), Categories: map[string]int64{"asset": 1}})
			u.MostActiveUsers.Entries = append(u.MostActiveUsers.Entries, searchapi.ActiveUser{Person: person(i), Actions: int64(n - i), Share: 12.5, ActiveDays: 3, LastAction: at})
			u.LoginFrequency.Entries = append(u.LoginFrequency.Entries, searchapi.UserLogin{Person: person(i), Logins: 4, LoginDays: 2, PerDay: 0.13, PerWeek: 0.9})
			u.FeatureUsage.Actions = append(u.FeatureUsage.Actions, searchapi.ActionUsage{Action: "asset.updated", Category: "asset", Count: 9, Users: 2})
		}
		res.User = u
	case searchapi.ReportAsset:
		a := &searchapi.AssetReport{StatusChanges: searchapi.StatusChanges{Complete: true}}
		for i := range n {
			a.MostModified.Entries = append(a.MostModified.Entries, searchapi.ChangedThing{Thing: thing(i), Changes: int64(n - i), Actions: map[string]int64{"asset.updated": 2, "asset.assigned": 1}})
			a.Assignments.Entries = append(a.Assignments.Entries, searchapi.AssignedThing{Thing: thing(i), Assigned: 2, Unassigned: 1})
			a.StatusChanges.Entries = append(a.StatusChanges.Entries, searchapi.StatusTransition{From: "available", To: "lost", Count: 1})
			a.Maintenance.Entries = append(a.Maintenance.Entries, searchapi.MaintenanceEntry{At: at, Action: "asset.maintenance_completed", Asset: thing(i), By: person(i), Outcome: "Fixed"})
		}
		res.Asset = a
	case searchapi.ReportLicense:
		l := &searchapi.LicenseReport{}
		for i := range n {
			l.Changes.Entries = append(l.Changes.Entries, searchapi.ChangedThing{Thing: thing(i), Changes: 1, Actions: map[string]int64{"license.updated": 1}})
			l.KeyAccess.Entries = append(l.KeyAccess.Entries, searchapi.KeyView{At: at, License: thing(i), By: person(i), IP: "192.0.2.1"})
			l.Renewals.Entries = append(l.Renewals.Entries, searchapi.Renewal{At: at, License: thing(i), By: person(i), From: "2026-04-01", To: "2027-04-01"})
		}
		res.License = l
	case searchapi.ReportSecurity:
		s := &searchapi.SecurityReport{}
		s.LoginAttempts.Times[0][9], s.LoginAttempts.Times[4][17] = 7, 2
		for i := range n {
			s.LoginAttempts.Days = append(s.LoginAttempts.Days, searchapi.LoginDay{Day: period.From.AddDate(0, 0, i).Format(time.DateOnly), Successful: 3, Failed: 1})
			s.FailedAuth.ByAccount = append(s.FailedAuth.ByAccount, searchapi.FailedAccount{Person: person(i), Failed: int64(n - i), Last: at})
			s.PermissionChanges.Entries = append(s.PermissionChanges.Entries, searchapi.PermissionChange{At: at, Action: "user.role_changed", User: thing(i), By: person(0), From: "viewer", To: "admin"})
		}
		res.Security = s
	}
	r := Report{
		ID: "0199a000-0000-7000-8000-000000000001", Workspace: "Łódź Works", Type: typ, Name: name(typ, period),
		Parameters: searchapi.ReportQuery{Type: typ, From: "2026-03-01", To: "2026-03-31"},
		Period:     period, Scope: ScopeWorkspace, GeneratedBy: Person{ID: "u", Name: "Olga Owner", Email: "olga@example.com"},
		GeneratedAt: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC), Result: Result{ReportResult: res},
	}
	if typ == searchapi.ReportSecurity {
		r.Result.Suspicious = &Suspicious{Visible: true, Alerts: 1, Complete: true, ByState: map[string]int64{"open": 1}, Entries: []SuspiciousAlert{
			{ID: "a", RaisedAt: at, Severity: "high", State: "open", Source: alert.DetectFailedLogins, Summary: "3 failed logins for jane@example.com within 10 minutes"},
		}}
	}
	return r
}

// pdfText renders r as a PDF and reads it back as text with pdftotext,
// page by page.
func pdfText(t *testing.T, r Report) []string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing: the report PDFs are read with poppler-utils, which make up installs")
	}
	b, err := PDF(r)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), r.Type+".pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\f"), "\f")
}

// TestPDFs renders a report of every type, short and with lists long
// enough to run over several pages, and reads each back: the title page
// says what the report covers, every section has a page of its own, names
// in any script come out as written, and a table that continues on the
// next page has its header again.
func TestPDFs(t *testing.T) {
	sectionTitles := map[string][]string{
		searchapi.ReportUser:     {"Actions per user", "Most active users", "Login frequency", "Feature usage"},
		searchapi.ReportAsset:    {"Most modified assets", "Assignment frequency", "Status changes", "Maintenance history"},
		searchapi.ReportLicense:  {"License changes", "Assignment patterns", "Key access log", "Renewal activity"},
		searchapi.ReportSecurity: {"Login attempts", "Failed authentications", "Permission changes", "Suspicious activity"},
	}
	for _, typ := range searchapi.ReportTypes {
		for _, n := range []int{0, 3, 120} {
			t.Run(fmt.Sprintf("%s with %d entries", typ, n), func(t *testing.T) {
				r := sample(t, typ, n)
				pages := pdfText(t, r)
				title := pages[0]
				for _, want := range []string{Title(typ), "Łódź Works", "2026-03-01 to 2026-03-31", "Europe/Berlin", "Olga Owner <olga@example.com>",
					"2026-04-01 10:00 CEST", r.ID, fmt.Sprintf("Page 1 of %d", len(pages))} {
					if !strings.Contains(title, want) {
						t.Errorf("the title page does not say %q:\n%s", want, title)
					}
				}
				if len(pages) < 1+len(sectionTitles[typ]) {
					t.Fatalf("%d pages for %d sections", len(pages), len(sectionTitles[typ]))
				}
				all := strings.Join(pages, "\n")
				for _, s := range sectionTitles[typ] {
					if !strings.Contains(all, s) {
						t.Errorf("no section %q", s)
					}
				}
				if n > 0 {
					for _, name := range []string{"Zoë Ångström", "Иван Петров", "Αθηνά Παππά"} {
						if !strings.Contains(all, name) {
							t.Errorf("the name %q does not come out as written", name)
						}
					}
				}
				if n == 120 {
					// A page that continues a table starts with its header.
					continued := 0
					for _, p := range pages[1:] {
						first := strings.TrimSpace(strings.SplitN(strings.TrimSpace(p), "\n", 2)[0])
						if strings.HasPrefix(first, "When") || strings.HasPrefix(first, "User") || strings.HasPrefix(first, "Day") ||
							strings.HasPrefix(first, "Asset") || strings.HasPrefix(first, "License") || strings.HasPrefix(first, "Account") ||
							strings.HasPrefix(first, "Action") || strings.HasPrefix(first, "From") {
							continued++
						}
					}
					if continued == 0 {
						t.Errorf("no page continues a table with its header")
					}
				}
			})
		}
	}
}

// TestCSVWritesFormulasAsText checks that a name a spreadsheet would run
// is written as text, and that every section's tables are there.
func TestCSVWritesFormulasAsText(t *testing.T) {
	for _, typ := range searchapi.ReportTypes {
		b, err := CSV(sample(t, typ, 4))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := func() ([][]string, error) {
			r := csv.NewReader(bytes.NewReader(b))
			r.FieldsPerRecord = -1
			return r.ReadAll()
		}()
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		for _, row := range rows {
			for _, cell := range row {
				if strings.HasPrefix(cell, "=") {
					t.Errorf("%s: a cell begins with =: %q", typ, cell)
				}
			}
		}
		if !bytes.Contains(b, []byte(`'=HYPERLINK`)) {
			t.Errorf("%s: the formula-like name is not in the CSV as text", typ)
		}
	}
}

func TestFileName(t *testing.T) {
	r := sample(t, searchapi.ReportSecurity, 0)
	if got := FileName(r, "pdf"); got != "security-report-2026-03-01-to-2026-03-31.pdf" {
		t.Errorf("FileName = %q", got)
	}
	r.Period.To = r.Period.From.Add(36 * time.Hour)
	if got := FileName(r, "csv"); got != "security-report-2026-03-01-00-00-to-2026-03-02-12-00.csv" {
		t.Errorf("FileName = %q", got)
	}
}
