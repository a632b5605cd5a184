package postgres

import (
	"errors"

	"github.com/google/uuid"

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
	return uuid.Validate(s) == nil
}
