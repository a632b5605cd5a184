package app

import (
	"context"
	"time"

	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/ingest/enrich"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/retry"
	"github.com/fluxera/activity/searchapi/retention"
)

// Retention wires the retention job: the search index read through the
// search API's scanner and purged by its finder, owners' restores indexed
// back through the indexer's write path, the archive store, and the
// lease, holds, restores and records in PostgreSQL.
func (m *Main) Retention() (*retention.Job, error) {
	db, err := m.Database()
	if err != nil {
		return nil, err
	}
	finder, err := m.finder()
	if err != nil {
		return nil, err
	}
	archive, err := m.Archive()
	if err != nil {
		return nil, err
	}
	osc, err := m.search()
	if err != nil {
		return nil, err
	}
	locator, err := m.locator()
	if err != nil {
		return nil, err
	}
	return &retention.Job{
		Store:    postgres.NewRetentionStore(db),
		Scanner:  finder,
		Index:    finder,
		Archive:  archive,
		Restores: postgres.NewRestoreStore(db),
		Locks:    postgres.NewArchiveLocks(db),
		Reindex:  &ingestos.Restorer{Client: osc, Prefix: m.Config.OpenSearch.IndexPrefix, Enricher: enrich.Enricher{Locator: locator}},
		Lease:    m.Config.Retention.Lease,
		Log:      m.Log.WithField("component", "retention"),
		Metrics:  retention.NewMetrics(m.Registry),
	}, nil
}

// runRetention runs the retention job at start and then every interval,
// until ctx ends; between runs, every restoreEvery, it handles the
// restores owners asked for or ended, so that those wait seconds, not a
// whole interval.
func runRetention(ctx context.Context, j *retention.Job, interval, restoreEvery time.Duration) error {
	next := time.Now()
	for {
		if !time.Now().Before(next) {
			if _, err := j.Run(ctx); err != nil && ctx.Err() == nil {
				j.Log.WithError(err).Warn("The retention run did not finish; trying again at the next run.")
			}
			next = time.Now().Add(interval)
		} else if _, err := j.RunRestores(ctx); err != nil && ctx.Err() == nil {
			j.Log.WithError(err).Warn("Handling the restores of archived periods failed; trying again shortly.")
		}
		if !retry.Sleep(ctx, min(restoreEvery, time.Until(next))) {
			return nil
		}
	}
}
