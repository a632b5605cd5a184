package app

import (
	"fmt"
	"os"

	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ingest/enrich"
	"github.com/fluxera/activity/ingest/enrich/maxmind"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
)

func (m *Main) indexer() (*ingest.Indexer, func(), error) {
	osc, err := m.search()
	if err != nil {
		return nil, nil, err
	}
	locator, err := m.locator()
	if err != nil {
		return nil, nil, err
	}
	src := ingestkafka.NewSource(m.Config.Consumer)
	dlq := ingestkafka.NewDeadLetters(m.Config.Consumer)
	return &ingest.Indexer{
		Config:      m.Config.Ingest,
		Source:      src,
		Sink:        ingestos.NewSink(osc),
		DeadLetters: dlq,
		Metrics:     ingest.NewMetrics(m.Registry),
		Enricher:    enrich.Enricher{Locator: locator},
		Log:         m.Log.WithField("component", "ingest"),
	}, func() { src.Close(); dlq.Close() }, nil
}

// locator is what addresses are located with: the MaxMind databases when
// configured (opened once per process, and watched for changes by Run),
// else the configured CSV table, or the bundled example table.
func (m *Main) locator() (enrich.Locator, error) {
	if m.Config.GeoIP.CityFile != "" || m.Config.GeoIP.ASNFile != "" {
		if m.geo == nil {
			l, err := maxmind.Open(m.Config.GeoIP)
			if err != nil {
				return nil, fmt.Errorf("FLUXERA_GEOIP_CITY_FILE, FLUXERA_GEOIP_ASN_FILE: %w", err)
			}
			m.geo = l
		}
		return m.geo, nil
	}
	if m.Config.GeoIPFile == "" {
		return enrich.Bundled(), nil
	}
	f, err := os.Open(m.Config.GeoIPFile)
	if err != nil {
		return nil, fmt.Errorf("FLUXERA_GEOIP_FILE: %w", err)
	}
	defer f.Close()
	t, err := enrich.LoadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("FLUXERA_GEOIP_FILE %s: %w", m.Config.GeoIPFile, err)
	}
	return t, nil
}
