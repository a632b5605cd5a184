package deliver

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what the deliverer does.
type Metrics struct {
	Queued   prometheus.Counter
	Attempts *prometheus.CounterVec
	Paused   prometheus.Counter
	Replayed prometheus.Counter
}

// NewMetrics registers the deliverer's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Queued:   prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_webhook_queued_total", Help: "Deliveries of activity webhooks queued from the activity topic."}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fluxera_webhook_attempts_total", Help: "Attempts of activity webhook deliveries, by result (delivered, retry)."}, []string{"result"}),
		Paused:   prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_webhook_pauses_total", Help: "Activity webhooks paused after too many failures in a row."}),
		Replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_webhook_replayed_total", Help: "Deliveries of activity webhooks queued by replays."}),
	}
	reg.MustRegister(m.Queued, m.Attempts, m.Paused, m.Replayed)
	return m
}
