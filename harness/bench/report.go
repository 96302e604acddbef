package bench

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// Setup describes the machine and the knobs of a run.
type Setup struct {
	CPUs        int
	GoVersion   string
	Database    string
	Concurrency int
	Samples     int
	SampleRate  float64
	Hold        time.Duration
	TokenRPM    int
	// TokenLimitLifted: TokenRPM is above Salesforce's 200 per minute
	// (Options.LiftTokenLimit).
	TokenLimitLifted bool
	// ListenerHeartbeatTimeout of the sessions (listeners heartbeat every third).
	ListenerHeartbeatTimeout time.Duration
	// ListenerShards is session.listener_shards (0: a listener per session).
	ListenerShards int
	WorkerBinary   string
	ListenerSlots  int
	ActivitySlots  int
	HistoryCache   int
	RPCProxy       bool // the worker reached Temporal through the counting proxy
	// HTTPS: the emulator served TLS, so streams shared HTTP/2 connections.
	HTTPS bool
	// WorkflowCacheSize is the worker's workflow cache (worker.workflow_cache_size).
	WorkflowCacheSize int
}

// Row is one session count: the durable bridge and, with -baseline, the
// plain one.
type Row struct {
	Sessions int
	Durable  *PhaseResult
	Baseline *PhaseResult
	// BaselineSkipped says why the baseline did not run at this size.
	BaselineSkipped string
}

// Report is the outcome of Run.
type Report struct {
	Setup         Setup
	Rows          []Row
	TokenRequests int64 // access tokens the emulator issued in the whole run
	TokenMax60s   int64 // most in any 60s window of the whole run
	Duration      time.Duration
	Interrupted   bool
	WorkDir       string // kept when something went wrong (logs)
}

// problems reports whether any size did not complete cleanly.
func (r *Report) problems() bool {
	if r.Interrupted {
		return true
	}
	for _, row := range r.Rows {
		for _, p := range []*PhaseResult{row.Durable, row.Baseline} {
			if p == nil {
				continue
			}
			if !p.OpenComplete || p.CloseErrors > 0 || len(p.Notes) > 0 ||
				p.AgentToUser.Lost+p.AgentToUser.Errors+p.UserToAgent.Lost+p.UserToAgent.Errors > 0 {
				return true
			}
		}
	}
	return false
}

func secs(d time.Duration) string {
	switch {
	case d >= 100*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

func openCell(p *PhaseResult) string {
	if p.OpenComplete {
		return secs(p.OpenTime)
	}
	return fmt.Sprintf("**incomplete**: %d/%d in %s", p.Opened, p.Sessions, secs(p.OpenTime))
}

func rate(v float64) string {
	if v < 0 {
		return "n/a"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func tokenCell(v int64) string {
	mark := "✓ <200"
	if v >= salesforceTokenCap {
		mark = "✗ ≥200"
	}
	return fmt.Sprintf("%d %s", v, mark)
}

func latencyCell(l Latency) string {
	s := l.String()
	if l.Lost+l.Errors > 0 {
		s += fmt.Sprintf(" (%d lost, %d err)", l.Lost, l.Errors)
	}
	return s
}

func ratioCell(d, b Latency) string {
	if d.Samples == 0 || b.Samples == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s / %s / %s", ratio(d.P50, b.P50), ratio(d.P95, b.P95), ratio(d.P99, b.P99))
}

// WriteMarkdown writes the main table, a per-phase detail table and the
// notes.
func (r *Report) WriteMarkdown(w io.Writer) {
	var b strings.Builder
	s := r.Setup
	fmt.Fprintf(&b, "Load benchmark: %d CPUs, %s, Temporal on %s, MIAW emulator (no faults, SSE ping 30s), worker as a separate process "+
		"(listener slots %d, activity slots %d), %d sessions opening at once, %d latency samples per direction at %.0f/s, hold %s, "+
		"token limit %d/min per client, %s, devserver history cache %d, %s, %s.\n\n",
		s.CPUs, s.GoVersion, s.Database, s.ListenerSlots, s.ActivitySlots, s.Concurrency, s.Samples, s.SampleRate, s.Hold, s.TokenRPM,
		s.listeners(), s.HistoryCache, s.transport(), s.workflowCache())
	if s.TokenLimitLifted {
		fmt.Fprintf(&b, "**The access-token limit was lifted to %d/min for this run** (Salesforce allows %d per minute per org): "+
			"at the real limit, opening N sessions takes at least N/%d minutes (1,000: 5 min; 11,000: 55 min).\n\n",
			s.TokenRPM, salesforceTokenCap, salesforceTokenCap)
	}
	if s.RPCProxy {
		b.WriteString("The worker exported no Temporal SDK request counters, so it reached Temporal through a transparent counting gRPC proxy " +
			"(one extra loopback hop per worker call, included in the durable latencies); heartbeats and signals are exact call counts.\n\n")
	}

	b.WriteString("| N | open time | worker RSS/session | worker CPU s | heartbeats/s | signals/s | token req/min (max 60 s) | agent→user p50/p95/p99 | user→agent p50/p95/p99 | baseline agent→user p50/p95/p99 | baseline user→agent p50/p95/p99 | ratio agent→user p50/p95/p99 | ratio user→agent p50/p95/p99 |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---|---|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		d := row.Durable
		if d == nil {
			continue
		}
		sig := rate(d.SignalsPerSec)
		if d.RatesSource == "" {
			sig = "≈" + sig
		}
		tok := tokenCell(d.TokenMax60s)
		bA2U, bU2A, rA2U, rU2A := "—", "—", "—", "—"
		if bl := row.Baseline; bl != nil {
			bA2U, bU2A = latencyCell(bl.AgentToUser), latencyCell(bl.UserToAgent)
			rA2U, rU2A = ratioCell(d.AgentToUser, bl.AgentToUser), ratioCell(d.UserToAgent, bl.UserToAgent)
			tok = fmt.Sprintf("%s (baseline %d)", tok, bl.TokenMax60s)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			row.Sessions, openCell(d), kib(d.RSSPerSession), d.CPUTotal.Seconds(), rate(d.HeartbeatsPerSec), sig, tok,
			latencyCell(d.AgentToUser), latencyCell(d.UserToAgent), bA2U, bU2A, rA2U, rU2A)
	}

	b.WriteString("\nDetails per phase:\n\n")
	b.WriteString("| N | bridge | greeted | open time | start→greeting p50 / p99 | tokens (max 60 s) | worker RSS idle → open (peak) | threads | worker CPU s open / traffic / hold / total | server+emulator+driver CPU s | signals/s open / traffic | heartbeats/s hold | closed | close time | load avg |\n")
	b.WriteString("|---:|---|---:|---:|---|---|---|---:|---|---:|---|---:|---:|---:|---:|\n")
	for _, row := range r.Rows {
		for _, p := range []*PhaseResult{row.Durable, row.Baseline} {
			if p == nil {
				continue
			}
			rss, threads, cpu, sig, hb := "— (in-process)", "—", "—", "— (no signals)", "—"
			if p.Bridge == BridgeDurable {
				rss = fmt.Sprintf("%s → %s (%s)", mib(p.WorkerIdleRSS), mib(p.WorkerRSS), mib(p.WorkerPeakRSS))
				threads = fmt.Sprint(p.WorkerThreads)
				cpu = fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", p.CPUOpen.Seconds(), p.CPUTraffic.Seconds(), p.CPUHold.Seconds(), p.CPUTotal.Seconds())
				src := " (" + p.RatesSource + ")"
				if p.RatesSource == "" {
					src = " (≈ emulator events)"
				}
				sig = fmt.Sprintf("%s / %s%s", rate(p.SignalsOpenPerSec), rate(p.SignalsPerSec), src)
				hb = rate(p.HeartbeatsPerSec)
			}
			fmt.Fprintf(&b, "| %d | %s | %d/%d | %s | %s / %s | %d (%d) | %s | %s | %s | %.1f | %s | %s | %d/%d | %s | %.1f |\n",
				p.Sessions, p.Bridge, p.Opened, p.Sessions, secs(p.OpenTime), ms(p.OpenP50), ms(p.OpenP99),
				p.TokenRequests, p.TokenMax60s, rss, threads, cpu, p.DriverCPU.Seconds(), sig, hb, p.Closed, p.Sessions, secs(p.CloseTime), p.LoadAvg)
		}
	}

	for _, row := range r.Rows {
		d := row.Durable
		if d == nil || d.HeapPerSession == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nWorker memory at N=%d: Go heap in use %s, %.1f goroutines with %s of stacks per open session (RSS %s)",
			d.Sessions, kib(d.HeapPerSession), d.GoroutinesPerSession, kib(d.StackPerSession), kib(d.RSSPerSession))
		if d.HeapProfile != "" {
			fmt.Fprintf(&b, "; heap profile %s", d.HeapProfile)
		}
		b.WriteString(".\n")
		if len(d.HeapTop) > 0 {
			b.WriteString("\n```\n" + strings.Join(d.HeapTop, "\n") + "\n```\n")
		}
	}

	for _, row := range r.Rows {
		if d := row.Durable; d != nil && d.History.Messages > 0 {
			fmt.Fprintf(&b, "\nHistory at N=%d: %.1f events per brokered message (%d events for %d messages, both ways, receipts included, in %d sampled sessions).\n",
				d.Sessions, d.History.PerMessage(), d.History.Events, d.History.Messages, d.History.Sessions)
		}
	}

	fmt.Fprintf(&b, "\nWhole run: %s, %d access tokens issued, at most %d in any 60 s window (Salesforce allows %d per minute per org).\n",
		secs(r.Duration), r.TokenRequests, r.TokenMax60s, salesforceTokenCap)
	var notes []string
	for _, row := range r.Rows {
		for _, p := range []*PhaseResult{row.Durable, row.Baseline} {
			if p == nil {
				continue
			}
			if p.OpenNote != "" {
				notes = append(notes, fmt.Sprintf("N=%d %s: %s", p.Sessions, p.Bridge, p.OpenNote))
			}
			for _, n := range p.Notes {
				notes = append(notes, fmt.Sprintf("N=%d %s: %s", p.Sessions, p.Bridge, n))
			}
		}
	}
	for _, row := range r.Rows {
		if row.BaselineSkipped != "" {
			notes = append(notes, fmt.Sprintf("N=%d baseline %s", row.Sessions, row.BaselineSkipped))
		}
	}
	if r.Interrupted {
		notes = append(notes, "the run was interrupted; sizes after the last row were not measured")
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	if r.WorkDir != "" {
		fmt.Fprintf(&b, "\nLogs kept in %s\n", r.WorkDir)
	}
	io.WriteString(w, b.String())
}

// Incomplete reports whether a size did not open all its sessions, lost
// latency samples, failed to close sessions, or the run was interrupted.
func (r *Report) Incomplete() bool { return r.problems() }

// listeners says how the sessions' SSE streams were held.
func (s Setup) listeners() string {
	if s.ListenerShards > 0 {
		return fmt.Sprintf("%d listener shards (one heartbeat every %s each, whatever the sessions)", s.ListenerShards, (workflows.ShardHeartbeatTimeout / 3).Round(100*time.Millisecond))
	}
	return fmt.Sprintf("a listener per session (heartbeat timeout %s, a heartbeat every third)", s.ListenerHeartbeatTimeout)
}

// transport says how the worker reached the emulator.
func (s Setup) transport() string {
	if s.HTTPS {
		return "emulator over HTTPS (streams share HTTP/2 connections)"
	}
	return "emulator over plain HTTP (an HTTP/1.1 connection per stream)"
}

// workflowCache says how many workflows the worker kept in memory.
func (s Setup) workflowCache() string {
	if s.WorkflowCacheSize == 0 {
		return "worker workflow cache: the SDK default (10,000)"
	}
	return fmt.Sprintf("worker workflow cache: %d workflows (idle sessions beyond it replay at their next event)", s.WorkflowCacheSize)
}
