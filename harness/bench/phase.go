package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// Bridge names.
const (
	BridgeDurable  = "durable"
	BridgeBaseline = "baseline"
)

// PhaseResult is what one bridge did at one size.
type PhaseResult struct {
	Bridge   string
	Sessions int

	// Opening: start → greeting delivered at the webhook.
	Opened       int           // sessions greeted
	OpenTime     time.Duration // until the last greeting (or the deadline)
	OpenComplete bool
	OpenP50      time.Duration // one session's start → greeting
	OpenP99      time.Duration
	StartErrors  int
	OpenNote     string // why opening did not complete

	// Worker process (durable only; zero for the baseline).
	WorkerIdleRSS int64
	WorkerRSS     int64   // with all sessions open, after the hold
	WorkerPeakRSS int64   // VmHWM
	RSSPerSession float64 // (WorkerRSS - WorkerIdleRSS) / Opened, bytes
	// Go heap in use, goroutines and their stacks per open session, idle →
	// after the hold (heap.go); HeapProfile is the saved profile, HeapTop
	// its top entries by in-use bytes.
	HeapPerSession       float64
	GoroutinesPerSession float64
	StackPerSession      float64
	HeapProfile          string
	HeapTop              []string
	WorkerThreads        int
	CPUOpen              time.Duration // worker CPU while opening
	CPUTraffic           time.Duration // while sampling latency
	CPUHold              time.Duration // during the quiet hold
	CPUTotal             time.Duration // idle → all closed

	// Rates. RatesSource says where they come from: RatesWorkerMetrics or
	// RatesProxy (exact counts of the worker's Temporal calls), or "" when
	// neither was available: Signals is then estimated from the events the
	// emulator streamed and Heartbeats is unknown (-1).
	RatesSource       string
	HeartbeatsPerSec  float64 // during the hold: every session open, no traffic
	SignalsPerSec     float64 // while sampling latency
	SignalsOpenPerSec float64 // while opening
	TrafficWindow     time.Duration
	HoldWindow        time.Duration

	// Access-token requests seen by the emulator.
	TokenRequests int64
	TokenMax60s   int64 // most requests in any 60s window ending in this phase

	AgentToUser Latency // emulator AgentSend → webhook receipt
	UserToAgent Latency // SendMessage call → emulator transcript entry
	// History is what the sampled messages cost in Temporal history
	// (durable only).
	History HistoryCost

	// This process (embedded Temporal server, emulator, driver, and for the
	// baseline the bridge itself): CPU from idle to all closed.
	DriverCPU time.Duration
	// LoadAvg is the machine's 1-minute load average at the end of the
	// latency sampling (2 CPUs: above 2 means other work competed).
	LoadAvg float64

	Closed      int
	CloseErrors int
	CloseTime   time.Duration
	Notes       []string
}

func (p *PhaseResult) notef(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// Sources of the heartbeat and signal rates.
const (
	RatesWorkerMetrics = "worker metrics"
	RatesProxy         = "gRPC proxy count"
)

// snapshot is every counter the phase compares, read at one instant.
type snapshot struct {
	at      time.Time
	self    procSample // this process: Temporal server, emulator, driver (and the baseline)
	selfOK  bool
	load    float64
	proc    procSample
	procOK  bool
	worker  workerCounters
	emu     emulator.Stats
	workers bool // a worker process is measured
}

func (r *run) snap(ctx context.Context, w *workerProc, metricsURL string) snapshot {
	s := snapshot{at: time.Now(), emu: r.emu.Stats(), load: loadAverage()}
	if ps, err := readProc(os.Getpid()); err == nil {
		s.self, s.selfOK = ps, true
	}
	if w != nil {
		s.workers = true
		if ps, err := readProc(w.pid()); err == nil {
			s.proc, s.procOK = ps, true
		}
		if p := r.proxy; p != nil {
			s.worker = workerCounters{OK: true,
				Heartbeats: p.count("RecordActivityTaskHeartbeat") + p.count("RecordActivityTaskHeartbeatById"),
				Signals:    p.count("SignalWorkflowExecution"),
			}
		} else if wc, err := scrapeWorker(ctx, r.httpClient, metricsURL); err == nil {
			s.worker = wc
		}
	}
	return s
}

// sessionRef is an open session: its user and Salesforce conversation.
type sessionRef struct{ user, conv string }

// runPhase opens len(users) sessions through br, samples latency, holds, and
// closes them all. w is the worker process (nil for the baseline).
func (r *run) runPhase(ctx context.Context, bridgeName string, br bridge, users []string, w *workerProc, metricsURL string) *PhaseResult {
	n := len(users)
	res := &PhaseResult{Bridge: bridgeName, Sessions: n, HeartbeatsPerSec: -1}
	if w == nil {
		res.HeartbeatsPerSec = 0
	}
	log := r.log.With("bridge", bridgeName, "sessions", n)
	s0 := r.snap(ctx, w, metricsURL)

	// Open.
	log.Info("opening sessions", "concurrency", r.opts.Concurrency, "deadline", r.opts.openTimeout(n).String())
	greeted, openDurations := r.openAll(ctx, br, users, res)
	var snaps phaseSnaps
	snaps.idle = s0
	snaps.open = r.snap(ctx, w, metricsURL)
	res.Opened = len(greeted)
	if d := summarize(openDurations, 0, 0); d.Samples > 0 {
		res.OpenP50, res.OpenP99 = d.P50, d.P99
	}
	log.Info("sessions open", "greeted", res.Opened, "open_time", res.OpenTime.Round(time.Millisecond).String(), "complete", res.OpenComplete)

	// Latency, on the greeted sessions.
	refs := r.conversations(greeted)
	if len(refs) < len(greeted) {
		res.notef("%d greeted sessions had no active emulator conversation", len(greeted)-len(refs))
	}
	// The sampled sessions' history lengths (durable) are read, settled,
	// outside the traffic window, so its rates count the samples' work only.
	var sampled map[string]int
	var lengths map[string]runLength
	if w != nil && len(refs) > 0 && ctx.Err() == nil {
		sampled = sampledUsers(refs, r.opts.Samples)
		lengths = r.settledLengths(ctx, sampled)
	}
	snaps.trafficStart = r.snap(ctx, w, metricsURL)
	if len(refs) > 0 && ctx.Err() == nil {
		log.Info("sampling latency", "samples", r.opts.Samples, "rate_per_s", r.opts.SampleRate)
		res.AgentToUser = r.sampleAgentToUser(ctx, refs)
		res.UserToAgent = r.sampleUserToAgent(ctx, br, refs)
	}
	snaps.traffic = r.snap(ctx, w, metricsURL)
	if lengths != nil {
		res.History = historyCost(sampled, lengths, r.settledLengths(ctx, sampled))
	}

	// Quiet hold: every session open, no traffic.
	snaps.holdStart = r.snap(ctx, w, metricsURL)
	var before map[string]int64
	if r.proxy != nil && w != nil {
		before = r.proxy.snapshot()
	}
	if len(refs) > 0 && ctx.Err() == nil {
		log.Info("holding", "for", r.opts.Hold.String())
		sleepCtx(ctx, r.opts.Hold)
	}
	if before != nil {
		log.Info("worker calls to Temporal during the hold", "calls", diffCounts(before, r.proxy.snapshot()))
	}
	snaps.hold = r.snap(ctx, w, metricsURL)
	if w != nil && metricsURL != "" && ctx.Err() == nil {
		path, top, err := saveHeapProfile(ctx, r.httpClient, metricsURL, filepath.Dir(r.workerLog), fmt.Sprintf("heap-%d.pb.gz", n))
		if err != nil {
			res.notef("heap profile: %v", err)
		}
		res.HeapProfile, res.HeapTop = path, top
	}

	// Close everything that was started, greeted or not.
	log.Info("closing sessions")
	r.closeAll(ctx, br, users, res)
	snaps.closed = r.snap(ctx, w, metricsURL)
	log.Info("sessions closed", "closed", res.Closed, "errors", res.CloseErrors)

	r.fillCounters(res, snaps)
	if w != nil && !w.alive() {
		res.notef("the worker process exited during the phase: %v", w.err)
	}
	return res
}

// openAll opens every session with bounded concurrency and waits for each
// greeting. It returns the greeted users (in order of users) and each one's
// start → greeting time.
func (r *run) openAll(ctx context.Context, br bridge, users []string, res *PhaseResult) ([]string, []time.Duration) {
	n := len(users)
	deadline := r.opts.openTimeout(n)
	octx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	greeting := r.settings.Greeting

	began := time.Now()
	type outcome struct {
		greeted bool
		took    time.Duration
		at      time.Time
	}
	outcomes := make([]outcome, n)
	var startErrors atomic.Int64
	var lastErr atomic.Value
	var openedCount atomic.Int64
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup

	progressDone := make(chan struct{})
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				r.log.Info("opening", "greeted", openedCount.Load(), "of", n, "elapsed", time.Since(began).Round(time.Second).String(),
					"tokens_issued", r.emu.Stats().TokensIssued)
			}
		}
	}()

launch:
	for i, user := range users {
		select {
		case sem <- struct{}{}:
		case <-octx.Done():
			break launch
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			greeted := r.recv.expect(user, greeting)
			t0 := time.Now()
			if err := retryTransient(octx, func(ctx context.Context) error { return br.open(ctx, user) }); err != nil {
				startErrors.Add(1)
				lastErr.Store(err.Error())
				return
			}
			select {
			case at := <-greeted:
				outcomes[i] = outcome{greeted: true, took: at.Sub(t0), at: at}
				openedCount.Add(1)
			case <-octx.Done():
			}
		}()
	}
	wg.Wait()
	close(progressDone)

	var greetedUsers []string
	var durations []time.Duration
	var last time.Time
	for i, o := range outcomes {
		if o.greeted {
			greetedUsers = append(greetedUsers, users[i])
			durations = append(durations, o.took)
			if o.at.After(last) {
				last = o.at
			}
		}
	}
	res.StartErrors = int(startErrors.Load())
	res.OpenComplete = len(greetedUsers) == n
	if res.OpenComplete {
		res.OpenTime = last.Sub(began)
	} else {
		res.OpenTime = time.Since(began)
		why := fmt.Sprintf("open deadline %s reached", deadline.Round(time.Second))
		if ctx.Err() != nil {
			why = "interrupted"
		}
		res.OpenNote = fmt.Sprintf("%s: %d of %d sessions greeted, %d start errors", why, len(greetedUsers), n, res.StartErrors)
		if e, ok := lastErr.Load().(string); ok {
			res.OpenNote += "; last start error: " + truncate(e, 300)
		}
		if rpm := r.opts.TokenRPM; n > 0 {
			need := time.Duration(float64(n) / float64(rpm) * float64(time.Minute))
			res.OpenNote += fmt.Sprintf("; %d new users need at least %s of access-token requests at %d/min", n, need.Round(time.Second), rpm)
		}
	}
	return greetedUsers, durations
}

// conversations maps greeted users to their active emulator conversation
// (found by the routing attribute the bridge sets to the user id).
func (r *run) conversations(users []string) []sessionRef {
	want := make(map[string]bool, len(users))
	for _, u := range users {
		want[u] = true
	}
	byUser := map[string]string{}
	for _, c := range r.emu.Conversations() {
		u := c.RoutingAttributes[r.settings.RoutingUserField]
		if want[u] && c.State == emulator.StateActive {
			byUser[u] = c.ID
		}
	}
	refs := make([]sessionRef, 0, len(users))
	for _, u := range users {
		if c, ok := byUser[u]; ok {
			refs = append(refs, sessionRef{user: u, conv: c})
		}
	}
	return refs
}

// paced calls fn(k) for k in [0, total) at opts.SampleRate per second with
// at most maxInFlight running, and waits for all.
func (r *run) paced(ctx context.Context, total int, fn func(k int)) {
	const maxInFlight = 64
	interval := time.Duration(float64(time.Second) / r.opts.SampleRate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for k := 0; k < total; k++ {
		if k > 0 {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(k)
		}()
	}
	wg.Wait()
}

// sampleAgentToUser measures emulator AgentSend → webhook receipt.
func (r *run) sampleAgentToUser(ctx context.Context, refs []sessionRef) Latency {
	var mu sync.Mutex
	var lat []time.Duration
	var lost, errs int
	r.paced(ctx, r.opts.Samples, func(k int) {
		s := refs[k%len(refs)]
		text := fmt.Sprintf("bench %s agent->user #%d", r.tag, k)
		arrived := r.recv.expect(s.user, text)
		t0 := time.Now()
		if _, err := r.emu.AgentSend(s.conv, text); err != nil {
			mu.Lock()
			errs++
			mu.Unlock()
			return
		}
		t := time.NewTimer(r.opts.SampleTimeout)
		defer t.Stop()
		select {
		case at := <-arrived:
			mu.Lock()
			lat = append(lat, at.Sub(t0))
			mu.Unlock()
		case <-t.C:
			mu.Lock()
			lost++
			mu.Unlock()
		case <-ctx.Done():
		}
	})
	return summarize(lat, lost, errs)
}

// sampleUserToAgent measures the bridge's send call → the emulator's
// transcript entry (its receive time).
func (r *run) sampleUserToAgent(ctx context.Context, br bridge, refs []sessionRef) Latency {
	var mu sync.Mutex
	var lat []time.Duration
	var lost, errs int
	var lastErr string
	r.paced(ctx, r.opts.Samples, func(k int) {
		s := refs[k%len(refs)]
		text := fmt.Sprintf("bench %s user->agent #%d", r.tag, k)
		sctx, cancel := context.WithTimeout(ctx, r.opts.SampleTimeout)
		defer cancel()
		t0 := time.Now()
		if err := br.sendUser(sctx, s.user, text); err != nil {
			mu.Lock()
			errs++
			lastErr = err.Error()
			mu.Unlock()
			return
		}
		for {
			if at, ok := r.transcriptTime(s.conv, text); ok {
				mu.Lock()
				lat = append(lat, at.Sub(t0))
				mu.Unlock()
				return
			}
			if sctx.Err() != nil {
				mu.Lock()
				lost++
				mu.Unlock()
				return
			}
			sleepCtx(sctx, 5*time.Millisecond)
		}
	})
	if lastErr != "" {
		r.log.Warn("user->agent send errors", "errors", errs, "last", truncate(lastErr, 300))
	}
	return summarize(lat, lost, errs)
}

// transcriptTime is when the emulator received the end user's text.
func (r *run) transcriptTime(conv, text string) (time.Time, bool) {
	tr := r.emu.Transcript(conv)
	for i := len(tr) - 1; i >= 0; i-- {
		if tr[i].Role == miaw.RoleEndUser && tr[i].Text == text {
			return tr[i].At, true
		}
	}
	return time.Time{}, false
}

// closeAll closes every session with bounded concurrency and a deadline.
func (r *run) closeAll(ctx context.Context, br bridge, users []string, res *PhaseResult) {
	began := time.Now()
	// Closing must happen even after an interrupt: a fresh deadline.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.CloseTimeout)
	defer cancel()
	var closed, failed atomic.Int64
	var lastErr atomic.Value
	sem := make(chan struct{}, 2*r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, user := range users {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := retryTransient(cctx, func(ctx context.Context) error {
				actx, cancel := context.WithTimeout(ctx, 60*time.Second)
				defer cancel()
				return br.close(actx, user)
			})
			if err != nil {
				failed.Add(1)
				lastErr.Store(err.Error())
				return
			}
			closed.Add(1)
		}()
	}
	wg.Wait()
	res.Closed, res.CloseErrors = int(closed.Load()), int(failed.Load())
	res.CloseTime = time.Since(began)
	if e, ok := lastErr.Load().(string); ok {
		res.notef("%d sessions failed to close; last error: %s", res.CloseErrors, truncate(e, 300))
	}
}

// phaseSnaps are a phase's snapshots: idle, all open, the traffic window
// (the latency samples), the hold window (every session open, no traffic),
// all closed.
type phaseSnaps struct {
	idle, open, trafficStart, traffic, holdStart, hold, closed snapshot
}

// fillCounters derives the resource and rate figures from the snapshots.
func (r *run) fillCounters(res *PhaseResult, p phaseSnaps) {
	s0, s1, s3, s4 := p.idle, p.open, p.hold, p.closed
	res.TrafficWindow = p.traffic.at.Sub(p.trafficStart.at)
	res.HoldWindow = s3.at.Sub(p.holdStart.at)
	res.TokenRequests = s4.emu.TokensIssued - s0.emu.TokensIssued
	res.TokenMax60s = maxInWindow(r.tokenSamples(), time.Minute, s0.at, s4.at)
	res.LoadAvg = p.traffic.load
	if s0.selfOK && s4.selfOK {
		res.DriverCPU = s4.self.CPU - s0.self.CPU
	}

	if !s0.workers {
		return
	}
	if s0.procOK && s3.procOK {
		res.WorkerIdleRSS = s0.proc.RSSBytes
		res.WorkerRSS = s3.proc.RSSBytes
		res.WorkerPeakRSS = s3.proc.HWMBytes
		res.WorkerThreads = s3.proc.Threads
		if res.Opened > 0 {
			res.RSSPerSession = float64(res.WorkerRSS-res.WorkerIdleRSS) / float64(res.Opened)
			if s0.worker.HeapInuse > 0 && s3.worker.HeapInuse > 0 {
				res.HeapPerSession = (s3.worker.HeapInuse - s0.worker.HeapInuse) / float64(res.Opened)
				res.GoroutinesPerSession = (s3.worker.Goroutines - s0.worker.Goroutines) / float64(res.Opened)
				res.StackPerSession = (s3.worker.StackInuse - s0.worker.StackInuse) / float64(res.Opened)
			}
		}
		res.CPUOpen = s1.proc.CPU - s0.proc.CPU
		res.CPUTraffic = p.traffic.proc.CPU - p.trafficStart.proc.CPU
		res.CPUHold = s3.proc.CPU - p.holdStart.proc.CPU
		if s4.procOK {
			res.CPUTotal = s4.proc.CPU - s0.proc.CPU
		} else {
			res.CPUTotal = s3.proc.CPU - s0.proc.CPU
		}
	} else {
		res.notef("worker /proc figures unavailable (process gone?)")
	}
	perSec := func(d int64, w time.Duration) float64 {
		if w <= 0 {
			return 0
		}
		return float64(d) / w.Seconds()
	}
	openWindow := s1.at.Sub(s0.at)
	if s0.worker.OK && s3.worker.OK {
		res.RatesSource = RatesWorkerMetrics
		if r.proxy != nil {
			res.RatesSource = RatesProxy
		}
		res.HeartbeatsPerSec = perSec(s3.worker.Heartbeats-p.holdStart.worker.Heartbeats, res.HoldWindow)
		res.SignalsPerSec = perSec(p.traffic.worker.Signals-p.trafficStart.worker.Signals, res.TrafficWindow)
		res.SignalsOpenPerSec = perSec(s1.worker.Signals-s0.worker.Signals, openWindow)
	} else {
		// Estimate: every event the emulator streamed during the window was
		// read by a listener; all but the end user's own echoes are signalled.
		res.SignalsPerSec = perSec(p.traffic.emu.EventsSent-p.trafficStart.emu.EventsSent, res.TrafficWindow)
		res.SignalsOpenPerSec = perSec(s1.emu.EventsSent-s0.emu.EventsSent, openWindow)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
