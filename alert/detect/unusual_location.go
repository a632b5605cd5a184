package detect

import (
	"fmt"
	"net/netip"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// planUnusualLocation records the country and network of a user's
// successful event, from its context or, failing that, its address, and
// raises an alert when either was not seen for that user before. The
// user's first located event is the baseline and raises nothing.
func (d *Detector) planUnusualLocation(p *plan, s alert.DetectorSettings, e *activity.Event) {
	if !isUser(e.Actor) || e.Outcome != activity.OutcomeSuccess {
		return
	}
	loc := d.locate(e)
	var places []string
	if loc.Country != "" {
		places = append(places, "country:"+strings.ToUpper(loc.Country))
	}
	if loc.Network != "" {
		places = append(places, "network:"+loc.Network)
	}
	if len(places) == 0 {
		return
	}
	actor := p.actor(e)
	subject, subjectKey := actor.subject, actor.subjectKey
	check := LocationCheck{
		Key:     actor.key(d, e.WorkspaceID, alert.DetectUnusualLocation),
		EventID: e.ID,
		Places:  places,
		Keep:    d.Config.History,
	}
	p.location(check, func(r LocationResult) []candidate {
		if r.Baseline || len(r.New) == 0 {
			return nil
		}
		var what []string
		for _, place := range r.New {
			switch kind, name, _ := strings.Cut(place, ":"); kind {
			case "country":
				if loc.City != "" {
					name += " (" + loc.City + ")"
				}
				what = append(what, "a new country, "+name)
			case "network":
				what = append(what, "a new network, "+name)
			}
		}
		summary := fmt.Sprintf("%s acted from %s", who(e.Actor), strings.Join(what, ", and "))
		if e.Context.IP != "" {
			summary += ", at address " + e.Context.IP
		}
		a := newAlert(*e, alert.DetectUnusualLocation, subject, subjectKey, s.Severity, summary)
		if loc.Country != "" {
			a.Details["country"] = loc.Country
		}
		if loc.City != "" {
			a.Details["city"] = loc.City
		}
		if loc.Network != "" {
			a.Details["network"] = loc.Network
		}
		a.Details["new_places"] = r.New
		return []candidate{{alert: a, claim: d.claimKey(e.WorkspaceID, alert.DetectUnusualLocation, subjectKey), cooldown: d.cooldown(alert.DetectUnusualLocation)}}
	})
}

// locate returns where e came from: its context's location, or where the
// locator places its address.
func (d *Detector) locate(e *activity.Event) activity.Location {
	if e.Context.Location != nil {
		return *e.Context.Location
	}
	if d.Locator == nil || e.Context.IP == "" {
		return activity.Location{}
	}
	ip, err := netip.ParseAddr(e.Context.IP)
	if err != nil {
		return activity.Location{}
	}
	loc, _ := d.Locator.Locate(ip)
	return loc
}
