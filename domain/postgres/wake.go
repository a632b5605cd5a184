package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// waker wakes a listener (the relay, or the notifier's queue) after the
// transactions that give it work commit. It sends
// NOTIFY from its own connection, outside the writers' transactions, and
// coalesces: while one notification is on its way, every commit in the
// meantime is covered by one more. A NOTIFY inside each transaction would
// make every commit take PostgreSQL's notification queue lock in turn.
type waker struct {
	db      *bun.DB
	channel string

	once sync.Once
	kick chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

func newWaker(db *bun.DB, channel string) *waker {
	return &waker{db: db, channel: channel, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// wake asks for a notification; it never blocks.
func (n *waker) wake() {
	n.once.Do(func() {
		n.wg.Add(1)
		go n.run()
	})
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

func (n *waker) run() {
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
func (n *waker) close() {
	select {
	case <-n.done:
	default:
		close(n.done)
	}
	n.wg.Wait()
}
