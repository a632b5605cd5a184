package activity

import (
	"strconv"
	"time"
)

// IndexVersion is the layout version of the search documents and their
// mapping. A new version goes to new indices, named with it, under the same
// alias; older indices stay readable as they are.
const IndexVersion = 3

// IndexAlias is the read alias over every monthly activity index of a prefix.
func IndexAlias(prefix string) string { return prefix + "-activity" }

// IndexPattern matches every monthly activity index of a prefix.
func IndexPattern(prefix string) string { return prefix + "-activity-*" }

// IndexName is the monthly index an event belongs to, chosen by the event's
// own time so that a replay always lands in the same index: for example
// fluxera-activity-v3-2026.11 (the first layout had no version in its names;
// version 3 added each entry's chain link).
func IndexName(prefix string, occurredAt time.Time) string {
	return prefix + "-activity-v" + strconv.Itoa(IndexVersion) + "-" + occurredAt.UTC().Format("2006.01")
}

// Restored marks an entry indexed back into the searchable log from the
// archive by an owner's restore: which restore put it there and until when
// it stays searchable. The archive keeps the entry itself; the mark is
// never part of the event, its chain link or its archive copy.
type Restored struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
}
