package app

import (
	"github.com/fluxera/activity/domain/postgres"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/privacy"
)

// Privacy returns the anonymization of people: the domain database for
// who they are, their reports and the record, the search index's write
// path for their entries, and pseudonyms keyed from the secret key.
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
	return &privacy.Service{
		People: postgres.NewPrivacyStore(db),
		Index:  ingestos.NewAnonymizer(osc, m.Config.OpenSearch.IndexPrefix),
		Secret: secret,
	}, nil
}
