package postgres

import (
	"errors"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/uptrace/bun/driver/pgdriver"
)

// isUniqueViolation reports whether err is PostgreSQL's unique_violation
// on the named constraint or index.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Field('C') == "23505" && pgErr.Field('n') == constraint
}

// validID reports whether s is a UUID; any other id cannot name a row and
// is answered as not found.
func validID(s string) bool {
	return activity.ValidUUID(s)
}

// refusedData reports whether PostgreSQL refused err's statement for the
// data it carries (class 22, data exception) or for a constraint (class
// 23, integrity violation): the same statement would be refused again
// however often it is retried.
func refusedData(err error) bool {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return false
	}
	code := pgErr.Field('C')
	return strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23")
}
