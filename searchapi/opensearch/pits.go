package opensearch

import (
	"context"
	"fmt"
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
	// MaxPITsPerUser is how many listings read past their first page one
	// user may hold open at once, each with its point in time;
	// MaxPITsPerWorkspace is how many all the users of one workspace may.
	// A point in time counts until its listing reaches its last page or
	// its cursor lapses.
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
// listing: who holds it, until when, and the first page's cursor whose
// second page opened it.
type pit struct {
	id              string
	origin          string
	workspace, user string
	expires         time.Time
	ready           chan struct{} // closed once id or err is set
	err             error
}

// pits are the points in time this process opened and has not yet seen
// closed or lapse. A first page's cursor sent again (a retry, a reload, a
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
	var user, workspace int
	for _, o := range s.byOrigin {
		if o.workspace == p.WorkspaceID {
			workspace++
			if o.user == p.UserID {
				user++
			}
		}
	}
	defer s.mu.Unlock()
	switch {
	case user >= cfg.MaxPITsPerUser:
		return nil, false, activity.Errorf(activity.ETOOMANY, "cursor",
			"you are reading %d listings past their first page at once, the most allowed; read one to its last page, or wait up to %s for one you left to lapse, then ask for this page again",
			user, lifetime)
	case workspace >= cfg.MaxPITsPerWorkspace:
		return nil, false, activity.Errorf(activity.ETOOMANY, "cursor",
			"your workspace is reading %d listings past their first page at once, the most allowed; wait until one is read to its last page or lapses (up to %s), then ask for this page again",
			workspace, lifetime)
	}
	e = &pit{origin: origin, workspace: p.WorkspaceID, user: p.UserID, ready: make(chan struct{})}
	s.byOrigin[origin] = e
	return e, true, nil
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
