package app

import (
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/report/schedule"
)

// scheduler generates the custom reports whose schedules are due, keeps
// their files in the archive store, and sends them by email through the
// notifier's SMTP server and by webhook through the address policy,
// signed with the workspace's signing secret.
func (m *Main) scheduler() (*schedule.Scheduler, error) {
	db, err := m.Database()
	if err != nil {
		return nil, err
	}
	finder, err := m.finder()
	if err != nil {
		return nil, err
	}
	box, err := m.KeyBox()
	if err != nil {
		return nil, err
	}
	archive, err := m.Archive()
	if err != nil {
		return nil, err
	}
	store := postgres.NewReportDefinitionStore(db)
	return &schedule.Scheduler{
		Config:     m.Config.Schedule,
		Schedules:  store,
		Generator:  report.NewDefinitions(store, m.Config.Targets, finder, archive),
		Deliveries: postgres.NewReportDeliveryQueue(db, box),
		Archive:    archive,
		Email:      &notify.Email{Config: m.Config.SMTP},
		Webhook:    &notify.Webhook{Client: m.Config.Targets.HTTPClient(notify.DefaultHTTPTimeout)},
		Log:        m.Log.WithField("component", "schedule"),
		Metrics:    schedule.NewMetrics(m.Registry),
	}, nil
}
