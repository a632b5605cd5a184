package app

import (
	"time"

	"github.com/fluxera/activity/domain/postgres"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/privacy"
	"github.com/fluxera/activity/searchapi/retention"
)

// Privacy returns the anonymization of people: the domain database for
// who they are, their reports and the record, the search index's write
// path for their entries, the archive store for their archived entries
// and files, and pseudonyms keyed from the secret key.
func (m *Main) Privacy() (*privacy.Service, error) {
	db, err := m.Database()
	if err != nil {
		return nil, err
	}
	osc, err := m.search()
	if err != nil {
		return nil, err
	}
	secret, err := m.secretKey()
	if err != nil {
		return nil, err
	}
	archive, err := m.Archive()
	if err != nil {
		return nil, err
	}
	return &privacy.Service{
		People:  postgres.NewPrivacyStore(db),
		Index:   ingestos.NewAnonymizer(osc, m.Config.OpenSearch.IndexPrefix),
		Archive: retention.ArchiveRewriter{Archive: archive, Locks: postgres.NewArchiveLocks(db)},
		Secret:  secret,
		CatchUp: m.Config.AnonymizeWait,
	}, nil
}

// eraser anonymizes deleted members' entries when they are due; it runs in
// the schedule role, with the scheduler's poll interval and lease.
func (m *Main) eraser() (*privacy.Eraser, error) {
	svc, err := m.Privacy()
	if err != nil {
		return nil, err
	}
	db, err := m.Database()
	if err != nil {
		return nil, err
	}
	return &privacy.Eraser{
		Service: svc, Erasures: postgres.NewPrivacyStore(db), Now: time.Now,
		Interval: m.Config.Schedule.PollInterval, Lease: m.Config.Schedule.Lease,
		Log: m.Log.WithField("component", "erase"),
	}, nil
}

// Eraser returns the erasure job with the given clock, for tests that
// move time.
func (m *Main) Eraser(now func() time.Time) (*privacy.Eraser, error) {
	e, err := m.eraser()
	if err != nil {
		return nil, err
	}
	e.Now = now
	return e, nil
}
