package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the indexer's Prometheus metrics.
type Metrics struct {
	Consumed     prometheus.Counter
	Indexed      prometheus.Counter
	Retried      prometheus.Counter
	DeadLettered prometheus.Counter
	BatchSize    prometheus.Histogram
	BulkLatency  prometheus.Histogram
}

// NewMetrics registers the indexer's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed:     prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_ingest_consumed_total", Help: "Events read from the activity topic."}),
		Indexed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_ingest_indexed_total", Help: "Events stored in OpenSearch (including ones already there)."}),
		Retried:      prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_ingest_retried_total", Help: "Documents sent again after a passing failure."}),
		DeadLettered: prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_ingest_dead_lettered_total", Help: "Messages sent to the dead-letter topic."}),
		BatchSize:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fluxera_ingest_batch_size", Help: "Events per batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		BulkLatency:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fluxera_ingest_bulk_seconds", Help: "Bulk request latency.", Buckets: prometheus.DefBuckets}),
	}
	reg.MustRegister(m.Consumed, m.Indexed, m.Retried, m.DeadLettered, m.BatchSize, m.BulkLatency)
	return m
}
