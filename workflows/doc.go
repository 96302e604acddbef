// Package workflows owns the live-agent session: one durable Temporal
// workflow (SessionWorkflow, registered as WorkflowName) per user handed over
// from the AI assistant to a human agent in Salesforce Enhanced Messaging.
//
// The package does no I/O. It schedules activities by name (Activity* in
// activities.go) with the input types declared in api.go, so it imports
// nothing that talks to the network. SessionActivities and Listener give
// their signatures; RegisterActivities and RegisterListener are the one
// table from those names to an implementation (package activities in
// production, internal/sessionfakes in tests and the history recorder).
// api.go and activities.go are the contract shared with the activities, the
// worker and the starter.
//
// # Lifecycle
//
// session.go tells it in order: validate the request → record the user's
// SSE stream position → create the Salesforce conversation with the routing
// attributes (user id and topic) → send the description as the first
// message → start the SSE listener from the recorded position (own task
// queue, heartbeats, unlimited retries) → wait for an agent with a durable
// timer, showing queue position and estimated wait → on accept greet the
// user and send the messages kept while waiting, in order → broker both ways
// until either side closes (or the accept timer fires, routing fails, the
// listener fails or the workflow is cancelled; a transfer that fails, or
// that no agent joins within the transfer timeout, puts the user back in the
// queue) → always tell the user why,
// end and close the Salesforce side, deliver the close, and ask the listener
// to stop without waiting for it.
//
// The session's place in that story is one value, its phase (phase.go):
// new → creating → waiting → greeting → active ⇄ transferring → closing →
// closed. The assistant sees the coarser State derived from it. A side that
// ends the session records why (user close outranks agent end, which
// outranks a routing failure; an accept cancels a routing failure; before
// any accept, Salesforce's end with a routing failure is a routing failure,
// and its end of a session it marked Inactive closes it as idle), and the
// run closes for that reason at its next step. sender.go owns the outbox and
// the one coroutine that sends user input in order.
//
// User input arrives as Updates (UpdateSendMessage, UpdateSendAttachment,
// UpdateClose) whose validators reject bad input without writing history. The
// assistant's message id is the idempotency key and maps deterministically to
// the MIAW message id, so a retried update never sends twice. Agent events
// arrive as SignalAgentEvent; an entry id already handled is dropped.
// presence.go relays typing (UpdateTyping) and receipts (UpdateReceipts) to
// Salesforce and the agent's receipts to the assistant (DeliverReceipt);
// listenerdelivery.go lets the listener deliver most of those, and the
// agent's typing, itself, after asking QueryListenerDelivery, so they cost
// no history.
// QueryState returns the state and transcript. Typed search attributes and
// the current details make each session easy to find in the Temporal Web UI.
// When Temporal suggests it, the run drains in-flight handlers and buffered
// signals and continues as new, carrying state, the SSE cursor and the seen
// ids in Carry.
//
// The workflow emits its metrics (Metric* in metrics.go: accept latency,
// accept timeouts, duplicate agent events dropped, sessions closed by reason)
// through workflow.GetMetricsHandler, which emits nothing during replay and
// writes no history, so adding or changing a metric is replay-safe.
//
// # Changing the workflow safely
//
// Running sessions replay their history on every worker restart, so the code
// must make the same decisions in the same order as the code that recorded
// the history. Twenty changes are patched so far; versions.go names each
// once, with what it changed and which recorded histories predate it, asks
// its workflow.GetVersion there and keeps the legacy branch next to it. The
// histories recorded before each are kept: v0-*.json to v4-*.json for the
// sessions, v5-shard-*.json for a listener shard that continued as new on
// the session task queue (changeShardTaskQueue moved shards to their own),
// v6-*.json for the sessions before changeListenerPresence.
// A change that adds, removes or reorders activities, timers, side effects,
// search attribute upserts or continue-as-new must be guarded there with
//
//	if workflow.GetVersion(ctx, "short-change-id", workflow.DefaultVersion, 1) == 1 {
//		// new behaviour
//	} else {
//		// old behaviour, kept until no running session needs it
//	}
//
// (or deployed with Worker Versioning). Names in api.go (workflow, updates,
// signal, query, activities, search attributes) are persisted: never rename
// them. Changes to handlers' pure logic (texts, validation) are replay-safe.
//
// # Replay tests and how to record a new history
//
// replay_test.go replays every testdata/histories/*.json against the current
// code and fails if the directory is empty; a second test proves the replayer
// rejects a deliberately non-deterministic variant. After an intentional
// (versioned) change, or to cover a new path, record the histories again from
// the module root:
//
//	go run ./cmd/recordhistories
//
// The program starts the Temporal dev server (internal/devtemporal), runs the
// real workflow with the in-memory activities of internal/sessionfakes (the
// ones the workflow tests use), drives each scenario (accepted with messages
// and attachments, accept timeout, user close, transfer, continue-as-new)
// and writes the histories in the same JSON format
// as `temporal workflow show --output json`. To add a scenario, add a method
// to its driver and list it in scenarios (or, for a listener shard that must
// continue as new, in shardScenarios: their server suggests it after a few
// events). Keep old histories that still matter for
// running sessions (rename them first, e.g. v0-accepted.json) so the replay test
// keeps proving compatibility with them. The data is synthetic; never commit
// a history exported from production, it contains user messages.
package workflows
