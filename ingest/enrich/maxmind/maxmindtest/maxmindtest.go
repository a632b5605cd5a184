// Package maxmindtest writes small databases in the MaxMind DB format for
// tests, with MaxMind's own writer: the networks the test names (the
// documentation ranges, say) and nothing else.
package maxmindtest

import (
	"net"
	"os"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// City is one network of a City database.
type City struct {
	Network, Country, City string
}

// ASN is one network of an ASN database.
type ASN struct {
	Network      string
	Number       uint32
	Organization string
}

// mustWrite writes a MaxMind database of type dbType to path, replacing
// any file there the way an update does: written beside it, then renamed
// over it.
func mustWrite(t testing.TB, path, dbType string, records map[string]mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for network, rec := range records {
		_, n, err := net.ParseCIDR(network)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", network, err)
		}
	}
	tmp := path + ".new"
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// MustWriteCity writes a GeoLite2-City database of cities to path.
func MustWriteCity(t testing.TB, path string, cities ...City) {
	t.Helper()
	recs := map[string]mmdbtype.Map{}
	for _, c := range cities {
		recs[c.Network] = mmdbtype.Map{
			"country": mmdbtype.Map{"iso_code": mmdbtype.String(c.Country)},
			"city":    mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(c.City)}},
		}
	}
	mustWrite(t, path, "GeoLite2-City", recs)
}

// MustWriteASN writes a GeoLite2-ASN database of asns to path.
func MustWriteASN(t testing.TB, path string, asns ...ASN) {
	t.Helper()
	recs := map[string]mmdbtype.Map{}
	for _, a := range asns {
		recs[a.Network] = mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(a.Number),
			"autonomous_system_organization": mmdbtype.String(a.Organization),
		}
	}
	mustWrite(t, path, "GeoLite2-ASN", recs)
}
