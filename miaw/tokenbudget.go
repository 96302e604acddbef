package miaw

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// tokenBudget is the org's access-token budget (Salesforce allows 200 token
// requests per minute per org), shared by two kinds of request. Foreground
// ones (a user action: creating a conversation, sending) queue for the next
// slot in order. Background ones (a stream's reconnect) take only a slot
// that is free when they look, so they never queue ahead of a foreground
// request: after a worker's death or an outage every stream reconnects at
// once, and the users' actions must not wait behind them. A background
// exchange that a foreground caller comes to share (the same user's token)
// joins the queue at once.
type tokenBudget struct {
	limiter *rate.Limiter
	turn    chan struct{} // held by the one background waiter polling limiter

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

// wait takes a slot for a foreground request, in turn.
func (b *tokenBudget) wait(ctx context.Context) error { return b.limiter.Wait(ctx) }

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
		if w.refs--; w.refs == 0 && b.waiting[user] == w {
			delete(b.waiting, user)
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

// waitBackground takes a slot for a background request: only one free now
// (limiter.Wait would reserve a future slot, ahead of every later foreground
// request). Until one is, it sleeps until the next is due and looks again;
// background waiters take turns, so one of them at a time polls. Once
// promoted it waits in the queue like a foreground request.
func (b *tokenBudget) waitBackground(ctx context.Context, promoted <-chan struct{}) error {
	select {
	case b.turn <- struct{}{}:
	case <-promoted:
		return b.wait(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		r := b.limiter.Reserve()
		d := r.Delay()
		if d == 0 {
			<-b.turn
			return nil
		}
		r.Cancel() // not ours yet: a foreground request may take it first
		t := time.NewTimer(d)
		select {
		case <-t.C:
			continue
		case <-promoted:
			t.Stop()
			<-b.turn
			return b.wait(ctx)
		case <-ctx.Done():
			t.Stop()
			<-b.turn
			return ctx.Err()
		}
	}
}
