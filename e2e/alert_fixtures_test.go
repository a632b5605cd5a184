package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// mustAlert returns an open alert that rule raised in the workspace of
// the user.
func mustAlert(tb testing.TB, db *postgres.DB, userID, ruleID string) alert.Alert {
	tb.Helper()
	var ws string
	if err := db.NewSelect().Table("users").Column("workspace_id").Where("id = ?", userID).Scan(context.Background(), &ws); err != nil {
		tb.Fatal(err)
	}
	return postgrestest.Alert(ws, ruleID, time.Now().UTC().Truncate(time.Millisecond), "medium")
}

func ptr[T any](v T) *T { return &v }
