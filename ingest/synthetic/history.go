package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	activity "github.com/fluxera/activity"
)

// Workspace is what a history is made of: a workspace with its members and
// the assets and licenses they work on.
type Workspace struct {
	ID       string
	TimeZone string
	Members  []activity.Actor
	// People says how each member works, by the member's index; members
	// without one get usual hours in the workspace's time zone.
	People   []Person
	Assets   []activity.Resource
	Licenses []activity.Resource
}

// Person is how one member works: the time zone they live in and the
// hour, in it, at which their working day usually starts, and its length.
type Person struct {
	TimeZone string
	Start    int
	Hours    int
}

// The bounds a history keeps its people within.
const (
	// MinDayActions and MaxDayActions bound one person's actions (their
	// logins, logouts and failed logins included) on a day they work.
	MinDayActions = 20
	MaxDayActions = 300
	// MaxDaySessions is the most sessions one person has in a day.
	MaxDaySessions = 3
	// TypicalDayActions is the mean actions of a person's working day that
	// TeamSize sizes a team for.
	TypicalDayActions = 80
	// presence is the chance that a person works on a working day, and
	// weekendPresence on a Saturday or Sunday.
	presence        = 0.92
	weekendPresence = 0.003
	// lateNight is the chance that a person's working day ends with a
	// session late in the evening.
	lateNight = 0.002
)

// TeamSize returns how many people a workspace needs so that events
// actions over days days are about TypicalDayActions a working day each;
// at least three.
func TeamSize(events, days int) int {
	perPerson := float64(WorkingDays(days)) * presence * TypicalDayActions
	return max(3, int(math.Ceil(float64(events)/perPerson)))
}

// WorkingDays returns the number of Monday-to-Friday days among days
// consecutive days, counted as five in seven.
func WorkingDays(days int) int {
	return max(1, days*5/7)
}

// History makes a plausible past for a real workspace: people who work
// their own hours on working days and now and then on a weekend, in one to
// three sessions a day, who log in (rarely after a typo), edit and assign
// assets, hand out license seats, look up keys, rarely export, and log
// out. It plans every person's every day first, so that the events asked
// for spread over the whole period within the bounds above, and then
// hands the sessions out one day at a time, days in random order.
type History struct {
	ws     Workspace
	rnd    *rand.Rand
	loc    *time.Location
	from   time.Time // the first day's midnight in the workspace's time zone
	days   int
	habit  []habit
	counts [][]int // counts[day][person]: actions planned
	order  []int   // the days not yet handed out, next last
	queue  [][]activity.Event
	stats  Summary
}

// Summary says what a history handed out.
type Summary struct {
	Members  int
	Days     int
	Events   int
	Sessions int
}

// habit is how one member works.
type habit struct {
	loc          *time.Location
	start, hours int     // usual first hour and length of the day, in loc
	weight       float64 // how busy they are compared with the others
	ip, agent    string
	admin        bool
}

var (
	officeNets = []string{"192.0.2.%d", "203.0.113.%d", "198.51.100.%d"}
	historyUAs = []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	}
	locations = []string{"Berlin HQ, 3rd floor", "Berlin HQ, IT storage", "Munich office", "Remote", "Hamburg office"}
)

// NewHistory returns a history of ws over the days before until, planned
// for people working typical days; Plan plans it for a number of events
// instead. It needs at least one member and one asset.
func NewHistory(seed uint64, ws Workspace, days int, until time.Time) (*History, error) {
	if len(ws.Members) == 0 || len(ws.Assets) == 0 {
		return nil, fmt.Errorf("a history needs members and assets")
	}
	loc, err := time.LoadLocation(ws.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	h := &History{ws: ws, rnd: rand.New(rand.NewPCG(seed, seed^0x5bd1e995)), loc: loc, days: max(1, days)}
	y, m, d := until.In(loc).AddDate(0, 0, -h.days).Date()
	h.from = time.Date(y, m, d, 0, 0, 0, 0, loc)
	for i, actor := range ws.Members {
		hb := habit{
			loc:    loc,
			start:  8 + h.rnd.IntN(2),
			hours:  7 + h.rnd.IntN(2),
			weight: 0.5 + h.rnd.Float64()*1.3,
			ip:     fmt.Sprintf(officeNets[i%len(officeNets)], 10+h.rnd.IntN(200)),
			agent:  historyUAs[h.rnd.IntN(len(historyUAs))],
			admin:  actor.Role == activity.RoleOwner || actor.Role == activity.RoleAdmin,
		}
		if i < len(ws.People) {
			p := ws.People[i]
			if l, err := time.LoadLocation(p.TimeZone); err == nil && p.TimeZone != "" {
				hb.loc = l
			}
			if p.Hours > 0 {
				hb.start, hb.hours = p.Start, p.Hours
			}
		}
		h.habit = append(h.habit, hb)
	}
	h.stats = Summary{Members: len(ws.Members), Days: h.days}
	h.Plan(int(float64(len(ws.Members)*WorkingDays(h.days)) * presence * TypicalDayActions))
	return h, nil
}

// weekend reports whether day d of the history is a Saturday or Sunday in
// the workspace's time zone.
func (h *History) weekend(d int) bool {
	wd := h.from.AddDate(0, 0, d).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// Plan plans the history to hold exactly events events over its days:
// who works on which day and how many actions. When the events are too
// few for every person to work every working day within the bounds, fewer
// people work each day; when they are too many for the bounds, every
// working day is as busy as the bounds allow, and the sessions handed out
// beyond them start the period again (size the team with TeamSize to stay
// within them).
func (h *History) Plan(events int) {
	n := len(h.habit)
	base := make([][]float64, h.days)
	var present int
	for d := range base {
		base[d] = make([]float64, n)
		weekend := h.weekend(d)
		busy := 0.7 + h.rnd.Float64()*0.6 // some days are busier for everyone
		for p, hb := range h.habit {
			chance, scale := presence, 1.0
			if weekend {
				chance, scale = weekendPresence, 0.3
			}
			if h.rnd.Float64() < chance {
				base[d][p] = hb.weight * busy * scale * (0.6 + h.rnd.Float64()*0.9)
				present++
			}
		}
	}
	// Too few events for everyone's days: drop days at random until the
	// rest can hold at least MinDayActions each, with room to spare.
	for present > 0 && present*(MinDayActions+10) > events {
		d, p := h.rnd.IntN(h.days), h.rnd.IntN(n)
		if base[d][p] > 0 {
			base[d][p] = 0
			present--
		}
	}
	h.counts = make([][]int, h.days)
	sum := func(factor float64, fill bool) int {
		total := 0
		for d := range base {
			if fill {
				h.counts[d] = make([]int, n)
			}
			for p, b := range base[d] {
				if b == 0 {
					continue
				}
				c := min(MaxDayActions, max(MinDayActions, int(math.Round(b*factor))))
				if fill {
					h.counts[d][p] = c
				}
				total += c
			}
		}
		return total
	}
	lo, hi := 0.0, float64(MaxDayActions*8)
	for range 60 {
		mid := (lo + hi) / 2
		if sum(mid, false) < events {
			lo = mid
		} else {
			hi = mid
		}
	}
	left := events - sum(lo, true)
	// The rest, one action at a time, to days within the bounds.
	for tries := 0; left != 0 && tries < 50*events+1000; tries++ {
		d, p := h.rnd.IntN(h.days), h.rnd.IntN(n)
		c := h.counts[d][p]
		switch {
		case c == 0:
		case left > 0 && c < MaxDayActions:
			h.counts[d][p]++
			left--
		case left < 0 && c > MinDayActions:
			h.counts[d][p]--
			left++
		}
	}
	h.order = h.rnd.Perm(h.days)
	h.queue = nil
}

// Summary says how many members and days the history covers, and how many
// events and sessions it has handed out so far.
func (h *History) Summary() Summary { return h.stats }

// Session returns the events of the next working session, in time order:
// a login, some work, usually a logout. The sessions of one day come out
// together, days in random order; after the last planned day the plan
// starts again.
func (h *History) Session() []activity.Event {
	for len(h.queue) == 0 {
		if len(h.order) == 0 {
			h.order = h.rnd.Perm(h.days)
		}
		d := h.order[len(h.order)-1]
		h.order = h.order[:len(h.order)-1]
		h.planDay(d)
	}
	s := h.queue[0]
	h.queue = h.queue[1:]
	h.stats.Sessions++
	h.stats.Events += len(s)
	return s
}

// planDay queues the sessions of every person who works on day d.
func (h *History) planDay(d int) {
	for p, count := range h.counts[d] {
		if count == 0 {
			continue
		}
		h.queue = append(h.queue, h.personDay(d, p, count)...)
	}
	sort.SliceStable(h.queue, func(i, j int) bool { return h.queue[i][0].OccurredAt.Before(h.queue[j][0].OccurredAt) })
}

// personDay makes the sessions of person p on day d, count events in all.
func (h *History) personDay(d, p, count int) [][]activity.Event {
	hb := h.habit[p]
	y, m, day := h.from.AddDate(0, 0, d).Date()
	start := time.Date(y, m, day, hb.start, 0, 0, 0, hb.loc).Add(time.Duration(h.rnd.IntN(45)) * time.Minute)
	length := time.Duration(hb.hours) * time.Hour
	sessions := 1
	if !h.weekend(d) {
		switch k := h.rnd.IntN(100); {
		case k >= 80 && count >= 30:
			sessions = 3
		case k >= 45 && count >= 20:
			sessions = 2
		}
	} else {
		start = time.Date(y, m, day, 10+h.rnd.IntN(5), h.rnd.IntN(60), 0, 0, hb.loc)
		length = time.Duration(1+h.rnd.IntN(2)) * time.Hour
	}
	late := !h.weekend(d) && h.rnd.Float64() < lateNight
	// Split count among the sessions, each at least ten.
	sizes := make([]int, sessions)
	left := count
	for i := range sizes {
		if i == sessions-1 {
			sizes[i] = left
			break
		}
		share := count / sessions
		sizes[i] = max(10, share+h.rnd.IntN(share/2+1)-share/4)
		left -= sizes[i]
	}
	var out [][]activity.Event
	slot := length / time.Duration(sessions)
	for i, size := range sizes {
		at := start.Add(time.Duration(i) * slot).Add(time.Duration(h.rnd.Int64N(int64(slot / 6))))
		span := slot * time.Duration(55+h.rnd.IntN(20)) / 100
		if late && i == sessions-1 {
			at = time.Date(y, m, day, 21+h.rnd.IntN(2), h.rnd.IntN(60), 0, 0, hb.loc)
			span = time.Duration(20+h.rnd.IntN(40)) * time.Minute
		}
		out = append(out, h.session(p, at, span, size))
	}
	return out
}

// session makes one session of person p of exactly size events from at,
// spread over about span.
func (h *History) session(p int, at time.Time, span time.Duration, size int) []activity.Event {
	actor, hb := h.ws.Members[p], h.habit[p]
	session := activity.NewEventID()
	ctx := activity.Context{IP: hb.ip, UserAgent: hb.agent, SessionID: session, Method: activity.MethodWeb, TimeZone: h.ws.TimeZone}
	switch {
	case h.rnd.IntN(3000) == 0: // once in a long while from another office
		ctx.IP = fmt.Sprintf(officeNets[h.rnd.IntN(len(officeNets))], 10+h.rnd.IntN(200))
	case h.rnd.IntN(20) == 0: // another desk of their own office
		ctx.IP = fmt.Sprintf(officeNets[p%len(officeNets)], 10+h.rnd.IntN(200))
	}
	out := make([]activity.Event, 0, size)
	step := span / time.Duration(size)
	add := func(action string, res activity.Resource) *activity.Event {
		e := activity.NewEvent(h.ws.ID, action, at)
		e.Actor, e.Resource, e.Context = actor, res, ctx
		e.Context.RequestID = activity.NewEventID()
		out = append(out, e)
		at = at.Add(time.Second + time.Duration(h.rnd.Int64N(int64(2*step)+1)))
		return &out[len(out)-1]
	}
	self := activity.Resource{Type: "user", ID: actor.ID, Name: actor.Name}
	logout := h.rnd.IntN(100) < 85
	work := size - 1
	if logout {
		work--
	}
	if h.rnd.IntN(60) == 0 && work > 1 { // a mistyped password
		e := add("auth.login_failed", self)
		e.Outcome, e.Context.SessionID = activity.OutcomeFailure, ""
		e.Details = map[string]any{"reason": "wrong_password", "attempted_email": actor.Email}
		work--
	}
	add("auth.login", self)
	for ; work > 0; work-- {
		h.work(actor, hb.admin, add)
	}
	if logout {
		add("auth.logout", self)
	}
	return out
}

// work adds one piece of everyday work.
func (h *History) work(actor activity.Actor, admin bool, add func(string, activity.Resource) *activity.Event) {
	asset := h.ws.Assets[h.rnd.IntN(len(h.ws.Assets))]
	other := h.ws.Members[h.rnd.IntN(len(h.ws.Members))]
	assignee := activity.Resource{Type: "user", ID: other.ID, Name: other.Name, Role: "assignee"}
	switch k := h.rnd.IntN(1000); {
	case k < 380:
		e := add("asset.updated", asset)
		from, to := locations[h.rnd.IntN(len(locations))], locations[h.rnd.IntN(len(locations))]
		e.Changes = []activity.Change{{Field: "location", Before: from, After: to}}
	case k < 530:
		e := add("asset.assigned", asset)
		e.Related = []activity.Resource{assignee}
		e.Changes = []activity.Change{{Field: "assigned_to", Before: "", After: other.Name + " (" + other.ID + ")"}, {Field: "status", Before: "available", After: "assigned"}}
	case k < 640:
		e := add("asset.status_changed", asset)
		to := []string{"in_maintenance", "available", "retired", "lost"}[h.rnd.IntN(4)]
		e.Changes = []activity.Change{{Field: "status", Before: "assigned", After: to}}
	case k < 710:
		e := add("asset.maintenance_scheduled", asset)
		e.Details = map[string]any{"description": "battery and keyboard check"}
	case k < 790 && len(h.ws.Licenses) > 0:
		add("license.key_viewed", h.ws.Licenses[h.rnd.IntN(len(h.ws.Licenses))])
	case k < 900 && len(h.ws.Licenses) > 0:
		e := add("license.assigned", h.ws.Licenses[h.rnd.IntN(len(h.ws.Licenses))])
		e.Related = []activity.Resource{assignee}
	case k < 901:
		e := add("system.data_exported", activity.Resource{Type: "export", Name: "assets.csv"})
		e.Details = map[string]any{"dataset": "assets", "format": "csv"}
	case k < 902:
		e := add("system.report_generated", activity.Resource{Type: "report", Name: "asset_inventory"})
		e.Details = map[string]any{"type": "asset", "format": "pdf"}
	case k < 905 && admin:
		e := add("user.role_changed", activity.Resource{Type: "user", ID: other.ID, Name: other.Name})
		e.Changes = []activity.Change{{Field: "role", Before: activity.RoleViewer, After: activity.RoleMember}}
	default:
		e := add("asset.image_uploaded", asset)
		e.Details = map[string]any{"file_name": "photo.jpg", "content_type": "image/jpeg", "size": 180000 + h.rnd.IntN(90000)}
	}
}

// Events plans the history for n events and returns them all, oldest
// first.
func (h *History) Events(n int) []activity.Event {
	h.Plan(n)
	out := make([]activity.Event, 0, n)
	for len(out) < n {
		out = append(out, h.Session()...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OccurredAt.Before(out[j].OccurredAt) })
	return out
}
