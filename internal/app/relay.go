package app

import (
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
)

// Chain returns the workspaces' hash chains in the domain database, their
// keys sealed by the key box.
func (m *Main) Chain() (*postgres.Chain, error) {
	db, err := m.Database()
	if err != nil {
		return nil, err
	}
	box, err := m.KeyBox()
	if err != nil {
		return nil, err
	}
	return postgres.NewChain(db, box, m.Config.Chain)
}

// relay wires the outbox relay: the outbox in PostgreSQL, the publisher to
// the activity topic.
func (m *Main) relay() (*relay.Relay, func(), error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	chain, err := m.Chain()
	if err != nil {
		return nil, nil, err
	}
	outbox := postgres.NewOutbox(db)
	outbox.Chain = chain
	pub := domainkafka.NewPublisher(m.Config.Publisher)
	return &relay.Relay{
		Config:    m.Config.Relay,
		Outbox:    outbox,
		Publisher: pub,
		Metrics:   relay.NewMetrics(m.Registry),
		Log:       m.Log.WithField("component", "relay"),
	}, func() { pub.Close() }, nil
}
