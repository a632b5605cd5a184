package detect

import (
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// threshold is a count of events in a sliding window that raises an alert
// once it reaches Threshold, at most once per cooldown per claim key.
type threshold struct {
	key       string
	window    time.Duration
	threshold int
	claim     string
	cooldown  time.Duration
	// alert makes the alert from the window's answer; Count, Window and
	// EventIDs are filled in after.
	alert func(WindowResult) alert.Alert
}

// count adds e to the window of t and raises t's alert once the window
// holds t.threshold events.
func (d *Detector) count(p *plan, e *activity.Event, t threshold) {
	c := WindowCheck{Key: t.key, EventID: e.ID, At: e.OccurredAt, Window: t.window, Keep: 2 * t.window, Last: MaxAlertEvents, ListFrom: int64(t.threshold)}
	p.window(c, func(r WindowResult) []candidate {
		if r.Count < int64(t.threshold) {
			return nil
		}
		a := t.alert(r)
		a.Count = r.Count
		a.Window = t.window.String()
		a.EventIDs = windowEvents(r.EventIDs, e.ID)
		return []candidate{{alert: a, claim: t.claim, cooldown: t.cooldown}}
	})
}
