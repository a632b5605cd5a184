package maxmind_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/enrich/maxmind"
	"github.com/fluxera/activity/ingest/enrich/maxmind/maxmindtest"
)

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	cityFile, asnFile := filepath.Join(dir, "city.mmdb"), filepath.Join(dir, "asn.mmdb")
	maxmindtest.MustWriteCity(t, cityFile,
		maxmindtest.City{Network: "192.0.2.0/24", Country: "fr", City: "Paris"},
		maxmindtest.City{Network: "198.51.100.0/24", Country: "DE", City: "Berlin"},
		maxmindtest.City{Network: "2001:db8::/32", Country: "JP", City: "Tokyo"},
	)
	maxmindtest.MustWriteASN(t, asnFile,
		maxmindtest.ASN{Network: "192.0.2.0/24", Number: 64500, Organization: "Example Telecom"},
		maxmindtest.ASN{Network: "203.0.113.0/24", Number: 64501, Organization: ""},
	)
	l, err := maxmind.Open(maxmind.Config{CityFile: cityFile, ASNFile: asnFile})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tt := range []struct {
		ip    string
		want  activity.Location
		found bool
	}{
		{"192.0.2.10", activity.Location{Country: "FR", City: "Paris", Network: "Example Telecom"}, true},
		{"::ffff:192.0.2.10", activity.Location{Country: "FR", City: "Paris", Network: "Example Telecom"}, true},
		{"198.51.100.7", activity.Location{Country: "DE", City: "Berlin"}, true},
		{"2001:db8::1", activity.Location{Country: "JP", City: "Tokyo"}, true},
		{"203.0.113.5", activity.Location{Network: "AS64501"}, true},
		{"127.0.0.1", activity.Location{Network: "loopback"}, true},
		{"::1", activity.Location{Network: "loopback"}, true},
		{"10.1.2.3", activity.Location{Network: "private"}, true},
		{"233.252.0.1", activity.Location{}, false},
	} {
		t.Run(tt.ip, func(t *testing.T) {
			got, found := l.Locate(netip.MustParseAddr(tt.ip))
			if got != tt.want || found != tt.found {
				t.Errorf("Locate(%s) = %+v, %v; want %+v, %v", tt.ip, got, found, tt.want, tt.found)
			}
		})
	}
}

// TestReloadOnChange replaces the City database on disk: Reload reads the
// new one, a file that is not a database keeps the one in use, and a
// Reload with nothing changed reads nothing.
func TestReloadOnChange(t *testing.T) {
	dir := t.TempDir()
	cityFile := filepath.Join(dir, "city.mmdb")
	maxmindtest.MustWriteCity(t, cityFile, maxmindtest.City{Network: "192.0.2.0/24", Country: "FR", City: "Paris"})
	l, err := maxmind.Open(maxmind.Config{CityFile: cityFile})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ip := netip.MustParseAddr("192.0.2.10")
	if changed, err := l.Reload(); changed || err != nil {
		t.Errorf("Reload of an unchanged file = %v, %v", changed, err)
	}

	maxmindtest.MustWriteCity(t, cityFile, maxmindtest.City{Network: "192.0.2.0/24", Country: "IT", City: "Rome"})
	if changed, err := l.Reload(); !changed || err != nil {
		t.Fatalf("Reload after the file changed = %v, %v", changed, err)
	}
	if got, _ := l.Locate(ip); got.City != "Rome" || got.Country != "IT" {
		t.Errorf("after the reload %s is in %+v, want Rome", ip, got)
	}

	if err := os.WriteFile(cityFile+".new", []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cityFile+".new", cityFile); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reload(); err == nil {
		t.Error("Reload of a file that is no database gave no error")
	}
	if got, _ := l.Locate(ip); got.City != "Rome" {
		t.Errorf("after a failed reload %s is in %+v, want the database in use (Rome)", ip, got)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.mmdb")
	os.WriteFile(bad, []byte("nope"), 0o644)
	for name, cfg := range map[string]maxmind.Config{
		"no file":        {},
		"missing file":   {CityFile: filepath.Join(dir, "missing.mmdb")},
		"not a database": {ASNFile: bad},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := maxmind.Open(cfg); err == nil {
				t.Errorf("Open(%+v) gave no error", cfg)
			}
		})
	}
}
