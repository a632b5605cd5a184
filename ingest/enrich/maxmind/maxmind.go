// Package maxmind locates addresses with databases in the MaxMind DB
// format, as MaxMind's GeoLite2 and DB-IP's Lite editions publish them: a
// City database (country and city) and an ASN database (the network's
// organisation), each configured by path. A file replaced on disk is read
// again on the next Reload, which Watch calls on an interval, so that a
// monthly database update needs no restart.
package maxmind

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/enrich"
)

// Config names the database files.
type Config struct {
	// CityFile is a City database (GeoLite2-City, dbip-city-lite); it
	// gives the country and city.
	CityFile string
	// ASNFile is an ASN database (GeoLite2-ASN, dbip-asn-lite); it gives
	// the network's organisation.
	ASNFile string
	// ReloadInterval is how often Watch looks for a changed file.
	ReloadInterval time.Duration
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.ReloadInterval == 0 {
		c.ReloadInterval = time.Minute
	}
	switch {
	case c.CityFile == "" && c.ASNFile == "":
		return errors.New("geoip: name a City database, an ASN database or both")
	case c.ReloadInterval < time.Second:
		return errors.New("geoip: the reload interval must be at least a second")
	}
	return nil
}

// Locator locates addresses in the configured databases. It is safe for
// concurrent use, reloads included.
type Locator struct {
	cfg  Config
	mu   sync.RWMutex
	city *file
	asn  *file
}

// file is one open database and what its file looked like when opened.
type file struct {
	path  string
	r     *maxminddb.Reader
	stamp stamp
}

// stamp tells whether a file changed: replaced (another inode), rewritten
// (another size or modification time).
type stamp struct {
	size    int64
	modTime time.Time
	sys     any
}

func statStamp(path string) (stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	return stamp{size: fi.Size(), modTime: fi.ModTime(), sys: inode(fi)}, nil
}

func open(path string) (*file, error) {
	st, err := statStamp(path)
	if err != nil {
		return nil, err
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, err
	}
	return &file{path: path, r: r, stamp: st}, nil
}

// Open opens the configured databases. It returns an error naming the file
// that is missing or not a MaxMind database.
func Open(cfg Config) (*Locator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Locator{cfg: cfg}
	var err error
	if cfg.CityFile != "" {
		if l.city, err = open(cfg.CityFile); err != nil {
			return nil, fmt.Errorf("geoip city database %s: %w", cfg.CityFile, err)
		}
	}
	if cfg.ASNFile != "" {
		if l.asn, err = open(cfg.ASNFile); err != nil {
			l.Close()
			return nil, fmt.Errorf("geoip ASN database %s: %w", cfg.ASNFile, err)
		}
	}
	return l, nil
}

// cityRecord is the part of a City record the platform reads.
type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
}

// asnRecord is an ASN record.
type asnRecord struct {
	Number       uint32 `maxminddb:"autonomous_system_number"`
	Organization string `maxminddb:"autonomous_system_organization"`
}

// Locate returns where ip is: its network kind for loopback, private and
// link-local addresses, otherwise the country and city of the City
// database and the organisation of the ASN database. It returns false when
// neither knows the address, or a record cannot be read.
func (l *Locator) Locate(ip netip.Addr) (activity.Location, bool) {
	ip = ip.Unmap()
	if loc, ok := enrich.Special(ip); ok {
		return loc, true
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	var loc activity.Location
	found := false
	if l.city != nil {
		var rec cityRecord
		if res := l.city.r.Lookup(ip); res.Found() && res.Decode(&rec) == nil {
			loc.Country = strings.ToUpper(rec.Country.ISOCode)
			loc.City = rec.City.Names["en"]
			found = loc.Country != "" || loc.City != ""
		}
	}
	if l.asn != nil {
		var rec asnRecord
		if res := l.asn.r.Lookup(ip); res.Found() && res.Decode(&rec) == nil {
			loc.Network = rec.Organization
			if loc.Network == "" && rec.Number != 0 {
				loc.Network = fmt.Sprintf("AS%d", rec.Number)
			}
			found = found || loc.Network != ""
		}
	}
	return loc, found
}

// Reload opens again each database whose file changed since it was opened
// (replaced, resized or touched), and reports whether any did. A file that
// cannot be read keeps the database in use, and the error names it, so
// that a half-copied update never replaces a good database.
func (l *Locator) Reload() (bool, error) {
	var errs []error
	changed := false
	for _, slot := range []**file{&l.city, &l.asn} {
		l.mu.RLock()
		cur := *slot
		l.mu.RUnlock()
		if cur == nil {
			continue
		}
		st, err := statStamp(cur.path)
		if err != nil {
			errs = append(errs, fmt.Errorf("geoip database %s: %w", cur.path, err))
			continue
		}
		if st == cur.stamp {
			continue
		}
		next, err := open(cur.path)
		if err != nil {
			errs = append(errs, fmt.Errorf("geoip database %s: %w", cur.path, err))
			continue
		}
		l.mu.Lock()
		*slot = next
		l.mu.Unlock()
		cur.r.Close() // no lookup holds it: each holds the read lock
		changed = true
	}
	return changed, errors.Join(errs...)
}

// Watch calls Reload every ReloadInterval until ctx ends, and logs what
// it did.
func (l *Locator) Watch(ctx context.Context, log logrus.FieldLogger) {
	t := time.NewTicker(l.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := l.Reload()
		if err != nil {
			log.WithError(err).Warn("A GeoIP database could not be read again; the one in use stays.")
		}
		if changed {
			log.Info("Reloaded a changed GeoIP database.")
		}
	}
}

// Close closes the databases.
func (l *Locator) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range []*file{l.city, l.asn} {
		if f != nil {
			f.r.Close()
		}
	}
	l.city, l.asn = nil, nil
	return nil
}
