package domain

import (
	"context"

	activity "github.com/fluxera/activity"
)

// ActionLogViewed is recorded when someone searches or opens the activity
// log: once per session (or API token) and filter within the debounce
// period, so that browsing its pages does not flood the log.
const ActionLogViewed = "system.log_viewed"

// LogView is one search or opening of the activity log.
type LogView struct {
	// Where is the route or console page it was read through, such as
	// "GET /api/v1/activity".
	Where string
	// Parameters are the filters as given, the values of a repeated one
	// joined by commas; the page size and cursor are left out.
	Parameters map[string]string
	// Fingerprint names what the filter selects, however it was spelled
	// (searchapi.EventFilter.Fingerprint): views with the same one are the
	// same search.
	Fingerprint string
}

// LogViewRecorder records the views of the activity log.
type LogViewRecorder interface {
	// RecordLogView records v by p as ActionLogViewed unless the same
	// session (or API token, or user without either) recorded a view with
	// the same fingerprint within the debounce period, and reports
	// whether it recorded one. It returns EFORBIDDEN when p may not read
	// the log.
	RecordLogView(ctx context.Context, p activity.Principal, v LogView) (bool, error)
}
