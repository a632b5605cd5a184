package app

import (
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
)

// relay wires the outbox relay: the outbox in PostgreSQL, the publisher to
// the activity topic.
func (m *Main) relay() (*relay.Relay, func(), error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	pub := domainkafka.NewPublisher(m.Config.Publisher)
	return &relay.Relay{
		Config:    m.Config.Relay,
		Outbox:    postgres.NewOutbox(db),
		Publisher: pub,
		Metrics:   relay.NewMetrics(m.Registry),
		Log:       m.Log.WithField("component", "relay"),
	}, func() { pub.Close() }, nil
}
