package synthetic

import (
	"fmt"
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
	Assets   []activity.Resource
	Licenses []activity.Resource
}

// History makes a plausible past for a real workspace: members who work
// their own hours on working days, log in (now and then after a typo), edit
// and assign assets, hand out license seats, look up keys and log out.
type History struct {
	ws    Workspace
	rnd   *rand.Rand
	loc   *time.Location
	from  time.Time
	days  int
	habit []habit
}

// habit is how one member works.
type habit struct {
	start, hours int     // usual first hour and length of the day
	weight       float64 // how much of the workspace's activity is theirs
	ip, agent    string
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

// NewHistory returns a history of ws over the days before until. It needs
// at least one member and one asset.
func NewHistory(seed uint64, ws Workspace, days int, until time.Time) (*History, error) {
	if len(ws.Members) == 0 || len(ws.Assets) == 0 {
		return nil, fmt.Errorf("a history needs members and assets")
	}
	loc, err := time.LoadLocation(ws.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	h := &History{ws: ws, rnd: rand.New(rand.NewPCG(seed, seed^0x5bd1e995)), loc: loc, days: max(1, days)}
	h.from = until.AddDate(0, 0, -h.days)
	for i := range ws.Members {
		h.habit = append(h.habit, habit{
			start:  7 + h.rnd.IntN(4),
			hours:  7 + h.rnd.IntN(3),
			weight: 0.3 + h.rnd.Float64()*2,
			ip:     fmt.Sprintf(officeNets[i%len(officeNets)], 10+h.rnd.IntN(200)),
			agent:  historyUAs[h.rnd.IntN(len(historyUAs))],
		})
	}
	return h, nil
}

// Session returns the events of one working session, in time order: a
// login, some work, usually a logout.
func (h *History) Session() []activity.Event {
	m := h.pickMember()
	actor, hb := h.ws.Members[m], h.habit[m]
	at := h.sessionStart(hb)
	session := activity.NewEventID()
	ctx := activity.Context{IP: hb.ip, UserAgent: hb.agent, SessionID: session, Method: activity.MethodWeb, TimeZone: h.ws.TimeZone}
	if h.rnd.IntN(25) == 0 { // now and then from somewhere else
		ctx.IP = fmt.Sprintf(officeNets[h.rnd.IntN(len(officeNets))], 10+h.rnd.IntN(200))
	}
	var out []activity.Event
	add := func(action string, res activity.Resource) *activity.Event {
		e := activity.NewEvent(h.ws.ID, action, at)
		e.Actor, e.Resource, e.Context = actor, res, ctx
		e.Context.RequestID = activity.NewEventID()
		out = append(out, e)
		at = at.Add(time.Duration(20+h.rnd.IntN(600)) * time.Second)
		return &out[len(out)-1]
	}
	self := activity.Resource{Type: "user", ID: actor.ID, Name: actor.Name}
	for i := h.rnd.IntN(12); i < 2; i++ { // a mistyped password, rarely twice
		e := add("auth.login_failed", self)
		e.Outcome, e.Context.SessionID = activity.OutcomeFailure, ""
		e.Details = map[string]any{"reason": "wrong_password", "attempted_email": actor.Email}
	}
	add("auth.login", self)
	for n := 2 + h.rnd.IntN(12); n > 0; n-- {
		h.work(actor, add)
	}
	if h.rnd.IntN(10) < 7 {
		add("auth.logout", self)
	}
	return out
}

// work adds one piece of everyday work.
func (h *History) work(actor activity.Actor, add func(string, activity.Resource) *activity.Event) {
	asset := h.ws.Assets[h.rnd.IntN(len(h.ws.Assets))]
	other := h.ws.Members[h.rnd.IntN(len(h.ws.Members))]
	assignee := activity.Resource{Type: "user", ID: other.ID, Name: other.Name, Role: "assignee"}
	switch k := h.rnd.IntN(100); {
	case k < 30:
		e := add("asset.updated", asset)
		from, to := locations[h.rnd.IntN(len(locations))], locations[h.rnd.IntN(len(locations))]
		e.Changes = []activity.Change{{Field: "location", Before: from, After: to}}
	case k < 45:
		e := add("asset.assigned", asset)
		e.Related = []activity.Resource{assignee}
		e.Changes = []activity.Change{{Field: "assigned_to", Before: "", After: other.Name + " (" + other.ID + ")"}, {Field: "status", Before: "available", After: "assigned"}}
	case k < 55:
		e := add("asset.status_changed", asset)
		to := []string{"in_maintenance", "available", "retired", "lost"}[h.rnd.IntN(4)]
		e.Changes = []activity.Change{{Field: "status", Before: "assigned", After: to}}
	case k < 62:
		e := add("asset.maintenance_scheduled", asset)
		e.Details = map[string]any{"description": "battery and keyboard check"}
	case k < 75 && len(h.ws.Licenses) > 0:
		add("license.key_viewed", h.ws.Licenses[h.rnd.IntN(len(h.ws.Licenses))])
	case k < 85 && len(h.ws.Licenses) > 0:
		e := add("license.assigned", h.ws.Licenses[h.rnd.IntN(len(h.ws.Licenses))])
		e.Related = []activity.Resource{assignee}
	case k < 90:
		e := add("system.data_exported", activity.Resource{Type: "export", Name: "assets.csv"})
		e.Details = map[string]any{"dataset": "assets", "format": "csv"}
	default:
		e := add("asset.image_uploaded", asset)
		e.Details = map[string]any{"file_name": "photo.jpg", "content_type": "image/jpeg", "size": 180000 + h.rnd.IntN(90000)}
	}
}

func (h *History) pickMember() int {
	total := 0.0
	for _, hb := range h.habit {
		total += hb.weight
	}
	r := h.rnd.Float64() * total
	for i, hb := range h.habit {
		if r -= hb.weight; r < 0 {
			return i
		}
	}
	return len(h.habit) - 1
}

// sessionStart picks a time in the member's working hours on a working
// day, in the workspace's time zone; one session in thirty is out of hours.
func (h *History) sessionStart(hb habit) time.Time {
	for {
		day := h.from.In(h.loc).AddDate(0, 0, h.rnd.IntN(h.days))
		weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
		odd := h.rnd.IntN(30) == 0
		if weekend && !odd {
			continue
		}
		hour := hb.start + h.rnd.IntN(hb.hours)
		if odd {
			hour = []int{5, 6, 20, 21, 22, 23}[h.rnd.IntN(6)]
		}
		y, mo, d := day.Date()
		return time.Date(y, mo, d, hour, h.rnd.IntN(60), h.rnd.IntN(60), 0, h.loc)
	}
}

// Events returns at least n events of whole sessions, oldest first.
func (h *History) Events(n int) []activity.Event {
	var out []activity.Event
	for len(out) < n {
		out = append(out, h.Session()...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OccurredAt.Before(out[j].OccurredAt) })
	return out
}
