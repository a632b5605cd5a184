package activity

import "time"

// IndexAlias is the read alias over every monthly activity index of a prefix.
func IndexAlias(prefix string) string { return prefix + "-activity" }

// IndexPattern matches every monthly activity index of a prefix.
func IndexPattern(prefix string) string { return prefix + "-activity-*" }

// IndexName is the monthly index an event belongs to, chosen by the event's
// own time so that a replay always lands in the same index.
func IndexName(prefix string, occurredAt time.Time) string {
	return prefix + "-activity-" + occurredAt.UTC().Format("2006.01")
}
