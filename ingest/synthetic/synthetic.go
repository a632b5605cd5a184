// Package synthetic makes plausible activity events in bulk — workspaces
// with users who log in, edit assets, view license keys and now and then
// fail to log in — for load tests, fault tests and benchmarks.
package synthetic

import (
	"fmt"
	"math/rand/v2"
	"time"

	activity "github.com/fluxera/activity"
)

// Generator makes events for a fixed set of workspaces and users.
type Generator struct {
	rnd        *rand.Rand
	workspaces []string
	users      [][]activity.Actor
	start      time.Time
	step       time.Duration
	n          int
}

var (
	firstNames = []string{"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia"}
	lastNames  = []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Turing", "Perlman"}
	assetNames = []string{"MacBook Pro 14", "ThinkPad X1 Carbon", "Dell UltraSharp 27", "iPhone 15", "Pixel 8", "iPad Air", "Jabra Evolve2"}
	licenses   = []string{"Adobe Creative Cloud", "JetBrains All Products", "Microsoft 365 E3", "Slack Business+", "Figma Organization"}
	statuses   = []string{"available", "assigned", "in_maintenance", "retired"}
	agents     = []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36",
		"fluxera-cli/1.4 (linux)",
	}
)

// New returns a generator of events for the given number of workspaces,
// users per workspace, spread evenly from start with step between events.
func New(seed uint64, workspaces, usersPer int, start time.Time, step time.Duration) *Generator {
	g := &Generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), start: start, step: step}
	for w := 0; w < workspaces; w++ {
		ws := activity.NewEventID()
		g.workspaces = append(g.workspaces, ws)
		var us []activity.Actor
		for u := 0; u < usersPer; u++ {
			first, last := firstNames[g.rnd.IntN(len(firstNames))], lastNames[g.rnd.IntN(len(lastNames))]
			role := activity.RoleMember
			if u == 0 {
				role = activity.RoleOwner
			}
			us = append(us, activity.Actor{
				ID: activity.NewEventID(), Name: first + " " + last, Role: role, Type: activity.ActorUser,
				Email: fmt.Sprintf("%s.%s.%d@example.com", first, last, u),
			})
		}
		g.users = append(g.users, us)
	}
	return g
}

// Workspaces returns the ids of the generated workspaces.
func (g *Generator) Workspaces() []string { return g.workspaces }

// Next returns the next event.
func (g *Generator) Next() activity.Event {
	w := g.rnd.IntN(len(g.workspaces))
	actor := g.users[w][g.rnd.IntN(len(g.users[w]))]
	at := g.start.Add(time.Duration(g.n) * g.step)
	g.n++
	var e activity.Event
	switch k := g.rnd.IntN(100); {
	case k < 45:
		e = activity.NewEvent(g.workspaces[w], "asset.updated", at)
		name := fmt.Sprintf("%s A-%04d", assetNames[g.rnd.IntN(len(assetNames))], g.rnd.IntN(5000))
		e.Resource = activity.Resource{Type: "asset", ID: fmt.Sprintf("asset-%d-%d", w, g.rnd.IntN(5000)), Name: name}
		from, to := statuses[g.rnd.IntN(len(statuses))], statuses[g.rnd.IntN(len(statuses))]
		e.Changes = []activity.Change{{Field: "status", Before: from, After: to}}
	case k < 60:
		e = activity.NewEvent(g.workspaces[w], "license.key_viewed", at)
		e.Resource = activity.Resource{Type: "license", ID: fmt.Sprintf("license-%d-%d", w, g.rnd.IntN(50)), Name: licenses[g.rnd.IntN(len(licenses))]}
	case k < 90:
		e = activity.NewEvent(g.workspaces[w], "auth.login", at)
		e.Resource = activity.Resource{Type: "user", ID: actor.ID, Name: actor.Name}
	default:
		e = activity.NewEvent(g.workspaces[w], "auth.login_failed", at)
		e.Outcome = activity.OutcomeFailure
		e.Resource = activity.Resource{Type: "user", ID: actor.ID, Name: actor.Name}
		e.Details = map[string]any{"reason": "wrong_password"}
	}
	e.Actor = actor
	e.Context = activity.Context{
		IP:        fmt.Sprintf("198.51.100.%d", 1+g.rnd.IntN(250)),
		UserAgent: agents[g.rnd.IntN(len(agents))],
		SessionID: fmt.Sprintf("session-%d", g.rnd.IntN(100000)),
		RequestID: activity.NewEventID(),
		Method:    activity.MethodWeb,
		TimeZone:  "Europe/Berlin",
	}
	return e
}
