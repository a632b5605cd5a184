package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/privacy"
)

// TestAnonymizationReachesTheArchive runs the API, the relay and the
// indexer: a member works under her own name, email and address, the
// retention job (on a clock moved past the workspace's 30 searchable days)
// archives the month, keeping the owner's held entries searchable too,
// and the owner anonymizes her. Afterwards no file
// the owner downloads from the archive holds her name, email or address,
// the archived month keeps its number of entries, and the workspace's log,
// in the archive and the index, still verifies.
func TestAnonymizationReachesTheArchive(t *testing.T) {
	cfg := MustStack(t)
	cfg.HTTP.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Archived privacy "+stacktest.RandomID())
	ada := mustRoleMember(t, m, owner.client, "member")
	name, ip := "Grace Hopper "+stacktest.RandomID(), "198.51.100.23"
	from := map[string]string{"X-Forwarded-For": ip}
	if a := ada.call("PATCH", "/api/v1/me", map[string]string{"name": name}, from); a.status != http.StatusOK {
		t.Fatalf("rename: %d %s", a.status, a.body)
	}
	mustID(t, ada.call("POST", "/api/v1/assets", map[string]string{"name": "Laptop of " + name}, from), "asset")
	if a := owner.call("PUT", "/api/v1/users/"+ada.id+"/role", map[string]string{"role": "viewer", "note": "asked by " + name}, nil); a.status != http.StatusOK {
		t.Fatalf("role: %d %s", a.status, a.body)
	}
	stacktest.Eventually(t, "her entries searchable", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=100&action=user.role_changed", nil, nil)
		return a.status == http.StatusOK && bytes.Contains(a.body, []byte(name))
	})
	if a := owner.call("PATCH", "/api/v1/settings", map[string]any{"active_log_days": 30}, nil); a.status != http.StatusOK {
		t.Fatalf("set active_log_days: %d %s", a.status, a.body)
	}
	// The owner's entries are held, so that this month's index keeps
	// entries and stays for those recorded after the run.
	if a := owner.call("POST", "/api/v1/audit/holds", map[string]any{"user_id": owner.id, "reason": "the owner's own changes"}, nil); a.status != http.StatusCreated {
		t.Fatalf("place a hold: %d %s", a.status, a.body)
	}
	job, err := m.Retention()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	later := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 32)
	job.Now = func() time.Time { return later }
	if res, err := job.Run(t.Context()); err != nil || res.MonthsArchived == 0 {
		t.Fatalf("retention run = %+v, %v; want this month archived", res, err)
	}

	type listing struct{ Files []struct{ Name string } }
	type manifest struct {
		Month   string `json:"month"`
		Entries int64  `json:"entries"`
	}
	manifests := func() map[string]int64 {
		var l listing
		owner.call("GET", "/api/v1/archive?kind=manifest", nil, nil).decode(t, &l)
		out := map[string]int64{}
		for _, f := range l.Files {
			var mf manifest
			owner.call("GET", "/api/v1/archive/"+f.Name, nil, nil).decode(t, &mf)
			out[mf.Month] += mf.Entries
		}
		return out
	}
	// download returns every file of the workspace's archive, ungzipped.
	download := func() map[string][]byte {
		var l listing
		owner.call("GET", "/api/v1/archive", nil, nil).decode(t, &l)
		out := map[string][]byte{}
		for _, f := range l.Files {
			a := owner.call("GET", "/api/v1/archive/"+f.Name, nil, nil)
			if a.status != http.StatusOK {
				t.Fatalf("download %s: %d %s", f.Name, a.status, a.body)
			}
			body := a.body
			if strings.HasSuffix(f.Name, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
			}
			out[f.Name] = body
		}
		return out
	}
	counts := manifests()
	named := false
	for _, body := range download() {
		named = named || (bytes.Contains(body, []byte(name)) && bytes.Contains(body, []byte(ip)))
	}
	if !named {
		t.Fatalf("no archived file names her before the anonymization; the test archived nothing of hers (months %v)", counts)
	}

	a := owner.call("POST", "/api/v1/users/"+ada.id+"/anonymize", nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("anonymize: %d %s", a.status, a.body)
	}
	var res privacy.Result
	a.decode(t, &res)
	if res.ArchivedMonthsRewritten == 0 || res.ArchivedEntriesUpdated < 3 {
		t.Errorf("anonymized %+v; want her archived month rewritten with at least her 3 entries", res)
	}
	files := download()
	for fname, body := range files {
		for _, v := range []string{name, ada.email, ip} {
			if bytes.Contains(body, []byte(v)) {
				t.Errorf("archived %s still holds %q", fname, v)
			}
		}
	}
	if got := manifests(); len(got) != len(counts) {
		t.Errorf("archived months %v; want %v", got, counts)
	} else {
		for month, n := range counts {
			if got[month] != n {
				t.Errorf("archived %s holds %d entries; want %d as before", month, got[month], n)
			}
		}
	}
	// The anonymization is recorded; once it is searchable, the log
	// verifies from the archive through the index.
	stacktest.Eventually(t, "user.anonymized searchable", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=10&action=user.anonymized", nil, nil)
		return a.status == http.StatusOK && bytes.Contains(a.body, []byte(res.Pseudonym))
	})
	mustVerify(t, m, owner.workspace)
}
