package detect

import (
	"fmt"
	"time"

	activity "github.com/fluxera/activity"
)

// who names an actor for people: their name, else their email, else id.
func who(a activity.Actor) string {
	switch {
	case a.Name != "":
		return a.Name
	case a.Email != "":
		return a.Email
	case a.ID != "":
		return a.ID
	}
	return "the " + a.Type
}

// span says a duration in words: "10 minutes", "1 hour", "90 minutes".
func span(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return count(int64(d/time.Hour), "hour", "hours")
	case d >= time.Minute && d%time.Minute == 0:
		return count(int64(d/time.Minute), "minute", "minutes")
	}
	return d.String()
}

// count says "1 failed login", "3 failed logins".
func count(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
