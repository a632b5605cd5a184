package app

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/integration/deliver"
	integrationkafka "github.com/fluxera/activity/integration/kafka"
	"github.com/fluxera/activity/integration/stream"
)

// deliverer wires the activity webhooks' deliverer: its consumer group on
// the activity topic, the queues in PostgreSQL and requests through the
// address policy alert webhooks use.
func (m *Main) deliverer() (*deliver.Deliverer, func(), error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	box, err := m.KeyBox()
	if err != nil {
		return nil, nil, err
	}
	p := m.Config.Publisher
	src := integrationkafka.NewSource(p.Brokers, p.Topic, m.Config.Deliver.Group)
	return &deliver.Deliverer{
		Config:  m.Config.Deliver,
		Source:  src,
		Log:     integrationkafka.Log{Brokers: p.Brokers, Topic: p.Topic},
		Queue:   postgres.NewWebhookQueue(db, box),
		Sender:  &notify.Webhook{Client: m.Config.Targets.HTTPClient(notify.DefaultHTTPTimeout)},
		Logger:  m.Log.WithField("component", "deliver"),
		Metrics: deliver.NewMetrics(m.Registry),
	}, func() { src.Close() }, nil
}

// activityStreams returns the API process's live activity streams, their
// ids signed with a key derived from the secret key, which every instance
// shares, and their number per workspace held in PostgreSQL across every
// instance.
func (m *Main) activityStreams() (*stream.Service, error) {
	if m.streams != nil {
		return m.streams, nil
	}
	secret, err := m.secretKey()
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("fluxera activity stream ids"))
	db, err := m.Database()
	if err != nil {
		return nil, err
	}
	p := m.Config.Publisher
	m.streams = stream.New(m.Config.Stream, integrationkafka.Log{Brokers: p.Brokers, Topic: p.Topic}, postgres.NewStreamSlots(db),
		mac.Sum(nil), m.Log.WithField("component", "stream"), m.Registry)
	return m.streams, nil
}
