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
// coalesces: after one notification it waits notifyGap, and every commit
// in the meantime is covered by one more. A NOTIFY inside each transaction
// would make every commit take PostgreSQL's notification queue lock in
// turn, and one right after each commit would cost a statement per write
// under load.
type waker struct {
	db      *bun.DB
	channel string
	// pause runs after each notification and returns after notifyGap, or
	// when done is closed.
	pause func(done <-chan struct{})

	once sync.Once
	kick chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

// notifyGap is the least time between two notifications of one waker.
// The relay lets events gather for longer than this after a wake-up, so
// the commits of one gap would be read together anyway.
const notifyGap = 5 * time.Millisecond

func newWaker(db *bun.DB, channel string) *waker {
	return &waker{db: db, channel: channel, pause: waitGap, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// waitGap returns after notifyGap, or when done is closed.
func waitGap(done <-chan struct{}) {
	t := time.NewTimer(notifyGap)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
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
		n.pause(n.done)
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
