package detect

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/internal/retry"
)

// DeadLetterTopic receives the events the detector can never check, with
// the reason in a header.
const DeadLetterTopic = "fluxera.activity.detect.dlq"

// pending is one event of a batch and the message it came in.
type pending struct {
	msg   ingest.Message
	event activity.Event
}

// permanent reports whether err fails the same way however often the
// batch is checked again: a coded error meant for users (invalid, not
// found, conflict, forbidden) from a workspace's configuration, the store
// or the sink, or an event no detector can plan. Anything else, an
// unreachable Redis or PostgreSQL above all, passes.
func permanent(err error) bool {
	switch activity.ErrorCode(err) {
	case activity.EINVALID, activity.ENOTFOUND, activity.ECONFLICT, activity.EFORBIDDEN:
		return true
	}
	return false
}

// check checks a batch and returns its events that can never be checked,
// each with the reason. When the batch as a whole fails for good it
// checks its events again one at a time, in order, to find which: checking
// an event again changes nothing, as the store counts each event once and
// the sink stores each alert once. It returns an error, and no letters,
// when a passing failure leaves the batch to be checked again.
func (d *Detector) check(ctx context.Context, batch []pending) ([]ingest.DeadLetter, error) {
	events := make([]activity.Event, len(batch))
	for i, p := range batch {
		events[i] = p.event
	}
	err := d.Detect(ctx, events)
	if err == nil || !permanent(err) {
		return nil, err
	}
	var dead []ingest.DeadLetter
	for _, p := range batch {
		err := d.Detect(ctx, []activity.Event{p.event})
		switch {
		case err == nil:
		case permanent(err):
			dead = append(dead, ingest.DeadLetter{Message: p.msg, Reason: err.Error()})
		default:
			return nil, err
		}
	}
	return dead, nil
}

// setAside sends dead to the dead-letter topic, retrying until it is
// written; without one it logs each letter instead. It returns false when
// ctx ended first.
func (d *Detector) setAside(ctx context.Context, dead []ingest.DeadLetter) bool {
	if len(dead) == 0 {
		return true
	}
	if d.DeadLetters == nil {
		for _, l := range dead {
			d.Log.WithField("topic", l.Message.Topic).WithField("partition", l.Message.Partition).WithField("offset", l.Message.Offset).
				WithField("reason", l.Reason).Error("An event the detector cannot check was skipped.")
		}
		return true
	}
	tries := retry.Backoff{Initial: 100 * time.Millisecond, Max: d.Config.MaxBackoff, Jitter: retry.DefaultJitter}.Attempts()
	for {
		err := d.DeadLetters.Send(ctx, dead)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return false
		}
		d.Log.WithError(err).Warn("Dead-letter write failed; retrying.")
		if !retry.Sleep(ctx, tries.Failed()) {
			return false
		}
	}
	if d.Metrics != nil {
		d.Metrics.DeadLettered.Add(float64(len(dead)))
	}
	d.Log.WithField("count", len(dead)).WithField("first_reason", dead[0].Reason).Warn("Events the detector cannot check sent to its dead-letter topic.")
	return true
}

// planSafely plans the checks of one event, and returns EINVALID instead
// of failing the whole process when a detector cannot plan it.
func (d *Detector) planSafely(p *plan, ws *workspace, e *activity.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = activity.Errorf(activity.EINVALID, "", "event %s cannot be checked: %v", e.ID, r)
		}
	}()
	d.plan(p, ws, e)
	return nil
}
