// Package enrich adds to each activity document what can be derived from
// its event: where the address is and which browser and system made the
// request. OpenSearch's geoip and user-agent processors are not part of
// every distribution, so both are done here, before indexing.
package enrich

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	activity "github.com/fluxera/activity"
)

// Locator finds where an address is.
type Locator interface {
	// Locate returns the address's location, and false when nothing is known.
	Locate(ip netip.Addr) (activity.Location, bool)
}

// Table is a Locator over address ranges, loaded from CSV.
type Table struct {
	v4, v6 []span // sorted by first address, not overlapping
}

type span struct {
	first, last netip.Addr
	loc         activity.Location
}

// special are the ranges whose nature is known without a table.
var special = []struct {
	prefix  netip.Prefix
	network string
}{
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("fc00::/7"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
}

// Special returns the network kind of a loopback, private, carrier-grade
// NAT or link-local address, which every locator answers without a table,
// and false for any other address.
func Special(ip netip.Addr) (activity.Location, bool) {
	ip = ip.Unmap()
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return activity.Location{Network: s.network}, true
		}
	}
	return activity.Location{}, false
}

// Locate returns the location of ip: its network kind for loopback,
// private and link-local addresses, otherwise the table's entry.
func (t *Table) Locate(ip netip.Addr) (activity.Location, bool) {
	ip = ip.Unmap()
	if loc, ok := Special(ip); ok {
		return loc, true
	}
	if t == nil {
		return activity.Location{}, false
	}
	spans := t.v4
	if ip.Is6() {
		spans = t.v6
	}
	i := sort.Search(len(spans), func(i int) bool { return spans[i].last.Compare(ip) >= 0 })
	if i < len(spans) && spans[i].first.Compare(ip) <= 0 {
		return spans[i].loc, true
	}
	return activity.Location{}, false
}

// LoadCSV reads a table with a header row naming its columns: either
// "network" (a CIDR range) or "start" and "end" (the first and last
// address), and any of "country" (ISO 3166 code), "city" and "network_name".
// Ranges must not overlap. It returns an error naming the line at fault.
func LoadCSV(r io.Reader) (*Table, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("location table: no header row: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	_, hasNetwork := col["network"]
	_, hasStart := col["start"]
	_, hasEnd := col["end"]
	if !hasNetwork && !(hasStart && hasEnd) {
		return nil, errors.New(`location table: the header needs "network", or "start" and "end"`)
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	t := &Table{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("location table: %w", err)
		}
		var s span
		if hasNetwork {
			p, err := netip.ParsePrefix(get(rec, "network"))
			if err != nil {
				return nil, fmt.Errorf("location table line %d: %w", line, err)
			}
			p = p.Masked()
			s.first, s.last = p.Addr(), lastAddr(p)
		} else {
			if s.first, err = netip.ParseAddr(get(rec, "start")); err != nil {
				return nil, fmt.Errorf("location table line %d: %w", line, err)
			}
			if s.last, err = netip.ParseAddr(get(rec, "end")); err != nil {
				return nil, fmt.Errorf("location table line %d: %w", line, err)
			}
		}
		if s.first.Is4() != s.last.Is4() || s.last.Less(s.first) {
			return nil, fmt.Errorf("location table line %d: the range ends before it starts", line)
		}
		s.loc = activity.Location{Country: strings.ToUpper(get(rec, "country")), City: get(rec, "city"), Network: get(rec, "network_name")}
		if s.first.Is4() {
			t.v4 = append(t.v4, s)
		} else {
			t.v6 = append(t.v6, s)
		}
	}
	for _, spans := range [][]span{t.v4, t.v6} {
		sort.Slice(spans, func(i, j int) bool { return spans[i].first.Less(spans[j].first) })
		for i := 1; i < len(spans); i++ {
			if !spans[i-1].last.Less(spans[i].first) {
				return nil, fmt.Errorf("location table: ranges %s–%s and %s–%s overlap", spans[i-1].first, spans[i-1].last, spans[i].first, spans[i].last)
			}
		}
	}
	return t, nil
}

// lastAddr is the last address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for bit := p.Bits(); bit < len(b)*8; bit++ {
		b[bit/8] |= 1 << (7 - bit%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

//go:embed locations.csv
var bundled []byte

// Bundled returns the small table that comes with the platform: the
// address blocks reserved for documentation and examples (RFC 5737 and
// RFC 3849), placed in a few fictitious offices so that demos and tests
// show locations without a real database. Production sets
// FLUXERA_GEOIP_FILE to a full table.
func Bundled() *Table {
	t, err := LoadCSV(bytes.NewReader(bundled))
	if err != nil {
		panic(err)
	}
	return t
}
