package miaw

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// tokenBudget is the org's access-token budget (Salesforce allows 200 token
// requests per minute per org), shared by two kinds of request. Foreground
// ones (a user action: creating a conversation, sending) queue for the next
// slot in order. Background ones (a stream's reconnect) take a slot that is
// free when they look, so they do not queue ahead of foreground requests:
// after an outage that outlived the tokens every stream reconnects at once,
// and the users' actions must not wait behind them. Yet never more than
// foregroundShare foreground requests in a row pass a waiting background
// one (it then takes the next slot in turn), so streams are not starved
// when user actions alone would use the whole budget: it waits at most for
// those and the requests already queued. A background exchange
// that a foreground caller comes to share (the same user's token) joins the
// queue at once.
type tokenBudget struct {
	limiter *rate.Limiter
	turn    chan struct{} // held by the one background waiter polling limiter
	served  atomic.Int64  // foreground slots granted

	mu      sync.Mutex
	waiting map[string]*backgroundWait // by user
}

// backgroundWait is the promotion of one user's background exchange.
type backgroundWait struct {
	promoted chan struct{} // closed when a foreground caller needs it
	closed   bool
	refs     int
}

func newTokenBudget(perMin int) *tokenBudget {
	burst := max(1, perMin/10) // burst + a minute of refill stays under perMin*1.1
	return &tokenBudget{
		limiter: rate.NewLimiter(rate.Limit(float64(perMin)/60), burst),
		turn:    make(chan struct{}, 1),
		waiting: map[string]*backgroundWait{},
	}
}

// foregroundShare is how many foreground requests may take a slot while a
// background one holds its turn before it queues like them.
const foregroundShare = 3

// wait takes a slot for a foreground request, in turn.
func (b *tokenBudget) wait(ctx context.Context) error {
	if err := b.limiter.Wait(ctx); err != nil {
		return err
	}
	b.served.Add(1)
	return nil
}

// background registers a background exchange for user: promoted is closed
// when a foreground caller needs the user's token (promote); done ends the
// registration.
func (b *tokenBudget) background(user string) (promoted <-chan struct{}, done func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.waiting[user]
	if w == nil {
		w = &backgroundWait{promoted: make(chan struct{})}
		b.waiting[user] = w
	}
	w.refs++
	return w.promoted, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if w.refs--; w.refs == 0 {
			delete(b.waiting, user) // w: an entry leaves the map only here
		}
	}
}

// promote moves user's background exchange, if one waits, to the queue.
func (b *tokenBudget) promote(user string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w := b.waiting[user]; w != nil && !w.closed {
		close(w.promoted)
		w.closed = true
	}
}

// waitBackground takes a slot for a background request: one free now
// (limiter.Wait would reserve a future slot, ahead of every later foreground
// request). Until one is, it sleeps until the next is due and looks again;
// background waiters take turns, so one of them at a time polls. Promoted,
// or passed by foregroundShare foreground requests, it waits in the queue.
func (b *tokenBudget) waitBackground(ctx context.Context, promoted <-chan struct{}) error {
	select {
	case b.turn <- struct{}{}:
	case <-promoted:
		return b.limiter.Wait(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.turn }()
	passedFrom := b.served.Load()
	for {
		if b.served.Load()-passedFrom >= foregroundShare {
			return b.limiter.Wait(ctx)
		}
		r := b.limiter.Reserve()
		d := r.Delay()
		if d == 0 {
			return nil
		}
		r.Cancel() // not ours yet: a foreground request may take it first
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-promoted:
			t.Stop()
			return b.limiter.Wait(ctx)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
