package app

import (
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	"github.com/fluxera/activity/ocsf/feed"
	ocsfkafka "github.com/fluxera/activity/ocsf/kafka"
)

// ocsfFeed wires the OCSF feed: its own consumer group on the activity
// topic and a writer to the OCSF topic.
func (m *Main) ocsfFeed() (*feed.Feed, func(), error) {
	consumer := m.Config.Consumer
	consumer.GroupID = m.Config.OCSF.GroupID
	src := ingestkafka.NewSource(consumer)
	sink := ocsfkafka.NewSink(m.Config.Publisher.Brokers, m.Config.OCSF.Topic)
	return &feed.Feed{
		Config:  m.Config.OCSF,
		Source:  src,
		Sink:    sink,
		Log:     m.Log.WithField("component", "ocsf"),
		Metrics: feed.NewMetrics(m.Registry),
	}, func() { src.Close(); sink.Close() }, nil
}
