package app

import (
	"github.com/fluxera/activity/alert/detect"
	detectredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/domain/postgres"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
)

// detector wires the detection engine: the detector's consumer group,
// Redis for what the detectors remember, and PostgreSQL for workspaces'
// configurations and the alerts raised, unless m.AlertSink or
// m.AlertConfigs stand in for them. Events it can never check go to the
// detector's dead-letter topic.
func (m *Main) detector() (*detect.Detector, func(), error) {
	sink, configs := m.AlertSink, m.AlertConfigs
	if sink == nil || configs == nil {
		db, err := m.Database()
		if err != nil {
			return nil, nil, err
		}
		if sink == nil {
			sink = postgres.NewAlertSink(db)
		}
		if configs == nil {
			configs = postgres.NewAlertConfigs(db, m.Config.AlertConfigTTL)
		}
	}
	locator, err := m.locator()
	if err != nil {
		return nil, nil, err
	}
	consumer := m.Config.Consumer
	consumer.GroupID = m.Config.DetectGroup
	src := ingestkafka.NewSource(consumer)
	letters := consumer
	letters.DeadLetterTopic = m.Config.DetectDeadLetterTopic
	dlq := ingestkafka.NewDeadLetters(letters)
	rdb := detectredis.NewClient(m.Config.Redis)
	return &detect.Detector{
		Config:      m.Config.Detect,
		Source:      src,
		Store:       detectredis.NewStore(rdb),
		Configs:     configs,
		Sink:        sink,
		Locator:     locator,
		Log:         m.Log.WithField("component", "detect"),
		Prefix:      m.Config.RedisPrefix,
		Metrics:     detect.NewMetrics(m.Registry),
		DeadLetters: dlq,
	}, func() { src.Close(); dlq.Close(); rdb.Close() }, nil
}
