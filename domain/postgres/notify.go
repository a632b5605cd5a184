package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// notifier wakes the relay after transactions with events commit. It sends
// NOTIFY from its own connection, outside the writers' transactions, and
// coalesces: while one notification is on its way, every commit in the
// meantime is covered by one more. A NOTIFY inside each transaction would
// make every commit take PostgreSQL's notification queue lock in turn.
type notifier struct {
	db      *bun.DB
	channel string

	once sync.Once
	kick chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

func newNotifier(db *bun.DB, channel string) *notifier {
	return &notifier{db: db, channel: channel, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// wake asks for a notification; it never blocks.
func (n *notifier) wake() {
	n.once.Do(func() {
		n.wg.Add(1)
		go n.run()
	})
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

func (n *notifier) run() {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case <-n.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// A lost notification only delays the relay to its poll interval.
		_, _ = n.db.ExecContext(ctx, "SELECT pg_notify(?, '')", n.channel)
		cancel()
	}
}

// close stops the notifier after the notification in flight, if any.
func (n *notifier) close() {
	select {
	case <-n.done:
	default:
		close(n.done)
	}
	n.wg.Wait()
}
