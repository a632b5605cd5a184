package app

import (
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/notify"
	notifykafka "github.com/fluxera/activity/alert/notify/kafka"
	"github.com/fluxera/activity/domain/postgres"
)

// notifier sends the deliveries of stored alerts: webhooks and chat
// messages through the address policy, emails through the SMTP server,
// and every alert to the alert topic.
func (m *Main) notifier() (*notify.Worker, func(), error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	box, err := m.KeyBox()
	if err != nil {
		return nil, nil, err
	}
	queue := postgres.NewAlertQueue(db, box)
	topic := notifykafka.NewTopicSender(m.Config.Publisher.Brokers, m.Config.AlertTopic)
	client := m.Config.Targets.HTTPClient(notify.DefaultHTTPTimeout)
	return &notify.Worker{
		Config: m.Config.Notify,
		Queue:  queue,
		Senders: map[string]notify.Sender{
			alert.ChannelWebhook: &notify.Webhook{Client: client},
			alert.ChannelChat:    &notify.Chat{Client: client},
			alert.ChannelEmail:   &notify.Email{Config: m.Config.SMTP},
			alert.TargetTopic:    topic,
		},
		Log:     m.Log.WithField("component", "notify"),
		Metrics: notify.NewMetrics(m.Registry),
	}, func() { topic.Close(); queue.Close() }, nil
}
