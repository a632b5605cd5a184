package searchapi

import (
	"math"
	"sort"
	"time"
)

// Bounds of the time spent.
const (
	// DefaultIdle is how long an action keeps its session active when the
	// caller names no idle time.
	DefaultIdle = 30 * time.Minute
	// MinIdle and MaxIdle bound the idle time a caller may ask for, in
	// whole minutes.
	MinIdle = time.Minute
	MaxIdle = 4 * time.Hour
	// MaxActiveBuckets is the most stretches of idle time with actions (per
	// user and session) the time spent reads; a period with more is
	// answered from the first of them in time order, marked as incomplete.
	MaxActiveBuckets = 2_000_000
)

// ActiveBucket is what the time spent needs to know of one stretch of
// time, no longer than the idle time, of one session of one user: when its
// first and last action happened and when, if ever, the session was logged
// out within it. Times are Unix milliseconds.
type ActiveBucket struct {
	User    string
	Session string
	First   int64
	Last    int64
	// Logout is the time of the bucket's first logout; HasLogout says
	// whether there is one.
	Logout    int64
	HasLogout bool
}

// ActiveInterval is a stretch of active time, From included, To excluded, in
// Unix milliseconds.
type ActiveInterval struct {
	From, To int64
}

// SessionActivity turns the buckets of one session, oldest first, into
// its active intervals: each action keeps the session active for idle
// after it, and the session's first logout ends it; actions after that
// logout do not count. Each bucket must span no more than idle, so that
// the actions within one bucket, less than idle apart, always chain: the
// bucket's first and last action and first logout then give the same
// intervals as all its actions would.
func SessionActivity(buckets []ActiveBucket, idle time.Duration) []ActiveInterval {
	var out []ActiveInterval
	ms := idle.Milliseconds()
	var s, e int64
	open := false
	emit := func() {
		if open && e > s {
			out = append(out, ActiveInterval{From: s, To: e})
		}
		open = false
	}
	for _, m := range buckets {
		if open && m.First > e {
			emit()
		}
		if !open {
			s, e, open = m.First, m.First, true
		}
		if m.HasLogout {
			// Every action of the bucket before the logout is less than
			// idle from the next, so they chain up to the logout, which
			// also cuts what the earlier actions kept active.
			e = m.Logout
			emit()
			return out
		}
		e = max(e, m.Last+ms)
	}
	emit()
	return out
}

// UnionOf merges intervals into their union, sorted, within [from, to).
func UnionOf(intervals []ActiveInterval, from, to int64) []ActiveInterval {
	sort.Slice(intervals, func(i, j int) bool { return intervals[i].From < intervals[j].From })
	var out []ActiveInterval
	for _, iv := range intervals {
		iv.From, iv.To = max(iv.From, from), min(iv.To, to)
		if iv.To <= iv.From {
			continue
		}
		if n := len(out); n > 0 && iv.From <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, iv.To)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// ByDay splits the length of intervals by the calendar day of loc they
// fall on, and returns milliseconds per day keyed by YYYY-MM-DD.
func ByDay(intervals []ActiveInterval, loc *time.Location) map[string]int64 {
	out := map[string]int64{}
	for _, iv := range intervals {
		from := iv.From
		for from < iv.To {
			t := time.UnixMilli(from).In(loc)
			y, m, d := t.Date()
			next := time.Date(y, m, d+1, 0, 0, 0, 0, loc).UnixMilli()
			end := min(next, iv.To)
			out[t.Format(time.DateOnly)] += end - from
			from = end
		}
	}
	return out
}

// Length is the total length of intervals in milliseconds.
func Length(intervals []ActiveInterval) int64 {
	var n int64
	for _, iv := range intervals {
		n += iv.To - iv.From
	}
	return n
}

// ActiveTime adds up the active time of users from the buckets of their
// sessions read in stretches of time, one stretch after the other, as
// SessionActivity and UnionOf would from each session's buckets read at
// once: a session whose activity reaches the end of a stretch carries on
// into the next, and a logout in a later stretch still ends it. It keeps
// the state of every session seen (to count each once and to ignore the
// actions after its logout) and each user's union of intervals, merged as
// it goes, never the buckets.
type ActiveTime struct {
	idle     int64
	from, to int64
	sessions map[sessionKey]*sessionState
	open     []*sessionState
	users    map[string]*userActivity
}

type sessionKey struct{ user, session string }

// sessionState is where SessionActivity stands in one session.
type sessionState struct {
	user   *userActivity
	s, e   int64
	open   bool
	ended  bool
	listed bool
}

type userActivity struct {
	id        string
	sessions  int64
	intervals []ActiveInterval
	merged    int
}

// NewActiveTime returns an empty ActiveTime for actions keeping a session
// active for idle, within [from, to) in Unix milliseconds.
func NewActiveTime(idle time.Duration, from, to int64) *ActiveTime {
	return &ActiveTime{idle: idle.Milliseconds(), from: from, to: to,
		sessions: map[sessionKey]*sessionState{}, users: map[string]*userActivity{}}
}

// Add reads one bucket. Each session's buckets must come oldest first,
// each no longer than the idle time; the buckets of different sessions
// may come in any order.
func (a *ActiveTime) Add(b ActiveBucket) {
	k := sessionKey{b.User, b.Session}
	st := a.sessions[k]
	if st == nil {
		u := a.users[b.User]
		if u == nil {
			u = &userActivity{id: b.User}
			a.users[b.User] = u
		}
		u.sessions++
		st = &sessionState{user: u}
		a.sessions[k] = st
	}
	if st.ended {
		return
	}
	if st.open && b.First > st.e {
		a.emit(st)
	}
	if !st.open {
		st.s, st.e, st.open = b.First, b.First, true
		if !st.listed {
			a.open = append(a.open, st)
			st.listed = true
		}
	}
	if b.HasLogout {
		st.e = b.Logout
		a.emit(st)
		st.ended = true
		return
	}
	st.e = max(st.e, b.Last+a.idle)
}

// emit ends the session's current interval.
func (a *ActiveTime) emit(st *sessionState) {
	if st.open && st.e > st.s {
		u := st.user
		u.intervals = append(u.intervals, ActiveInterval{From: st.s, To: st.e})
		if len(u.intervals) >= 2*u.merged+64 {
			u.intervals = UnionOf(u.intervals, a.from, a.to)
			u.merged = len(u.intervals)
		}
	}
	st.open = false
}

// Until says that every bucket still to come starts at or after at: the
// sessions whose activity ends before it are ended.
func (a *ActiveTime) Until(at int64) {
	kept := a.open[:0]
	for _, st := range a.open {
		if st.open && st.e < at {
			a.emit(st)
		}
		if st.open {
			kept = append(kept, st)
		} else {
			st.listed = false
		}
	}
	clear(a.open[len(kept):])
	a.open = kept
}

// UserActivity is one user's active time: the number of their sessions
// and the union of their active intervals.
type UserActivity struct {
	ID       string
	Sessions int64
	Union    []ActiveInterval
}

// Users ends every session and returns each user's active time, in no
// particular order.
func (a *ActiveTime) Users() []UserActivity {
	a.Until(math.MaxInt64)
	out := make([]UserActivity, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, UserActivity{ID: u.id, Sessions: u.sessions, Union: UnionOf(u.intervals, a.from, a.to)})
	}
	return out
}
