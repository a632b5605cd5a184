package detect

import (
	"slices"
	"strconv"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// plan collects a batch's checks and, in the order of the events, what to
// make of each answer.
type plan struct {
	checks Checks
	steps  []func(Results) []candidate
	// hours maps a user's day and hour to its check: one check answers
	// every event of that hour in the batch, since only earlier days count.
	hours map[string]int
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
	i := len(p.checks.Windows)
	p.checks.Windows = append(p.checks.Windows, c)
	p.steps = append(p.steps, func(r Results) []candidate { return then(r.Windows[i]) })
}

func (p *plan) hour(c HourCheck, then func(HourResult) []candidate) {
	id := c.Key + "|" + c.Day + "|" + strconv.Itoa(c.Hour)
	i, ok := p.hours[id]
	if !ok {
		if p.hours == nil {
			p.hours = map[string]int{}
		}
		i = len(p.checks.Hours)
		p.hours[id] = i
		p.checks.Hours = append(p.checks.Hours, c)
	}
	p.steps = append(p.steps, func(r Results) []candidate { return then(r.Hours[i]) })
}

func (p *plan) location(c LocationCheck, then func(LocationResult) []candidate) {
	i := len(p.checks.Locations)
	p.checks.Locations = append(p.checks.Locations, c)
	p.steps = append(p.steps, func(r Results) []candidate { return then(r.Locations[i]) })
}

func (p *plan) session(c SessionCheck, then func(SessionResult) []candidate) {
	i := len(p.checks.Sessions)
	p.checks.Sessions = append(p.checks.Sessions, c)
	p.steps = append(p.steps, func(r Results) []candidate { return then(r.Sessions[i]) })
}

// now adds a verdict that needs no check.
func (p *plan) now(c candidate) {
	p.steps = append(p.steps, func(Results) []candidate { return []candidate{c} })
}

// verdicts returns the candidates of every step, in order.
func (p *plan) verdicts(r Results) []candidate {
	var out []candidate
	for _, step := range p.steps {
		out = append(out, step(r)...)
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
