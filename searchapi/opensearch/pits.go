package opensearch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	activity "github.com/fluxera/activity"
)

// Defaults of Config.
const (
	DefaultMaxPITsPerUser      = 4
	DefaultMaxPITsPerWorkspace = 16
)

// Config bounds what callers may hold open in OpenSearch through one API
// process. Each process counts only the points in time it opened itself,
// so with several processes behind a load balancer a caller may hold up to
// the limits times the number of processes.
type Config struct {
	// MaxPITsPerUser is how many listings read past their first page and
	// exports one user may hold open at once, each with its point in
	// time; MaxPITsPerWorkspace is how many all the users of one
	// workspace may. A point in time counts until its listing reaches its
	// last page or its cursor lapses, or until its export ends.
	MaxPITsPerUser      int
	MaxPITsPerWorkspace int
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.MaxPITsPerUser == 0 {
		c.MaxPITsPerUser = DefaultMaxPITsPerUser
	}
	if c.MaxPITsPerWorkspace == 0 {
		c.MaxPITsPerWorkspace = DefaultMaxPITsPerWorkspace
	}
	if c.MaxPITsPerUser < 1 || c.MaxPITsPerWorkspace < 1 {
		return fmt.Errorf("search: the points in time per user and per workspace must be at least 1")
	}
	return nil
}

// WithConfig sets the limits of cfg, which must be valid.
func WithConfig(cfg Config) Option {
	return func(f *Finder) { f.cfg = cfg }
}

// pit is a point in time this process opened for the second page of a
// listing, or for a scan: who holds it, until when, and the first page's
// cursor whose second page opened it (for a scan, a name of its own).
type pit struct {
	id              string
	origin          string
	scan            bool // held by a scan, not a listing
	workspace, user string
	expires         time.Time
	ready           chan struct{} // closed once id or err is set
	err             error
}

// pits are the points in time this process opened and has not yet seen
// closed or lapse, for listings and for scans. A first page's cursor sent again (a retry, a reload, a
// replay) reads the point in time its first use opened instead of opening
// another, and no user or workspace holds more than its limit.
type pits struct {
	mu       sync.Mutex
	byOrigin map[string]*pit
	byID     map[string]*pit
}

func newPITs() *pits {
	return &pits{byOrigin: map[string]*pit{}, byID: map[string]*pit{}}
}

// acquire returns the point in time of origin's second page for p: the one
// already open (or being opened) for it, or a new entry that the caller
// must open and then report with opened or failed (fresh is true). It
// returns ETOOMANY on field cursor when a new one would pass p's or its
// workspace's limit.
func (s *pits) acquire(ctx context.Context, origin string, p activity.Principal, now time.Time, cfg Config, lifetime time.Duration) (e *pit, fresh bool, err error) {
	s.mu.Lock()
	s.prune(now)
	if e := s.byOrigin[origin]; e != nil {
		s.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, false, fmt.Errorf("wait for a point in time: %w", ctx.Err())
		}
		if e.err != nil {
			return nil, false, e.err
		}
		return e, false, nil
	}
	defer s.mu.Unlock()
	h := s.held(p)
	switch {
	case h.user.total() >= cfg.MaxPITsPerUser:
		return nil, false, activity.Errorf(activity.ETOOMANY, "cursor",
			"you are reading %s at once, the most allowed; read one to its last page%s, or wait up to %s for one you left to lapse, then ask for this page again",
			h.user, h.user.orExport(), lifetime)
	case h.workspace.total() >= cfg.MaxPITsPerWorkspace:
		return nil, false, activity.Errorf(activity.ETOOMANY, "cursor",
			"your workspace is reading %s at once, the most allowed; wait until one is read to its last page%s or lapses (up to %s), then ask for this page again",
			h.workspace, h.workspace.orExport(), lifetime)
	}
	e = &pit{origin: origin, workspace: p.WorkspaceID, user: p.UserID, ready: make(chan struct{})}
	s.byOrigin[origin] = e
	return e, true, nil
}

// acquireScan returns a new entry for a scan by p, which the caller must
// open and then report with opened or failed, and release once the scan
// ends. A scan holds its point in time while it runs and counts against
// the same limits as the listings read past their first page. It returns
// ETOOMANY when one more would pass p's or its workspace's limit.
func (s *pits) acquireScan(p activity.Principal, now time.Time, cfg Config, lifetime time.Duration) (*pit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	h := s.held(p)
	switch {
	case h.user.total() >= cfg.MaxPITsPerUser:
		return nil, activity.Errorf(activity.ETOOMANY, "",
			"you are reading %s at once, the most allowed; let an export finish or read a listing to its last page, or wait up to %s for one you left to lapse, then export again",
			h.user, lifetime)
	case h.workspace.total() >= cfg.MaxPITsPerWorkspace:
		return nil, activity.Errorf(activity.ETOOMANY, "",
			"your workspace is reading %s at once, the most allowed; wait until an export finishes or a listing is read to its last page or lapses (up to %s), then export again",
			h.workspace, lifetime)
	}
	b := make([]byte, 12)
	rand.Read(b)
	e := &pit{origin: "scan:" + hex.EncodeToString(b), scan: true, workspace: p.WorkspaceID, user: p.UserID, ready: make(chan struct{})}
	s.byOrigin[e.origin] = e
	return e, nil
}

// holding is what one user, or one workspace, holds open: listings read
// past their first page, and scans.
type holding struct{ listings, scans int }

func (h holding) total() int { return h.listings + h.scans }

// String says what is held, as in "2 listings past their first page" or
// "1 listing past its first page and 1 export".
func (h holding) String() string {
	var parts []string
	if h.listings > 0 || h.scans == 0 {
		if h.listings == 1 {
			parts = append(parts, "1 listing past its first page")
		} else {
			parts = append(parts, fmt.Sprintf("%d listings past their first page", h.listings))
		}
	}
	if h.scans == 1 {
		parts = append(parts, "1 export")
	} else if h.scans > 1 {
		parts = append(parts, fmt.Sprintf("%d exports", h.scans))
	}
	return strings.Join(parts, " and ")
}

// orExport is the advice to let an export finish, when one is held.
func (h holding) orExport() string {
	if h.scans == 0 {
		return ""
	}
	return " or let an export finish"
}

// held counts what p and p's workspace hold open.
func (s *pits) held(p activity.Principal) (h struct{ user, workspace holding }) {
	for _, o := range s.byOrigin {
		if o.workspace != p.WorkspaceID {
			continue
		}
		mine := o.user == p.UserID
		if o.scan {
			h.workspace.scans++
			if mine {
				h.user.scans++
			}
		} else {
			h.workspace.listings++
			if mine {
				h.user.listings++
			}
		}
	}
	return h
}

// opened records that e is open as id until expires.
func (s *pits) opened(e *pit, id string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.id, e.expires = id, expires
	s.byID[id] = e
	close(e.ready)
}

// failed records that e could not be opened.
func (s *pits) failed(e *pit, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byOrigin[e.origin] == e {
		delete(s.byOrigin, e.origin)
	}
	e.err = err
	close(e.ready)
}

// touch records that the point in time id was kept alive until expires.
func (s *pits) touch(id string, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byID[id]; e != nil {
		e.expires = expires
	}
}

// release forgets the point in time id: it was closed, or it is gone.
func (s *pits) release(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil {
		return
	}
	delete(s.byID, id)
	if s.byOrigin[e.origin] == e {
		delete(s.byOrigin, e.origin)
	}
}

// prune forgets the points in time that lapsed by now. Those still being
// opened have no expiry yet and stay.
func (s *pits) prune(now time.Time) {
	for origin, e := range s.byOrigin {
		if e.id != "" && !now.Before(e.expires) {
			delete(s.byOrigin, origin)
			delete(s.byID, e.id)
		}
	}
}
