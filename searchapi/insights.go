package searchapi

import (
	"math"
	"sort"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// The operational-efficiency insights: the sequences of actions people
// repeat within their sessions (common workflows), and how long work takes
// from the action that starts a task to the one that completes it.

// MaxInsightEvents is the most events one insight reads; a period with
// more is answered from the first of them, marked as incomplete.
const MaxInsightEvents = 1_000_000

// Workflows are the sequences of actions users take one after the other
// within a session, most frequent first. Only users' actions in a session
// count, sign-ins, sign-outs and failed sign-ins aside (category auth): a
// sequence is two (Pairs) or three (Triples) consecutive such actions of
// one session in time order, and every position in a session starts one,
// so a session of n actions holds n-1 pairs and n-2 triples.
type Workflows struct {
	Period Period `json:"period"`
	// Sessions is the number of sessions with at least one action counted,
	// Actions the number of those actions.
	Sessions int64 `json:"sessions"`
	Actions  int64 `json:"actions"`
	// TotalPairs and TotalTriples are every sequence counted, of which
	// Pairs and Triples list the Limit most frequent.
	TotalPairs   int64      `json:"total_pairs"`
	TotalTriples int64      `json:"total_triples"`
	Pairs        []Sequence `json:"pairs"`
	Triples      []Sequence `json:"triples"`
	// Complete is false when the period held more than MaxEvents actions,
	// and only the first were read (in session order).
	Complete  bool `json:"complete"`
	MaxEvents int  `json:"max_events"`
}

// Sequence is one sequence of actions and how often it was taken.
type Sequence struct {
	Actions []string `json:"actions"`
	Count   int64    `json:"count"`
}

// SessionAction is one action of a session, as the workflows read it.
type SessionAction struct {
	Session string
	Action  string
}

// SequenceCounter counts the sequences of actions of sessions whose
// actions it is given in session order, each session's in time order. It
// holds only the last two actions and the counts of distinct sequences.
type SequenceCounter struct {
	session     string
	prev        []string
	pairs       map[string]int64
	triples     map[string]int64
	sessions    int64
	actions     int64
	pairTotal   int64
	tripleTotal int64
}

// NewSequenceCounter returns an empty counter.
func NewSequenceCounter() *SequenceCounter {
	return &SequenceCounter{pairs: map[string]int64{}, triples: map[string]int64{}}
}

// Add counts one action. Actions of the auth category are left out.
func (c *SequenceCounter) Add(a SessionAction) {
	if strings.HasPrefix(a.Action, "auth.") || a.Session == "" {
		return
	}
	if a.Session != c.session || c.sessions == 0 {
		c.session, c.prev = a.Session, c.prev[:0]
		c.sessions++
	}
	c.actions++
	if n := len(c.prev); n >= 1 {
		c.pairs[c.prev[n-1]+"\x00"+a.Action]++
		c.pairTotal++
		if n >= 2 {
			c.triples[c.prev[n-2]+"\x00"+c.prev[n-1]+"\x00"+a.Action]++
			c.tripleTotal++
		}
	}
	c.prev = append(c.prev, a.Action)
	if len(c.prev) > 2 {
		c.prev = append(c.prev[:0], c.prev[len(c.prev)-2:]...)
	}
}

// Workflows returns the limit most frequent pairs and triples counted so
// far, ties in the order of their actions.
func (c *SequenceCounter) Workflows(period Period, limit int) Workflows {
	return Workflows{
		Period: period, Sessions: c.sessions, Actions: c.actions,
		TotalPairs: c.pairTotal, TotalTriples: c.tripleTotal,
		Pairs: topSequences(c.pairs, limit), Triples: topSequences(c.triples, limit),
		Complete: true, MaxEvents: MaxInsightEvents,
	}
}

func topSequences(counts map[string]int64, limit int) []Sequence {
	out := make([]Sequence, 0, len(counts))
	for k, n := range counts {
		out = append(out, Sequence{Actions: strings.Split(k, "\x00"), Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return strings.Join(out[i].Actions, " ") < strings.Join(out[j].Actions, " ")
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Task is a piece of work the activity log shows the start and the end
// of, on one resource: Start opens it, the next End on the same resource
// completes it.
type Task struct {
	Name  string
	Start string
	End   string
}

// Tasks are the tasks whose time to complete the platform measures, in
// the order it lists them. The platform records no event when a license
// starts to expire, so the renewal of licenses is measured apart (see
// Renewals).
var Tasks = []Task{
	{Name: "asset_assignment", Start: "asset.created", End: "asset.assigned"},
	{Name: "maintenance", Start: "asset.maintenance_scheduled", End: "asset.maintenance_completed"},
	{Name: "invitation", Start: "user.invited", End: "invitation.accepted"},
}

// TaskActions returns every action that starts or ends one of Tasks.
func TaskActions() []string {
	var out []string
	for _, t := range Tasks {
		out = append(out, t.Start, t.End)
	}
	return out
}

// TaskTimes is how long the tasks took to complete in the period, and
// which of them keep work waiting longest.
type TaskTimes struct {
	Period Period     `json:"period"`
	Tasks  []TaskTime `json:"tasks"`
	// Bottlenecks are the names of the tasks completed at least once,
	// longest median wait first (then longest 90th percentile).
	Bottlenecks []string `json:"bottlenecks"`
	// Renewals is how far ahead of their expiry licenses were renewed:
	// the platform records no event when a license starts to expire, so
	// the time from "expiring" to renewed is read from each renewal's
	// previous expiry date instead.
	Renewals Renewals `json:"renewals"`
	// Complete is false when the period held more than MaxEvents starts
	// and ends, or renewals, and only the first were read.
	Complete  bool `json:"complete"`
	MaxEvents int  `json:"max_events"`
}

// Renewals are the license renewals of a period: Count renewals with a
// previous expiry date, Lapsed of them after that date had passed. A
// license expiring on a date expires at the end of that day in the
// workspace's time zone; the lead of a renewal is that moment minus the
// renewal's, negative for a lapsed license. MedianLeadMS is the median
// lead by nearest rank, MinLeadMS the shortest (the latest renewal); both
// 0 when Count is 0.
type Renewals struct {
	Count        int64   `json:"count"`
	Lapsed       int64   `json:"lapsed"`
	MedianLeadMS int64   `json:"median_lead_ms"`
	MinLeadMS    int64   `json:"min_lead_ms"`
	MedianDays   float64 `json:"median_days"`
}

// RenewalClock measures the renewals handed to it.
type RenewalClock struct {
	loc   *time.Location
	leads []int64
}

// NewRenewalClock returns a clock that reads expiry dates in loc.
func NewRenewalClock(loc *time.Location) *RenewalClock { return &RenewalClock{loc: loc} }

// Add reads one license.renewed event; one without a previous expiry
// date is left out.
func (c *RenewalClock) Add(e activity.Event) {
	for _, ch := range e.Changes {
		if ch.Field != "expires_on" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, ch.Before, c.loc)
		if err != nil {
			return
		}
		c.leads = append(c.leads, d.AddDate(0, 0, 1).Sub(e.OccurredAt).Milliseconds())
		return
	}
}

// Renewals returns the renewals measured.
func (c *RenewalClock) Renewals() Renewals {
	r := Renewals{Count: int64(len(c.leads))}
	if len(c.leads) == 0 {
		return r
	}
	sort.Slice(c.leads, func(i, j int) bool { return c.leads[i] < c.leads[j] })
	for _, l := range c.leads {
		if l < 0 {
			r.Lapsed++
		}
	}
	r.MedianLeadMS, r.MinLeadMS = NearestRank(c.leads, 50), c.leads[0]
	r.MedianDays = math.Round(float64(r.MedianLeadMS)/86_400_000*10) / 10
	return r
}

// TaskTime is the time to complete one task: Completed times, within the
// period, an End followed a Start on the same resource, and Open times a
// Start in the period was still waiting for its End when the period
// closed. The median and the 90th percentile are exact, by nearest rank,
// over the completed tasks; 0 when none completed.
type TaskTime struct {
	Task          string  `json:"task"`
	Start         string  `json:"start"`
	End           string  `json:"end"`
	Completed     int64   `json:"completed"`
	Open          int64   `json:"open"`
	MedianMS      int64   `json:"median_ms"`
	P90MS         int64   `json:"p90_ms"`
	MaxMS         int64   `json:"max_ms"`
	MedianMinutes float64 `json:"median_minutes"`
	P90Minutes    float64 `json:"p90_minutes"`
}

// ResourceAction is one start or end of a task, as the task times read it.
type ResourceAction struct {
	Resource string
	Action   string
	At       time.Time
}

// TaskClock measures tasks from their starts and ends, given in resource
// order, each resource's in time order. It holds one resource's open
// tasks and every completed task's duration.
type TaskClock struct {
	resource  string
	open      map[string]time.Time
	durations map[string][]int64
	opened    map[string]int64
}

// NewTaskClock returns a clock with no task measured.
func NewTaskClock() *TaskClock {
	return &TaskClock{open: map[string]time.Time{}, durations: map[string][]int64{}, opened: map[string]int64{}}
}

// Add reads one start or end. A start while the same task is open on the
// resource is not a new task: the task is measured from its first start.
// An end with no open task is left out.
func (c *TaskClock) Add(a ResourceAction) {
	if a.Resource != c.resource {
		c.closeResource()
		c.resource = a.Resource
	}
	for _, t := range Tasks {
		switch a.Action {
		case t.Start:
			if _, ok := c.open[t.Name]; !ok {
				c.open[t.Name] = a.At
			}
		case t.End:
			if at, ok := c.open[t.Name]; ok {
				c.durations[t.Name] = append(c.durations[t.Name], a.At.Sub(at).Milliseconds())
				delete(c.open, t.Name)
			}
		}
	}
}

func (c *TaskClock) closeResource() {
	for name := range c.open {
		c.opened[name]++
		delete(c.open, name)
	}
}

// Times returns the time to complete each of Tasks.
func (c *TaskClock) Times(period Period) TaskTimes {
	c.closeResource()
	out := TaskTimes{Period: period, Complete: true, MaxEvents: MaxInsightEvents, Bottlenecks: []string{}}
	for _, t := range Tasks {
		d := c.durations[t.Name]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		tt := TaskTime{Task: t.Name, Start: t.Start, End: t.End, Completed: int64(len(d)), Open: c.opened[t.Name]}
		if len(d) > 0 {
			tt.MedianMS, tt.P90MS, tt.MaxMS = NearestRank(d, 50), NearestRank(d, 90), d[len(d)-1]
			tt.MedianMinutes, tt.P90Minutes = minutes(tt.MedianMS), minutes(tt.P90MS)
		}
		out.Tasks = append(out.Tasks, tt)
	}
	done := make([]TaskTime, 0, len(out.Tasks))
	for _, t := range out.Tasks {
		if t.Completed > 0 {
			done = append(done, t)
		}
	}
	sort.SliceStable(done, func(i, j int) bool {
		if done[i].MedianMS != done[j].MedianMS {
			return done[i].MedianMS > done[j].MedianMS
		}
		return done[i].P90MS > done[j].P90MS
	})
	for _, t := range done {
		out.Bottlenecks = append(out.Bottlenecks, t.Task)
	}
	return out
}

// NearestRank returns the p-th percentile of sorted by nearest rank: the
// smallest value that at least p percent of the values do not exceed.
// sorted must not be empty.
func NearestRank(sorted []int64, p int) int64 {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func minutes(ms int64) float64 {
	return math.Round(float64(ms)/60000*10) / 10
}

// AssignmentActions are the actions that assign an asset or a license
// seat to someone.
var AssignmentActions = []string{"asset.assigned", "license.assigned"}

// Assignments are the patterns of the period's assignments of assets and
// license seats: who assigns, to whom, what, and when.
type Assignments struct {
	Period Period `json:"period"`
	Total  int64  `json:"total"`
	// Reassignments are assignments of an asset taken from a previous
	// assignee.
	Reassignments int64 `json:"reassignments"`
	// Resources counts the assignments per resource type (asset, license).
	Resources map[string]int64 `json:"resources"`
	// Assigners and Assignees are the Limit people who assigned and were
	// assigned the most, most first; an assignment to several people
	// counts once for each.
	Assigners []PersonCount `json:"assigners"`
	Assignees []PersonCount `json:"assignees"`
	// Days (Monday first) and Hours count the assignments by day of week
	// and hour of day in the workspace's time zone.
	Days  [7]int64  `json:"days"`
	Hours [24]int64 `json:"hours"`
	// Complete is false when the period held more than MaxEvents
	// assignments, and only the newest were read.
	Complete  bool `json:"complete"`
	MaxEvents int  `json:"max_events"`
}

// PersonCount is how many assignments one person made or received; the
// name is the one of their newest.
type PersonCount struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Count int64  `json:"count"`
}

// AssignmentCounter counts assignments handed to it newest first. It
// holds one counter per person and resource type.
type AssignmentCounter struct {
	a         Assignments
	assigners map[string]*PersonCount
	assignees map[string]*PersonCount
}

// NewAssignmentCounter returns a counter over period.
func NewAssignmentCounter(period Period) *AssignmentCounter {
	return &AssignmentCounter{
		a:         Assignments{Period: period, Resources: map[string]int64{}, Complete: true, MaxEvents: MaxInsightEvents},
		assigners: map[string]*PersonCount{}, assignees: map[string]*PersonCount{},
	}
}

// Add counts one assignment.
func (c *AssignmentCounter) Add(e activity.Event) {
	c.a.Total++
	c.a.Resources[e.Resource.Type]++
	loc := c.a.Period.Location
	if loc == nil {
		loc = Zone(c.a.Period.TimeZone)
	}
	at := e.OccurredAt.In(loc)
	c.a.Days[(int(at.Weekday())+6)%7]++
	c.a.Hours[at.Hour()]++
	count(c.assigners, e.Actor.ID, e.Actor.Name, e.Actor.Email)
	for _, r := range e.Related {
		switch r.Role {
		case "assignee":
			count(c.assignees, r.ID, r.Name, "")
		case "previous_assignee":
			if e.Resource.Type == "asset" {
				c.a.Reassignments++
			}
		}
	}
}

// count adds one to id's count, keeping the first name it is given: the
// newest, as assignments come newest first.
func count(people map[string]*PersonCount, id, name, email string) {
	if id == "" {
		return
	}
	p := people[id]
	if p == nil {
		p = &PersonCount{ID: id, Name: name, Email: email}
		people[id] = p
	}
	p.Count++
}

// Assignments returns the counts, with the limit people most active on
// each side.
func (c *AssignmentCounter) Assignments(limit int) Assignments {
	a := c.a
	a.Assigners, a.Assignees = topPeople(c.assigners, limit), topPeople(c.assignees, limit)
	return a
}

func topPeople(people map[string]*PersonCount, limit int) []PersonCount {
	out := make([]PersonCount, 0, len(people))
	for _, p := range people {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(limit, len(out))]
}
