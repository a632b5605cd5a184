package detect

import (
	"slices"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// plan collects a batch's checks and, in the order of the events, what to
// make of each answer.
type plan struct {
	checks Checks
	steps  []step
	// hours maps a user's day and hour to its check: one check answers
	// every event of that hour in the batch, since only earlier days count.
	hours map[hourRef]int
	// actors are the batch's acting users, each with their subject and
	// keys made once.
	actors map[actorRef]*actorKeys
}

// hourRef is a user's hour of a day, as an HourCheck names it.
type hourRef struct {
	key, day string
	hour     int
}

// step is what to make of one answer: then, a func of the answer's kind,
// applied to the i-th answer of that kind (or, for a verdict that needs
// no check, returning it).
type step struct {
	i    int
	then any
}

// actorRef is an actor of a workspace, by what their subject is made of.
type actorRef struct{ workspaceID, id, name, email string }

// actorKeys are an actor's subject and the keys of their checks.
type actorKeys struct {
	subject    alert.AlertSubject
	subjectKey string
	ok         bool
	keys       [][2]string // detector, key
	// lastHour is the actor's latest hour check and its index.
	lastHour struct {
		ref hourRef
		i   int
		ok  bool
	}
}

// actor returns e's actor's subject and keys, made once per batch.
func (p *plan) actor(e *activity.Event) *actorKeys {
	ref := actorRef{e.WorkspaceID, e.Actor.ID, e.Actor.Name, e.Actor.Email}
	a := p.actors[ref]
	if a == nil {
		a = &actorKeys{}
		a.subject, a.subjectKey, a.ok = actorSubject(e.Actor)
		if p.actors == nil {
			p.actors = map[actorRef]*actorKeys{}
		}
		p.actors[ref] = a
	}
	return a
}

// key returns the key of the actor's counts of detector.
func (a *actorKeys) key(d *Detector, workspaceID, detector string) string {
	for _, k := range a.keys {
		if k[0] == detector {
			return k[1]
		}
	}
	key := d.key(workspaceID, detector, a.subjectKey)
	a.keys = append(a.keys, [2]string{detector, key})
	return key
}

// candidate is an alert the detectors would raise, if its cooldown claim
// is granted.
type candidate struct {
	alert alert.Alert
	// claim is the cooldown key; empty raises the alert without one.
	claim    string
	cooldown time.Duration
}

func (p *plan) window(c WindowCheck, then func(WindowResult) []candidate) {
	p.steps = append(p.steps, step{len(p.checks.Windows), then})
	p.checks.Windows = append(p.checks.Windows, c)
}

func (p *plan) hour(a *actorKeys, c HourCheck, then func(HourResult) []candidate) {
	id := hourRef{c.Key, c.Day, c.Hour}
	i, ok := a.lastHour.i, a.lastHour.ok && a.lastHour.ref == id // most of a user's events follow one of the same hour
	if !ok {
		i, ok = p.hours[id]
	}
	if !ok {
		if p.hours == nil {
			p.hours = map[hourRef]int{}
		}
		i = len(p.checks.Hours)
		p.hours[id] = i
		p.checks.Hours = append(p.checks.Hours, c)
	}
	a.lastHour.ref, a.lastHour.i, a.lastHour.ok = id, i, true
	p.steps = append(p.steps, step{i, then})
}

func (p *plan) location(c LocationCheck, then func(LocationResult) []candidate) {
	p.steps = append(p.steps, step{len(p.checks.Locations), then})
	p.checks.Locations = append(p.checks.Locations, c)
}

func (p *plan) session(c SessionCheck, then func(SessionResult) []candidate) {
	p.steps = append(p.steps, step{len(p.checks.Sessions), then})
	p.checks.Sessions = append(p.checks.Sessions, c)
}

// now adds a verdict that needs no check.
func (p *plan) now(c candidate) {
	p.steps = append(p.steps, step{then: c})
}

// verdicts returns the candidates of every step, in order.
func (p *plan) verdicts(r Results) []candidate {
	var out []candidate
	for _, s := range p.steps {
		switch then := s.then.(type) {
		case func(WindowResult) []candidate:
			out = append(out, then(r.Windows[s.i])...)
		case func(HourResult) []candidate:
			out = append(out, then(r.Hours[s.i])...)
		case func(LocationResult) []candidate:
			out = append(out, then(r.Locations[s.i])...)
		case func(SessionResult) []candidate:
			out = append(out, then(r.Sessions[s.i])...)
		case candidate:
			out = append(out, then)
		}
	}
	return out
}

// key names a key of a workspace in the store. The workspace id in braces
// is the Redis Cluster hash tag: all of a workspace's keys share a slot.
func (d *Detector) key(workspaceID string, parts ...string) string {
	return d.Prefix + "{" + workspaceID + "}:" + strings.Join(parts, ":")
}

// claimKey names the cooldown key of a source (a detector or a rule) and
// a subject.
func (d *Detector) claimKey(workspaceID, source, subjectKey string) string {
	return d.key(workspaceID, "cooldown", source, subjectKey)
}

// newAlert returns the alert source raises about subject when e crosses
// the line, with its id derived from them.
func newAlert(e activity.Event, source string, subject alert.AlertSubject, subjectKey, severity, summary string) alert.Alert {
	return alert.Alert{
		ID:          alert.AlertID(e.WorkspaceID, source, subjectKey, e.ID),
		WorkspaceID: e.WorkspaceID,
		Detector:    source,
		Severity:    severity,
		State:       alert.AlertOpen,
		Summary:     summary,
		Subject:     subject,
		Count:       1,
		OccurredAt:  e.OccurredAt,
		EventIDs:    []string{e.ID},
		Details:     eventDetails(e),
	}
}

// eventDetails are the facts of the triggering event every alert carries.
func eventDetails(e activity.Event) map[string]any {
	d := map[string]any{"action": e.Action}
	if e.Context.IP != "" {
		d["ip"] = e.Context.IP
	}
	if e.Context.UserAgent != "" {
		d["user_agent"] = e.Context.UserAgent
	}
	if e.Context.SessionID != "" {
		d["session_id"] = e.Context.SessionID
	}
	if e.Resource.Type != "" {
		r := map[string]any{"type": e.Resource.Type}
		if e.Resource.ID != "" {
			r["id"] = e.Resource.ID
		}
		if e.Resource.Name != "" {
			r["name"] = e.Resource.Name
		}
		d["resource"] = r
	}
	return d
}

// windowEvents returns a window's event ids, the triggering event last.
func windowEvents(ids []string, trigger string) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == trigger })
	out = append(out, trigger)
	if len(out) > MaxAlertEvents {
		out = out[len(out)-MaxAlertEvents:]
	}
	return out
}

// isUser reports whether a person acted: a user, in a session or with one
// of their API tokens, known by id.
func isUser(a activity.Actor) bool {
	return a.ID != "" && (a.Type == activity.ActorUser || a.Type == activity.ActorAPIToken)
}

// actorSubject returns whom an alert about the actor is about and the key
// their counts are kept under: the user by id, or else the email address.
// It reports false for an actor known by neither (the system).
func actorSubject(a activity.Actor) (alert.AlertSubject, string, bool) {
	switch {
	case a.ID != "":
		return alert.AlertSubject{Type: "user", ID: a.ID, Label: who(a)}, "user:" + a.ID, true
	case a.Email != "":
		email := strings.ToLower(a.Email)
		return alert.AlertSubject{Type: "email", ID: email, Label: email}, "email:" + email, true
	}
	return alert.AlertSubject{}, "", false
}

func ipSubject(ip string) (alert.AlertSubject, string) {
	return alert.AlertSubject{Type: "ip", ID: ip, Label: ip}, "ip:" + ip
}

func workspaceSubject(workspaceID string) (alert.AlertSubject, string) {
	return alert.AlertSubject{Type: "workspace", ID: workspaceID}, "workspace"
}

// minutes is a window of n minutes.
func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }
