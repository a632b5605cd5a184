package domain

import (
	"context"

	activity "github.com/fluxera/activity"
)

// Choice is a user, an asset or a license as a filter offers it: its id,
// its name and, for a user, the email.
type Choice struct {
	ID    string
	Name  string
	Email string
}

// FilterChoices are what a listing's filters offer by name: every member
// of the workspace, and its first assets and licenses by name.
type FilterChoices struct {
	Users, Assets, Licenses []Choice
	// Key names this read of the choices within the process, when not
	// empty: reads with the same key found the same choices, so that what
	// is made of them may be kept under it.
	Key string
}

// ChoiceLister lists the users, assets and licenses a listing's filters
// offer.
type ChoiceLister interface {
	// ListChoices returns the workspace's members (deleted ones left out)
	// and at most max of its assets and of its licenses, each ordered by
	// name, in one read. It returns EFORBIDDEN when p may not see the
	// inventory.
	ListChoices(ctx context.Context, p activity.Principal, max int) (FilterChoices, error)
}
