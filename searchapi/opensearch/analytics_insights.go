package opensearch

import (
	"context"
	"errors"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// The insights read events one by one, in the order they need, through a
// composite aggregation whose keys end with the event's time and id: one
// bucket is one event. The workflows read them by session, the task times
// by resource; both keep only the current session's or resource's state
// and their counts in memory, and stop after MaxInsightEvents events.

// eventBucket is one event of an insight's composite aggregation.
type eventBucket struct {
	Key struct {
		Session  string  `json:"session"`
		Resource string  `json:"resource"`
		At       float64 `json:"at"`
		Action   string  `json:"action"`
	} `json:"key"`
}

// eventSources keys a composite aggregation by group (a field), then by
// the event's time, id and action, so that each bucket is one event and
// each group's events come together in time order.
func eventSources(name, field string) []any {
	return []any{
		map[string]any{name: map[string]any{"terms": map[string]any{"field": field}}},
		map[string]any{"at": map[string]any{"terms": map[string]any{"field": "occurred_at"}}},
		map[string]any{"id": map[string]any{"terms": map[string]any{"field": "id"}}},
		map[string]any{"action": map[string]any{"terms": map[string]any{"field": "action"}}},
	}
}

// inWorkflows narrows the workflows to users' actions in sessions, sign-ins
// and sign-outs aside.
var inWorkflows = []any{
	term("actor.type", activity.ActorUser),
	map[string]any{"exists": map[string]any{"field": "context.session_id"}},
	map[string]any{"bool": map[string]any{"must_not": []any{term("category", activity.CategoryAuth)}}},
}

// WorkflowsRequest returns the search of the workflows' page after the key
// after (nil for the first), as Workflows sends it, so that a benchmark
// can send the very same requests straight to OpenSearch. It returns the
// errors Workflows returns for a missing principal and a bad filter.
func (f *Finder) WorkflowsRequest(p activity.Principal, filter searchapi.AnalyticsFilter, after map[string]any) (Request, error) {
	if err := filter.Validate(); err != nil {
		return Request{}, err
	}
	body, err := compositeBody(p, &filter, eventSources("session", "context.session_id"), nil, after, inWorkflows...)
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// Workflows counts the sequences of two and three actions users take one
// after the other within their sessions, and returns the filter.Limit most
// frequent of each.
func (f *Finder) Workflows(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Workflows, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.Workflows{}, err
	}
	counter := searchapi.NewSequenceCounter()
	sources := eventSources("session", "context.session_id")
	complete, err := pageThrough(ctx, f, func(after map[string]any) (map[string]any, error) {
		return compositeBody(p, &filter, sources, nil, after, inWorkflows...)
	}, searchapi.MaxInsightEvents, func(b eventBucket) {
		counter.Add(searchapi.SessionAction{Session: b.Key.Session, Action: b.Key.Action})
	})
	if err != nil {
		return searchapi.Workflows{}, err
	}
	w := counter.Workflows(filter.Period, filter.Limit)
	w.Complete = complete
	return w, nil
}

// inTasks narrows the task times to the actions that start or end a task.
func inTasks() []any {
	return []any{
		map[string]any{"terms": map[string]any{"action": searchapi.TaskActions()}},
		map[string]any{"exists": map[string]any{"field": "resource.id"}},
	}
}

// TaskTimesRequest returns the search of the task times' page after the
// key after (nil for the first), as TaskTimes sends it, so that a
// benchmark can send the very same requests straight to OpenSearch. It
// returns the errors TaskTimes returns for a missing principal and a bad
// filter.
func (f *Finder) TaskTimesRequest(p activity.Principal, filter searchapi.AnalyticsFilter, after map[string]any) (Request, error) {
	if err := filter.Validate(); err != nil {
		return Request{}, err
	}
	body, err := compositeBody(p, &filter, eventSources("resource", "resource.id"), nil, after, inTasks()...)
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// TaskTimes measures how long each of searchapi.Tasks took from its start
// to its end on the same resource, both within the period.
func (f *Finder) TaskTimes(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.TaskTimes, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.TaskTimes{}, err
	}
	clock := searchapi.NewTaskClock()
	sources, extra := eventSources("resource", "resource.id"), inTasks()
	complete, err := pageThrough(ctx, f, func(after map[string]any) (map[string]any, error) {
		return compositeBody(p, &filter, sources, nil, after, extra...)
	}, searchapi.MaxInsightEvents, func(b eventBucket) {
		clock.Add(searchapi.ResourceAction{Resource: b.Key.Resource, Action: b.Key.Action, At: time.UnixMilli(int64(b.Key.At))})
	})
	if err != nil {
		return searchapi.TaskTimes{}, err
	}
	t := clock.Times(filter.Period)
	renewals := searchapi.NewRenewalClock(filter.Period.Location)
	scan := searchapi.EventFilter{
		Actions: []string{"license.renewed"},
		From:    filter.Period.From.Format(time.RFC3339Nano), To: filter.Period.To.Format(time.RFC3339Nano),
	}
	read := 0
	_, err = f.ScanEvents(ctx, p, scan, func(e searchapi.Entry) error {
		if read == searchapi.MaxInsightEvents {
			return errEnoughRead
		}
		read++
		renewals.Add(e.Event)
		return nil
	})
	switch {
	case errors.Is(err, errEnoughRead):
		complete = false
	case err != nil:
		return searchapi.TaskTimes{}, err
	}
	t.Renewals = renewals.Renewals()
	t.Complete = complete
	return t, nil
}

// errEnoughRead stops a scan once MaxInsightEvents were read.
var errEnoughRead = errors.New("enough events read")

// Assignments reads every assignment of the period, newest first, through
// the scan the exports use, and counts them by who made them, to whom and
// when.
func (f *Finder) Assignments(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.Assignments, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.Assignments{}, err
	}
	counter := searchapi.NewAssignmentCounter(filter.Period)
	scan := searchapi.EventFilter{
		Actions: searchapi.AssignmentActions,
		From:    filter.Period.From.Format(time.RFC3339Nano), To: filter.Period.To.Format(time.RFC3339Nano),
	}
	read := 0
	_, err := f.ScanEvents(ctx, p, scan, func(e searchapi.Entry) error {
		if read == searchapi.MaxInsightEvents {
			return errEnoughRead
		}
		read++
		counter.Add(e.Event)
		return nil
	})
	complete := true
	switch {
	case errors.Is(err, errEnoughRead):
		complete = false
	case err != nil:
		return searchapi.Assignments{}, err
	}
	a := counter.Assignments(filter.Limit)
	a.Complete = complete
	return a, nil
}
