// Package ingest is the indexer: it consumes activity events from the event
// stream, turns each into a search document and bulk-indexes it, and commits
// its place in the stream only once every event before it is indexed or set
// aside in the dead-letter topic.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/retry"
)

// Message is one record read from the stream.
type Message struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	// Raw is the source's own record, handed back on commit.
	Raw any
}

// Source is the stream the indexer reads.
type Source interface {
	// Fetch returns the next message, blocking until there is one.
	Fetch(ctx context.Context) (Message, error)
	// Commit records that every message up to and including msgs is done.
	Commit(ctx context.Context, msgs []Message) error
}

// Document is one event ready to be indexed.
type Document struct {
	Index string
	ID    string
	Body  []byte
}

// ItemResult is the outcome of indexing one document.
type ItemResult int

// Outcomes of one bulk item.
const (
	Indexed  ItemResult = iota // stored (or already stored)
	Retry                      // a passing failure; send it again
	Rejected                   // never storable; dead-letter it
)

// BulkResult is what the search engine said of each document, in order,
// with a reason for every item not indexed.
type BulkResult struct {
	Items   []ItemResult
	Reasons []string
}

// Sink is the search engine the indexer writes to.
type Sink interface {
	// Bulk indexes docs. A returned error means the request as a whole
	// failed and every document should be sent again.
	Bulk(ctx context.Context, docs []Document) (BulkResult, error)
}

// DeadLetter is a message the indexer cannot store, and why.
type DeadLetter struct {
	Message Message
	Reason  string
}

// DeadLetters is where unstorable messages go so the stream keeps moving.
type DeadLetters interface {
	Send(ctx context.Context, letters []DeadLetter) error
}

// Config tunes the indexer.
type Config struct {
	IndexPrefix   string
	BatchSize     int           // documents per bulk request
	BatchBytes    int           // bytes per bulk request
	FlushInterval time.Duration // longest wait to fill a batch
	Workers       int           // bulk requests in flight
	MaxBackoff    time.Duration // ceiling of the retry delay
	DrainTimeout  time.Duration // how long a stop may take to finish batches in flight
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.IndexPrefix == "" {
		c.IndexPrefix = "fluxera"
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = 5 << 20
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 200 * time.Millisecond
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 10 * time.Second
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 15 * time.Second
	}
	if c.BatchSize < 1 || c.BatchBytes < 1 || c.Workers < 1 || c.FlushInterval <= 0 {
		return fmt.Errorf("ingest: batch size, batch bytes, workers and flush interval must be positive")
	}
	return nil
}

// Indexer moves events from a Source to a Sink.
type Indexer struct {
	Config      Config
	Source      Source
	Sink        Sink
	DeadLetters DeadLetters
	Metrics     *Metrics
	// Enricher, if set, completes each document before it is indexed.
	Enricher Enricher
	Log      logrus.FieldLogger
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

type batch struct {
	seq  int64
	msgs []Message
	// docs are the batch's documents, each from the message of origin at
	// the same place, and dead what could not be made a document.
	docs   []Document
	origin []Message
	dead   []DeadLetter
}

// Run indexes until ctx ends or the source fails. When ctx ends it stops
// reading, finishes and commits the batches in flight (for at most
// Config.DrainTimeout), and returns. Anything fetched but not committed is
// read again by whichever indexer owns the partition next.
func (ix *Indexer) Run(ctx context.Context) error {
	if ix.Now == nil {
		ix.Now = time.Now
	}
	// Work goes on past ctx so that a stop drains instead of dropping.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	stopDrain := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(ix.Config.DrainTimeout, stopWork)
		context.AfterFunc(workCtx, func() { t.Stop() })
	})
	defer stopDrain()

	work := make(chan batch, ix.Config.Workers)
	done := make(chan batch, ix.Config.Workers)
	var workers sync.WaitGroup
	for range ix.Config.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for b := range work {
				if err := ix.process(workCtx, b.docs, b.origin, b.dead); err != nil {
					return // out of time; the batch stays uncommitted
				}
				done <- b
			}
		}()
	}

	// Batches finish in any order but are committed in the order they were
	// read, so a commit never passes a batch that is still being indexed.
	committed := make(chan error, 1)
	go func() {
		finished := map[int64][]Message{}
		var next int64
		var err error
		for b := range done {
			finished[b.seq] = b.msgs
			var msgs []Message
			for ; finished[next] != nil; next++ {
				msgs = append(msgs, finished[next]...)
				delete(finished, next)
			}
			if len(msgs) > 0 && err == nil {
				err = ix.commit(workCtx, msgs)
			}
		}
		committed <- err
	}()

	readErr := ix.batches(ctx, func(b batch) bool {
		select {
		case work <- b:
			return true
		case <-ctx.Done():
			return false
		}
	})
	close(work)
	workers.Wait()
	close(done)
	commitErr := <-committed
	if readErr != nil && !errors.Is(readErr, context.Canceled) && !errors.Is(readErr, context.DeadlineExceeded) {
		return readErr
	}
	return commitErr
}

// batches reads the source and hands out batches by count, size and time.
func (ix *Indexer) batches(ctx context.Context, emit func(batch) bool) error {
	for seq := int64(0); ; seq++ {
		msgs, err := FetchBatch(ctx, ix.Source, ix.Config.BatchSize, ix.Config.BatchBytes, ix.Config.FlushInterval)
		if err != nil {
			return err
		}
		if ix.Metrics != nil {
			ix.Metrics.Consumed.Add(float64(len(msgs)))
			ix.Metrics.BatchSize.Observe(float64(len(msgs)))
		}
		// The documents are made here, beside the bulk requests in
		// flight, so that a worker only sends: the requests follow one
		// another without a gap for decoding and encoding.
		b := batch{seq: seq, msgs: msgs}
		b.docs, b.origin, b.dead = ix.prepare(msgs)
		if !emit(b) {
			return ctx.Err()
		}
	}
}

// FetchBatch blocks until src has a message, then takes whatever else
// arrives within wait, up to maxCount messages and maxBytes bytes of values
// (no byte limit when maxBytes is zero). It fails only when the first
// fetch fails or ctx ends.
func FetchBatch(ctx context.Context, src Source, maxCount, maxBytes int, wait time.Duration) ([]Message, error) {
	first, err := src.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	msgs, size := []Message{first}, len(first.Value)
	fill, stop := context.WithTimeout(ctx, wait)
	defer stop()
	for len(msgs) < maxCount && (maxBytes == 0 || size < maxBytes) {
		m, err := src.Fetch(fill)
		if err != nil {
			break
		}
		msgs = append(msgs, m)
		size += len(m.Value)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return msgs, nil
}

// prepare makes the documents of a batch's messages, each beside the
// message it came from, and the dead letters of those that are none.
func (ix *Indexer) prepare(msgs []Message) (docs []Document, origin []Message, dead []DeadLetter) {
	docs = make([]Document, 0, len(msgs))
	origin = make([]Message, 0, len(msgs))
	for _, m := range msgs {
		doc, err := ix.document(m)
		if err != nil {
			dead = append(dead, DeadLetter{Message: m, Reason: err.Error()})
			continue
		}
		docs = append(docs, doc)
		origin = append(origin, m)
	}
	return docs, origin, dead
}

// process indexes one batch's documents, retrying passing failures until
// they succeed, and dead-letters what can never be stored. It fails only
// when ctx ends.
func (ix *Indexer) process(ctx context.Context, docs []Document, origin []Message, dead []DeadLetter) error {
	tries := ix.backoff().Attempts()
	for len(docs) > 0 {
		start := time.Now()
		res, err := ix.Sink.Bulk(ctx, docs)
		if ix.Metrics != nil {
			ix.Metrics.BulkLatency.Observe(time.Since(start).Seconds())
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			pause := tries.Failed()
			ix.Log.WithError(err).WithField("documents", len(docs)).WithField("retry_in_ms", pause.Milliseconds()).Warn("Bulk request failed; retrying.")
			if ix.Metrics != nil {
				ix.Metrics.Retried.Add(float64(len(docs)))
			}
			if !retry.Sleep(ctx, pause) {
				return ctx.Err()
			}
			continue
		}
		var retryDocs []Document
		var retryOrigin []Message
		indexed := 0
		for i, r := range res.Items {
			switch r {
			case Indexed:
				indexed++
			case Retry:
				retryDocs = append(retryDocs, docs[i])
				retryOrigin = append(retryOrigin, origin[i])
			case Rejected:
				dead = append(dead, DeadLetter{Message: origin[i], Reason: res.Reasons[i]})
			}
		}
		if ix.Metrics != nil {
			ix.Metrics.Indexed.Add(float64(indexed))
			ix.Metrics.Retried.Add(float64(len(retryDocs)))
		}
		docs, origin = retryDocs, retryOrigin
		if len(docs) > 0 {
			if !retry.Sleep(ctx, tries.Failed()) {
				return ctx.Err()
			}
		}
	}

	tries = ix.backoff().Attempts()
	for len(dead) > 0 {
		err := ix.DeadLetters.Send(ctx, dead)
		if err == nil {
			if ix.Metrics != nil {
				ix.Metrics.DeadLettered.Add(float64(len(dead)))
			}
			ix.Log.WithField("count", len(dead)).WithField("first_reason", dead[0].Reason).Warn("Messages sent to the dead-letter topic.")
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ix.Log.WithError(err).Warn("Dead-letter write failed; retrying.")
		if !retry.Sleep(ctx, tries.Failed()) {
			return ctx.Err()
		}
	}
	return nil
}

func (ix *Indexer) commit(ctx context.Context, msgs []Message) error {
	tries := ix.backoff().Attempts()
	for {
		err := ix.Source.Commit(ctx, msgs)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("commit offsets: %w", err)
		}
		ix.Log.WithError(err).Warn("Offset commit failed; retrying.")
		if !retry.Sleep(ctx, tries.Failed()) {
			return fmt.Errorf("commit offsets: %w", err)
		}
	}
}

// document decodes a message into the document that is indexed.
func (ix *Indexer) document(m Message) (Document, error) {
	e, err := activity.DecodeEvent(m.Value)
	if err != nil {
		return Document{}, err
	}
	doc := NewDocument(e, ix.Now())
	if ix.Enricher != nil {
		ix.Enricher.Enrich(&doc)
	}
	body, err := EncodeDocument(&doc)
	if err != nil {
		return Document{}, fmt.Errorf("encode document: %w", err)
	}
	return Document{Index: activity.IndexName(ix.Config.IndexPrefix, e.OccurredAt), ID: e.ID, Body: body}, nil
}

// backoff paces the indexer's retries of OpenSearch and Kafka.
func (ix *Indexer) backoff() retry.Backoff {
	return retry.Backoff{Initial: 100 * time.Millisecond, Max: ix.Config.MaxBackoff, Jitter: retry.DefaultJitter}
}
