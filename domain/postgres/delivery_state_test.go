package postgres_test

import (
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// TestEmailWithoutSMTPShowsAsNotConfigured records the attempt of an
// alert's email sent with no SMTP server configured, as the notifier
// settles it: the alert's detail shows the email not configured, not
// failed, and it is never claimed again.
func TestEmailWithoutSMTPShowsAsNotConfigured(t *testing.T) {
	s := mustAlertStore(t)
	ctx := t.Context()
	q := postgres.NewAlertQueue(s.db, postgrestest.MustKeyBox(t))
	t.Cleanup(func() { q.Close() })
	rule, err := postgres.NewAlertRuleService(s.db, nil).CreateAlertRule(ctx, s.owner, alert.AlertRuleCreate{
		Name: ptr("Deletions"), ActivityTypes: &[]string{"asset.deleted"},
		Channels: &[]alert.Channel{{Type: alert.ChannelEmail, To: []string{"security@example.com"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	raised := postgrestest.MustRaise(t, s.db, postgrestest.Alert(s.owner.WorkspaceID, rule.ID, now, "high"))
	claimed, err := q.Claim(ctx, 10, now.Add(time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range claimed {
		if d.Type != alert.ChannelEmail {
			continue
		}
		a := alert.Attempt{DeliveryID: d.ID, At: now.Add(time.Second)}
		_, sendErr := (&notify.Email{}).Send(ctx, d)
		notify.Settle(&a, sendErr, 1, 8, notify.Backoff{}, now)
		if err := q.Record(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	detail, err := postgres.NewAlertService(s.db).FindAlert(ctx, s.owner, raised.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range detail.Deliveries {
		if d.Type == alert.ChannelEmail && (d.State != alert.DeliveryNotConfigured || d.LastError != notify.ErrNoSMTP.Error()) {
			t.Errorf("email delivery: state %q, error %q", d.State, d.LastError)
		}
	}
	again, err := q.Claim(ctx, 10, now.Add(time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range again {
		if d.Type == alert.ChannelEmail {
			t.Error("the email without an SMTP server was claimed again")
		}
	}
}
