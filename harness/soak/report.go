package soak

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a soak run.
type Report struct {
	Seed                 int64
	Sessions             int // sessions scripted
	SessionsStarted      int
	MessagesPerDirection int // text messages per side per session (+1 attachment each)
	// Transport is how the worker reached the emulator; WorkflowCache the
	// worker's workflow cache size (0 = the SDK default).
	Transport     string
	WorkflowCache int
	TokenRPM      int // the worker's token budget per minute

	// UserToAgent compares, per session, the end-user entries in the
	// emulator transcript with what the user sent: the description (the
	// conversation's first message), the messages and the attachment.
	UserToAgent SequenceDiff
	// AgentToUser compares the agent messages delivered to the webhook (one
	// per distinct delivery id) with what the agent sent: messages and the
	// attachment.
	AgentToUser SequenceDiff
	UserSent    int // user texts + files acknowledged by the workflow
	AgentSent   int // agent texts + files sent through the emulator

	AttachmentsSent int // both ways
	AttachmentsOK   int // arrived exactly once with the right sha256

	SessionsEnded int // workflow Completed with the expected close reason
	SFClosed      int // emulator conversation closed
	ClosedNotices int // sessions whose user got exactly one "session closed" delivery

	WorkerStarts  int
	WorkerKills   int // SIGKILLs by the chaos loop
	WorkerCrashes int // worker exits the driver did not cause
	KillsRequired int
	UpdateRetries int // user requests retried with the same id

	WebhookPosts            int
	WebhookRedeliveries     int // same delivery id posted again (allowed)
	WebhookInjectedFailures int // deliveries answered 503 after recording
	WebhookBadSignatures    int
	WebhookMalformed        int
	WebhookKeyMismatches    int // Idempotency-Key header != delivery id
	WebhookOutageRefusals   int // deliveries refused during Options.WebhookOutage

	// Faults are the emulator's counters (requests, faults injected per
	// kind, tokens, streams, events), flattened from emulator.Stats.
	Faults map[string]int64
	// TokenExpiryRequired says the emulator expired tokens early: then at
	// least one stream must have ended at its token's expiry
	// (Faults[expiredStreamsCounter]), or the fault was never exercised.
	TokenExpiryRequired bool

	// ClusterFaults are the server-side faults of a run on a cluster, with
	// the longest delay of a message in flight during each;
	// ClusterFaultsRequired says they were asked for (all must have run).
	ClusterFaults         []FaultDelay
	ClusterFaultsRequired bool
	// WorkerKillDelays are the worker SIGKILLs, each with the longest delay
	// of a message in flight, and of one that met no other kill (reported,
	// not bounded: with one worker the next starts after a random pause,
	// and a loaded machine stretches it).
	WorkerKillDelays []FaultDelay

	Duration time.Duration
	WorkDir  string // kept after a failed run, or one slow across a worker kill
	// Problems lists what went wrong, at most a few per session.
	Problems []string
}

// OK reports whether the soak proved its promise: nothing lost, duplicated,
// reordered or invented either way, every attachment intact, every session
// ended and every Salesforce conversation closed, every signature valid, and
// the required worker kills happened, with no worker exit the soak did not
// cause.
func (r *Report) OK() bool {
	return r.SessionsStarted == r.Sessions &&
		r.UserToAgent.Clean() && r.AgentToUser.Clean() &&
		r.AttachmentsOK == r.AttachmentsSent &&
		r.SessionsEnded == r.Sessions && r.SFClosed == r.Sessions && r.ClosedNotices == r.Sessions &&
		r.WebhookBadSignatures == 0 && r.WebhookMalformed == 0 &&
		r.WorkerKills >= r.KillsRequired && r.WorkerCrashes == 0 &&
		(!r.TokenExpiryRequired || r.Faults[expiredStreamsCounter] > 0) &&
		r.clusterFaultsOK() &&
		len(r.Problems) == 0
}

// expiredStreamsCounter is the emulator counter of streams ended at their
// token's expiry (emulator.Stats.ExpiredStreams).
const expiredStreamsCounter = "ExpiredStreams"

func (r *Report) clusterFaultsOK() bool {
	if r.ClusterFaultsRequired && len(r.ClusterFaults) != 3 {
		return false
	}
	for _, f := range r.ClusterFaults {
		if !f.OK() {
			return false
		}
	}
	return true
}

// String renders the report as a table.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}

// WriteTo writes the report table to w.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	tw := tabwriter.NewWriter(cw, 0, 0, 2, ' ', 0)
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(tw, "soak %s (seed %d, %s)\n", verdict, r.Seed, r.Duration.Round(time.Second))
	fmt.Fprintf(tw, "sessions\t%d scripted, %d started, %d ended (expected close reason), %d SF conversations closed, %d users told once it closed\n",
		r.Sessions, r.SessionsStarted, r.SessionsEnded, r.SFClosed, r.ClosedNotices)
	fmt.Fprintf(tw, "messages per session\t%d each way + 1 attachment each way (+ the description user→agent)\n", r.MessagesPerDirection)
	cache := "SDK default"
	if r.WorkflowCache > 0 {
		cache = fmt.Sprint(r.WorkflowCache)
	}
	tokens := ""
	if r.TokenRPM > 0 && r.TokenRPM != SalesforceTokenBudget {
		tokens = fmt.Sprintf(", token budget %d/min (Salesforce allows %d)", r.TokenRPM, SalesforceTokenBudget)
	}
	fmt.Fprintf(tw, "worker\t%s, workflow cache %s%s\n", r.Transport, cache, tokens)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "\tuser→agent\tagent→user")
	fmt.Fprintf(tw, "sent\t%d\t%d\n", r.UserSent, r.AgentSent)
	fmt.Fprintf(tw, "expected (checked)\t%d\t%d\n", r.UserToAgent.Expected, r.AgentToUser.Expected)
	fmt.Fprintf(tw, "received\t%d\t%d\n", r.UserToAgent.Received, r.AgentToUser.Received)
	fmt.Fprintf(tw, "lost\t%d\t%d\n", r.UserToAgent.Lost, r.AgentToUser.Lost)
	fmt.Fprintf(tw, "duplicated\t%d\t%d\n", r.UserToAgent.Duplicated, r.AgentToUser.Duplicated)
	fmt.Fprintf(tw, "out of order\t%d\t%d\n", r.UserToAgent.OutOfOrder, r.AgentToUser.OutOfOrder)
	fmt.Fprintf(tw, "unexpected\t%d\t%d\n", r.UserToAgent.Unexpected, r.AgentToUser.Unexpected)
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "attachments\t%d/%d intact, exactly once\n", r.AttachmentsOK, r.AttachmentsSent)
	fmt.Fprintf(tw, "worker\t%d SIGKILLs (required ≥ %d), %d starts, %d unexpected exits\n",
		r.WorkerKills, r.KillsRequired, r.WorkerStarts, r.WorkerCrashes)
	if r.TokenExpiryRequired && r.Faults[expiredStreamsCounter] == 0 {
		fmt.Fprintf(tw, "token expiry\tno stream ended at its token's expiry (required: the fault was never exercised)\n")
	}
	if line := killDelaySummary(r.WorkerKillDelays); line != "" {
		fmt.Fprintf(tw, "delays across kills\t%s\n", line)
	}
	if line := resumeSummary(r.WorkerKillDelays); line != "" {
		fmt.Fprintf(tw, "streams back after kills\t%s\n", line)
	}
	for _, f := range r.ClusterFaults {
		line := fmt.Sprintf("%d messages in flight, longest %s", f.Messages, f.MaxDelay.Round(time.Millisecond))
		if f.Bound > 0 {
			line += fmt.Sprintf(" (bound %s)", f.Bound)
		}
		if f.RepairError != "" {
			line += "; NOT REPAIRED: " + f.RepairError
		}
		if f.Slowest != "" {
			line += "; slowest " + f.Slowest
		}
		fmt.Fprintf(tw, "%s at +%s\t%s\n", f.Fault, f.Offset.Round(time.Second), line)
	}
	if r.ClusterFaultsRequired && len(r.ClusterFaults) != 3 {
		fmt.Fprintf(tw, "cluster faults\t%d of 3 ran\n", len(r.ClusterFaults))
	}
	fmt.Fprintf(tw, "user requests retried (same id)\t%d\n", r.UpdateRetries)
	fmt.Fprintf(tw, "webhook\t%d posts, %d same-id redeliveries, %d injected 503s, %d bad signatures, %d malformed, %d idempotency-key mismatches\n",
		r.WebhookPosts, r.WebhookRedeliveries, r.WebhookInjectedFailures, r.WebhookBadSignatures, r.WebhookMalformed, r.WebhookKeyMismatches)
	if r.WebhookOutageRefusals > 0 {
		fmt.Fprintf(tw, "assistant outage\t%d deliveries refused\n", r.WebhookOutageRefusals)
	}
	if len(r.Faults) > 0 {
		keys := make([]string, 0, len(r.Faults))
		for k := range r.Faults {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(tw, "emulator\t")
		for _, k := range keys {
			fmt.Fprintf(tw, "  %s\t%d\n", k, r.Faults[k])
		}
	}
	fmt.Fprintf(tw, "duration\t%s\n", r.Duration.Round(time.Millisecond))
	if r.WorkDir != "" {
		fmt.Fprintf(tw, "work dir (kept)\t%s\n", r.WorkDir)
	}
	if err := tw.Flush(); err != nil {
		return cw.n, err
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(cw, "\nproblems (%d):\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(cw, "  - %s\n", p)
		}
	}
	return cw.n, cw.err
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// flattenCounters turns a stats struct (nested structs, integer fields and
// maps of integers) into name → value, e.g. "Faults.Throttled" → 12.
func flattenCounters(v any) map[string]int64 {
	out := make(map[string]int64)
	flattenValue(reflect.ValueOf(v), "", out)
	return out
}

func flattenValue(v reflect.Value, prefix string, out map[string]int64) {
	join := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			flattenValue(v.Elem(), prefix, out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).IsExported() {
				flattenValue(v.Field(i), join(t.Field(i).Name), out)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			flattenValue(v.MapIndex(k), join(fmt.Sprint(k.Interface())), out)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		out[prefix] = v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		out[prefix] = int64(v.Uint())
	}
}

// resumeSummary is one line on how soon the streams the worker kills cut
// came back: how many, and the longest wait, with its kill.
func resumeSummary(kills []FaultDelay) string {
	n, worst := 0, -1
	for i, k := range kills {
		n += k.StreamsResumed
		if k.StreamsResumed > 0 && (worst < 0 || k.MaxResume > kills[worst].MaxResume) {
			worst = i
		}
	}
	if worst < 0 {
		return ""
	}
	k := kills[worst]
	each := make([]string, len(kills))
	for i, k := range kills {
		each[i] = k.MaxResume.Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("%d streams cut by %d kills, longest back after %s (aim %s; kill at +%s, user %s); per kill: %s",
		n, len(kills), k.MaxResume.Round(time.Millisecond), workerKillDelayBound, k.Offset.Round(time.Second), k.SlowestResume,
		strings.Join(each, " "))
}

// killDelaySummary is one line on the delays across worker kills: messages
// in flight and the longest delay, with its kill.
func killDelaySummary(kills []FaultDelay) string {
	if len(kills) == 0 {
		return ""
	}
	n, worst := 0, -1
	for i, k := range kills {
		n += k.Messages
		if worst < 0 || k.MaxDelay > kills[worst].MaxDelay {
			worst = i
		}
	}
	k := kills[worst]
	line := fmt.Sprintf("%d messages in flight across %d kills, longest %s (kill at +%s; %s)",
		n, len(kills), k.MaxDelay.Round(time.Millisecond), k.Offset.Round(time.Second), k.Slowest)
	if a, ok := slowestKillAlone(kills); ok {
		line += fmt.Sprintf("; of those that met one kill only, longest %s (kill at +%s; %s)",
			a.MaxDelayAlone.Round(time.Millisecond), a.Offset.Round(time.Second), a.SlowestAlone)
	}
	return line
}
