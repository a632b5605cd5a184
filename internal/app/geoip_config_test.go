package app

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxera/activity/ingest/enrich/maxmind/maxmindtest"
)

// TestGeoIPSettingsChooseTheLocator checks that the MaxMind database
// settings replace the CSV table, are refused beside it, and that Main
// locates addresses with the databases and reloads them when they change.
func TestGeoIPSettingsChooseTheLocator(t *testing.T) {
	dir := t.TempDir()
	cityFile, asnFile := filepath.Join(dir, "GeoLite2-City.mmdb"), filepath.Join(dir, "GeoLite2-ASN.mmdb")
	maxmindtest.MustWriteCity(t, cityFile, maxmindtest.City{Network: "198.51.100.0/24", Country: "NL", City: "Amsterdam"})
	maxmindtest.MustWriteASN(t, asnFile, maxmindtest.ASN{Network: "198.51.100.0/24", Number: 64510, Organization: "Documentation Net"})
	csvFile := filepath.Join(dir, "table.csv")
	os.WriteFile(csvFile, []byte("network,country,city,network_name\n198.51.100.0/24,BE,Brussels,CSV Net\n"), 0o644)
	ip := netip.MustParseAddr("198.51.100.20")

	for _, tt := range []struct {
		name string
		env  map[string]string
		err  string
		city string
	}{
		{name: "bundled table", env: map[string]string{}, city: "New York"},
		{name: "CSV table", env: map[string]string{"FLUXERA_GEOIP_FILE": csvFile}, city: "Brussels"},
		{name: "City and ASN databases", env: map[string]string{"FLUXERA_GEOIP_CITY_FILE": cityFile, "FLUXERA_GEOIP_ASN_FILE": asnFile}, city: "Amsterdam"},
		{name: "ASN database alone", env: map[string]string{"FLUXERA_GEOIP_ASN_FILE": asnFile}, city: ""},
		{name: "both kinds", env: map[string]string{"FLUXERA_GEOIP_FILE": csvFile, "FLUXERA_GEOIP_CITY_FILE": cityFile}, err: "not both"},
		{name: "reload interval too short", env: map[string]string{"FLUXERA_GEOIP_CITY_FILE": cityFile, "FLUXERA_GEOIP_RELOAD_INTERVAL": "1ms"}, err: "FLUXERA_GEOIP_RELOAD_INTERVAL"},
		{name: "reload interval no duration", env: map[string]string{"FLUXERA_GEOIP_CITY_FILE": cityFile, "FLUXERA_GEOIP_RELOAD_INTERVAL": "hourly"}, err: "FLUXERA_GEOIP_RELOAD_INTERVAL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(name string) string { return tt.env[name] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LoadConfig = %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := NewMain(cfg)
			defer m.Close()
			l, err := m.locator()
			if err != nil {
				t.Fatal(err)
			}
			if loc, _ := l.Locate(ip); loc.City != tt.city {
				t.Errorf("%s is in %+v, want the city %q", ip, loc, tt.city)
			}
		})
	}

	t.Run("missing database", func(t *testing.T) {
		cfg, err := LoadConfig(func(name string) string {
			return map[string]string{"FLUXERA_GEOIP_CITY_FILE": filepath.Join(dir, "missing.mmdb")}[name]
		})
		if err != nil {
			t.Fatal(err)
		}
		m := NewMain(cfg)
		defer m.Close()
		if _, err := m.locator(); err == nil || !strings.Contains(err.Error(), "missing.mmdb") {
			t.Errorf("locator() = %v, want an error naming the file", err)
		}
	})

	t.Run("reloaded on change", func(t *testing.T) {
		cfg, err := LoadConfig(func(name string) string { return map[string]string{"FLUXERA_GEOIP_CITY_FILE": cityFile}[name] })
		if err != nil {
			t.Fatal(err)
		}
		m := NewMain(cfg)
		defer m.Close()
		l, err := m.locator()
		if err != nil {
			t.Fatal(err)
		}
		maxmindtest.MustWriteCity(t, cityFile, maxmindtest.City{Network: "198.51.100.0/24", Country: "NL", City: "Rotterdam"})
		if changed, err := m.geo.Reload(); !changed || err != nil {
			t.Fatalf("Reload = %v, %v", changed, err)
		}
		if loc, _ := l.Locate(ip); loc.City != "Rotterdam" {
			t.Errorf("after the update %s is in %+v, want Rotterdam", ip, loc)
		}
	})
}
