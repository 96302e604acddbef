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
	// quietLead is how long the emulator's faults are paused before the
	// first server-side fault, so that no retry of an earlier emulator fault
	// is still pending (the bridge's longest backoff is 30s) and every
	// delay in the fault windows is the server's doing.
	quietLead = 35 * time.Second
	// faultSettle extends each fault's window past its repair: messages sent
	// then still meet the effects (ring changes as the node rejoins, pools
	// reconnecting to PostgreSQL).
	faultSettle = 15 * time.Second
)

// Fault kinds in Report.ClusterFaults.
const (
	FaultNodeKill        = "Temporal node SIGKILL"
	FaultPostgresRestart = "PostgreSQL restart"
)

// FaultDelay is one server-side fault and the messages it could delay: those
// in flight at some moment of its window (from the fault to faultSettle after
// the repair) and sent once the emulator's faults were paused.
type FaultDelay struct {
	Fault       string
	Start, End  time.Time
	Offset      time.Duration // Start, from the beginning of the run
	Messages    int           // delivered messages in flight during the window
	MaxDelay    time.Duration // the longest of them, send to first arrival
	Bound       time.Duration // 0: none
	RepairError string        // the node or PostgreSQL did not come back
	// Slowest describes the slowest message: what, and when it was sent and
	// arrived relative to the fault.
	Slowest string
	// quietSince is when the emulator's faults were paused: messages sent
	// earlier may carry delays of those faults and are not counted.
	quietSince time.Time
	// slowestUser is the user of the slowest message.
	slowestUser string
}

// OK reports whether the fault was repaired and stayed within its bound.
func (f FaultDelay) OK() bool {
	return f.RepairError == "" && (f.Bound == 0 || f.MaxDelay <= f.Bound)
}

// clusterFaults kills one node and restarts PostgreSQL while sessions run.
// Worker kills wait until it is done (done closes) and the emulator's faults
// pause from quietLead before the first fault until after the last, so every
// delay in its windows is the server's doing.
type clusterFaults struct {
	cluster    *devcluster.Cluster
	emu        *emulator.Server
	opts       Options
	log        *slog.Logger
	done       chan struct{}
	mu         sync.Mutex
	faults     []FaultDelay
	quietSince time.Time
}

func newClusterFaults(c *devcluster.Cluster, emu *emulator.Server, opts Options, log *slog.Logger) *clusterFaults {
	return &clusterFaults{cluster: c, emu: emu, opts: opts, log: log, done: make(chan struct{})}
}

func (f *clusterFaults) run(ctx context.Context) {
	defer close(f.done)
	sleepCtx(ctx, faultsAfter)
	f.log.Info("pausing the emulator's faults before the server-side faults", "for", quietLead)
	f.emu.PauseFaults(true)
	defer func() {
		f.emu.PauseFaults(false)
		f.log.Info("emulator faults resumed")
	}()
	f.quietSince = time.Now()
	sleepCtx(ctx, quietLead)
	node := int(f.opts.Seed % 2)
	f.window(ctx, FaultNodeKill, f.opts.MaxNodeLossDelay, func() error {
		f.log.Info("killing a Temporal node", "node", node)
		if err := f.cluster.KillNode(node); err != nil {
			return err
		}
		sleepCtx(ctx, f.opts.NodeDownFor)
		f.log.Info("starting the Temporal node again", "node", node)
		return f.cluster.StartNode(context.WithoutCancel(ctx), node)
	})
	f.window(ctx, FaultPostgresRestart, 0, func() error {
		f.log.Info("restarting PostgreSQL (immediate shutdown)")
		return f.cluster.RestartPostgres(ctx, 2*time.Second)
	})
}

// window runs one fault and its repair, then waits faultSettle.
func (f *clusterFaults) window(ctx context.Context, kind string, bound time.Duration, fault func() error) {
	if ctx.Err() != nil {
		return
	}
	fd := FaultDelay{Fault: kind, Start: time.Now(), Bound: bound, quietSince: f.quietSince}
	if err := fault(); err != nil {
		fd.RepairError = err.Error()
		f.log.Error("cluster fault", "fault", kind, "error", err)
	}
	sleepCtx(ctx, faultSettle)
	fd.End = time.Now()
	f.mu.Lock()
	f.faults = append(f.faults, fd)
	f.mu.Unlock()
}

// measure fills each fault's message count and longest delay from the
// sessions' timings.
func (f *clusterFaults) measure(outcomes []*sessionOutcome) []FaultDelay {
	f.mu.Lock()
	faults := append([]FaultDelay(nil), f.faults...)
	f.mu.Unlock()
	for i := range faults {
		fd := &faults[i]
		for _, o := range outcomes {
			o.sentMu.Lock()
			for _, t := range o.timings {
				if t.sent.Before(fd.quietSince) || t.sent.After(fd.End) || t.arrived.Before(fd.Start) {
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
