package soak

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devcluster"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

const (
	// faultsAfter is how long sessions exchange messages (with every
	// emulator fault) before the server-side faults begin.
	faultsAfter = 15 * time.Second
	// quietLead is how long the emulator's and the webhook's faults are
	// paused before the first server-side fault, so that no retry of an
	// earlier injected fault is still pending (the bridge's longest backoff
	// is 30s) and every delay in the fault windows is the server's doing.
	quietLead = 35 * time.Second
	// faultSettle extends a window past its repair: messages sent then
	// still meet the effects (pools reconnecting, partitions moving).
	faultSettle = 15 * time.Second
)

// Fault kinds in Report.ClusterFaults.
const (
	// FaultNodeKill covers the messages in flight while one Temporal node
	// is lost (SIGKILL): sent from the quiet lead until MaxNodeLossDelay
	// before the node returns, so the return cannot touch one that meets
	// the bound. Its longest delay must stay within MaxNodeLossDelay.
	FaultNodeKill = "Temporal node SIGKILL"
	// FaultNodeReturn covers the messages in flight while the killed node
	// starts again and takes its shards and partitions back.
	FaultNodeReturn = "Temporal node returns"
	// FaultPostgresRestart covers the messages in flight while PostgreSQL
	// restarts in immediate mode.
	FaultPostgresRestart = "PostgreSQL restart"
)

// FaultDelay is one server-side fault and the messages it could delay: those
// sent within its send window that arrived after the fault began.
type FaultDelay struct {
	Fault       string
	Start       time.Time     // the fault
	Offset      time.Duration // Start, from the beginning of the run
	Messages    int           // delivered messages the window counts
	MaxDelay    time.Duration // the longest of them, send to first arrival
	Bound       time.Duration // 0: reported, not bounded
	RepairError string        // the node or PostgreSQL did not come back
	// Slowest describes the slowest message: what, and when it was sent and
	// arrived relative to the fault.
	Slowest string
	// MaxDelayAlone and SlowestAlone are, for a worker kill, the same for
	// the messages whose flight saw this kill and no other: a message in
	// flight across several kills adds their costs, so these are what one
	// worker's death costs.
	MaxDelayAlone time.Duration
	SlowestAlone  string
	// StreamsResumed, MaxResume and SlowestResume are, for a worker kill,
	// the sessions whose SSE stream the kill cut and that had it back, the
	// longest time from the kill until one was back, and its user.
	StreamsResumed int
	MaxResume      time.Duration
	SlowestResume  string

	// sentFrom and sentTo bound the send times the window counts.
	sentFrom, sentTo time.Time
	// slowestUser and slowestAloneUser are the users of the slowest
	// messages.
	slowestUser, slowestAloneUser string
}

// delays reports whether t counts in f's window: sent within it, arrived
// after the fault began.
func (f FaultDelay) delays(t msgTiming) bool {
	return !t.sent.Before(f.sentFrom) && t.sent.Before(f.sentTo) && !t.arrived.Before(f.Start)
}

// OK reports whether the fault was repaired and stayed within its bound.
func (f FaultDelay) OK() bool {
	return f.RepairError == "" && (f.Bound == 0 || f.MaxDelay <= f.Bound)
}

// clusterFaults kills one node, starts it again, and restarts PostgreSQL
// while sessions run. Worker kills wait until it is done (done closes), and
// the emulator's and the webhook's faults pause from quietLead before the
// first fault until after the last, so every delay in its windows is the
// server's doing.
type clusterFaults struct {
	cluster *devcluster.Cluster
	emu     *emulator.Server
	hook    *webhookReceiver
	opts    Options
	log     *slog.Logger
	done    chan struct{}
	mu      sync.Mutex
	faults  []FaultDelay
}

func newClusterFaults(c *devcluster.Cluster, emu *emulator.Server, hook *webhookReceiver, opts Options, log *slog.Logger) *clusterFaults {
	return &clusterFaults{cluster: c, emu: emu, hook: hook, opts: opts, log: log, done: make(chan struct{})}
}

func (f *clusterFaults) run(ctx context.Context) {
	defer close(f.done)
	sleepCtx(ctx, faultsAfter)
	f.log.Info("pausing the emulator's and the webhook's faults before the server-side faults", "for", quietLead)
	f.emu.PauseFaults(true)
	f.hook.pauseFailures(true)
	defer func() {
		f.emu.PauseFaults(false)
		f.hook.pauseFailures(false)
		f.log.Info("emulator and webhook faults resumed")
	}()
	quietSince := time.Now()
	sleepCtx(ctx, quietLead)
	if ctx.Err() != nil {
		return
	}

	node := int(f.opts.Seed % 2)
	kill := FaultDelay{Fault: FaultNodeKill, Start: time.Now(), Bound: f.opts.MaxNodeLossDelay, sentFrom: quietSince}
	f.log.Info("killing a Temporal node", "node", node)
	if err := f.cluster.KillNode(node); err != nil {
		kill.RepairError = err.Error()
	}
	sleepCtx(ctx, f.opts.NodeDownFor)
	back := FaultDelay{Fault: FaultNodeReturn, Start: time.Now()}
	kill.sentTo = back.Start.Add(-kill.Bound)
	back.sentFrom = kill.sentTo
	f.log.Info("starting the Temporal node again", "node", node)
	if err := f.cluster.StartNode(context.WithoutCancel(ctx), node); err != nil {
		back.RepairError = err.Error()
	}
	sleepCtx(ctx, faultSettle)
	back.sentTo = time.Now()

	pg := FaultDelay{Fault: FaultPostgresRestart, Start: time.Now(), sentFrom: back.sentTo}
	f.log.Info("restarting PostgreSQL (immediate shutdown)")
	if err := f.cluster.RestartPostgres(ctx, 2*time.Second); err != nil {
		pg.RepairError = err.Error()
	}
	sleepCtx(ctx, faultSettle)
	pg.sentTo = time.Now()

	for _, fd := range []FaultDelay{kill, back, pg} {
		if fd.RepairError != "" {
			f.log.Error("cluster fault not repaired", "fault", fd.Fault, "error", fd.RepairError)
		}
	}
	f.mu.Lock()
	f.faults = append(f.faults, kill, back, pg)
	f.mu.Unlock()
}

// measure fills each fault's message count and longest delay from the
// sessions' timings.
func (f *clusterFaults) measure(outcomes []*sessionOutcome) []FaultDelay {
	f.mu.Lock()
	faults := append([]FaultDelay(nil), f.faults...)
	f.mu.Unlock()
	return measureDelays(faults, outcomes)
}

// measureDelays fills each fault's message count and longest delay from the
// sessions' timings.
func measureDelays(faults []FaultDelay, outcomes []*sessionOutcome) []FaultDelay {
	for i := range faults {
		fd := &faults[i]
		for _, o := range outcomes {
			o.sentMu.Lock()
			for _, t := range o.timings {
				if !fd.delays(t) {
					continue
				}
				fd.Messages++
				if d := t.arrived.Sub(t.sent); d > fd.MaxDelay {
					fd.MaxDelay = d
					fd.slowestUser = o.userID
					fd.Slowest = fmt.Sprintf("%q of %s, sent at %+.1fs, arrived at %+.1fs",
						t.token, o.userID, t.sent.Sub(fd.Start).Seconds(), t.arrived.Sub(fd.Start).Seconds())
				}
			}
			o.sentMu.Unlock()
		}
	}
	return faults
}
