package soak

import (
	"context"
	"fmt"
	"log/slog"
	mathrand "math/rand"
	"sync"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

const (
	// expireEvery is how often the soak expires every access token while it
	// waits for a stream to end at its token's expiry (the worker may be
	// down, holding no stream, when it does).
	expireEvery = 5 * time.Second
	// barrierWait bounds how long sessions wait for an expired stream once
	// the required kills happened; the report then shows the missing fault.
	barrierWait = 4 * time.Minute
)

// chaosLoop kills the worker with SIGKILL after a random lifetime, restarts
// it after a random pause, and restarts it too if it exits on its own.
//
// It also holds the barrier that keeps sessions open: the barrier opens
// once opts.Kills kills happened and, when the emulator expires tokens early,
// once at least one SSE stream actually ran into its token's expiry. Worker
// kills cut every stream, and each user's first token only is short-lived,
// so once the kills are done the soak makes every token expire at once
// (expireTokens; again every expireEvery until a stream ended so): every
// stream reconnects and every user needs a new token together, as after an
// outage that outlived the tokens. Kills go on at random intervals, while
// sessions close.
type chaosLoop struct {
	opts         Options
	proc         *workerProcess
	barrier      chan<- struct{}
	expired      func() bool // an SSE stream ended at token expiry
	expireTokens func()      // every access token expires now
	// streamOpens tells, per conversation, the user's streams accepted
	// around a moment (emulator.Server.StreamOpens).
	streamOpens func(at time.Time) map[string]emulator.StreamOpen
	log         *slog.Logger
	// after, when set, holds back kills and the barrier until it closes
	// (the cluster's server-side faults run first).
	after <-chan struct{}

	rng      *mathrand.Rand
	opened   bool
	killedAt time.Time // when the required kills were reached
	expireAt time.Time // when expireTokens last ran
	// killsAtOpen is the kill count when the barrier opened.
	killsAtOpen int

	mu    sync.Mutex
	kills []FaultDelay // one per SIGKILL, measured after the run
}

// FaultWorkerKill is the fault kind of Report.WorkerKillDelays.
const FaultWorkerKill = "worker SIGKILL"

// killWindow is how long before a kill a message may have been sent and
// still be delayed by it (in flight in the killed worker).
const killWindow = 5 * time.Second

// recordKill notes a kill at now; messages sent from killWindow before it
// until faultSettle after it, that arrived after it, are its delays.
func (c *chaosLoop) recordKill(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kills = append(c.kills, FaultDelay{Fault: FaultWorkerKill, Start: now,
		sentFrom: now.Add(-killWindow), sentTo: now.Add(faultSettle)})
}

// workerKillDelayBound is how long one worker's death may delay a message:
// another worker resumes its streams and its activities within it. The
// report does not fail a run on it (a loaded machine may miss it); a run
// whose message that met one kill only took longer keeps that session's
// history.
const workerKillDelayBound = 15 * time.Second

// slowestKillAlone returns the kill with the longest delay of a message that
// met it only; false when there was none.
func slowestKillAlone(kills []FaultDelay) (FaultDelay, bool) {
	var worst FaultDelay
	for _, k := range kills {
		if k.MaxDelayAlone > worst.MaxDelayAlone {
			worst = k
		}
	}
	return worst, worst.slowestAloneUser != ""
}

// killDelays measures every kill's delays, and those of the messages that
// met that kill only.
func (c *chaosLoop) killDelays(outcomes []*sessionOutcome) []FaultDelay {
	c.mu.Lock()
	kills := append([]FaultDelay(nil), c.kills...)
	c.mu.Unlock()
	kills = measureDelays(kills, outcomes)
	for i := range kills {
		k := &kills[i]
		for _, o := range outcomes {
			o.sentMu.Lock()
			for _, t := range o.timings {
				if !k.delays(t) || otherKillDuring(kills, i, t) {
					continue
				}
				if d := t.arrived.Sub(t.sent); d > k.MaxDelayAlone {
					k.MaxDelayAlone, k.slowestAloneUser = d, o.userID
					k.SlowestAlone = fmt.Sprintf("%q of %s, sent at %+.1fs, arrived at %+.1fs",
						t.token, o.userID, t.sent.Sub(k.Start).Seconds(), t.arrived.Sub(k.Start).Seconds())
				}
			}
			o.sentMu.Unlock()
		}
	}
	return kills
}

// resumes measures, for every kill, how soon the streams it cut came back:
// for each session whose user had a stream before the kill and has one
// since, the time from the kill to the first stream accepted after it
// (the restart pause included; sessions that ended before their stream
// came back do not count).
func (c *chaosLoop) resumes(kills []FaultDelay, outcomes []*sessionOutcome) {
	for i := range kills {
		k := &kills[i]
		opens := c.streamOpens(k.Start)
		for _, o := range outcomes {
			op, ok := opens[o.conversationID]
			if !ok || o.conversationID == "" || op.Before.IsZero() || op.After.IsZero() {
				continue
			}
			k.StreamsResumed++
			if d := op.After.Sub(k.Start); d > k.MaxResume {
				k.MaxResume, k.SlowestResume = d, o.userID
			}
		}
	}
}

// otherKillDuring reports whether a kill other than kills[i] happened
// while t was in flight (or within killWindow before it was sent).
func otherKillDuring(kills []FaultDelay, i int, t msgTiming) bool {
	for j, k := range kills {
		if j != i && !k.Start.Before(t.sent.Add(-killWindow)) && !k.Start.After(t.arrived) {
			return true
		}
	}
	return false
}

func (c *chaosLoop) needExpiry() bool { return c.opts.Faults.TokenTTL > 0 && !c.expired() }

// maybeOpen opens the barrier when its conditions hold.
func (c *chaosLoop) maybeOpen() {
	if c.opened || !closed(c.after) {
		return
	}
	kills := c.proc.counts().Kills
	if c.opts.Kills > 0 && kills < c.opts.Kills {
		return
	}
	if c.killedAt.IsZero() {
		c.killedAt = time.Now()
	}
	if c.needExpiry() && time.Since(c.killedAt) < barrierWait {
		if time.Since(c.expireAt) >= expireEvery {
			c.expireAt = time.Now()
			c.expireTokens()
			c.log.Info("every access token expired at once")
		}
		return
	}
	close(c.barrier)
	c.opened = true
	c.killsAtOpen = kills
	c.log.Info("sessions may close now", "kills", kills, "stream_expired", !c.needExpiry())
}

func (c *chaosLoop) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(c.rng.Int63n(int64(hi-lo)))
}

// lifetime is how long the next incarnation lives before it is killed.
func (c *chaosLoop) lifetime() time.Duration {
	d := c.between(c.opts.KillIntervalMin, c.opts.KillIntervalMax)
	if c.opened && c.proc.counts().Kills == c.killsAtOpen {
		// Sessions are closing now: kill soon so closing is tested under
		// a crash too.
		d = c.between(2*time.Second, c.opts.KillIntervalMin)
	}
	return d
}

func (c *chaosLoop) run(ctx context.Context) {
	c.rng = mathrand.New(mathrand.NewSource(c.opts.Seed))
	if c.after != nil {
		select {
		case <-c.after:
		case <-ctx.Done():
			return
		}
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	c.maybeOpen()
	for ctx.Err() == nil {
		alive, exited := c.proc.running()
		if !alive {
			sleepCtx(ctx, time.Second)
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("worker exited on its own; restarting")
			if err := c.proc.start(); err != nil {
				c.log.Error("restart worker", "error", err)
			}
			continue
		}
		c.incarnation(ctx, exited, tick.C)
	}
}

// incarnation waits until the running worker exits or its lifetime ends; in
// the latter case it kills it and starts the next one.
func (c *chaosLoop) incarnation(ctx context.Context, exited <-chan struct{}, tick <-chan time.Time) {
	var killAt <-chan time.Time
	if c.opts.Kills >= 0 {
		t := time.NewTimer(c.lifetime())
		defer t.Stop()
		killAt = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-exited:
			return
		case <-tick:
			c.maybeOpen()
		case <-killAt:
			if err := c.proc.kill(); err != nil {
				c.log.Error("kill worker", "error", err)
			} else {
				c.recordKill(time.Now())
			}
			c.log.Info("worker killed", "kills", c.proc.counts().Kills)
			c.maybeOpen()
			sleepCtx(ctx, c.between(100*time.Millisecond, c.opts.RestartPauseMax))
			if ctx.Err() != nil {
				return
			}
			if err := c.proc.start(); err != nil {
				c.log.Error("restart worker", "error", err)
			}
			return
		}
	}
}

// closed reports whether ch is nil or closed.
func closed(ch <-chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
