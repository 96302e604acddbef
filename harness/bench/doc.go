// Package bench is the load benchmark of the live-agent bridge (issue 5,
// "Load benchmark"): it opens N concurrent live-agent sessions on one
// machine and measures what they cost and how fast messages cross the bridge.
//
// One run builds, in one process tree:
//
//   - an embedded Temporal server (the dev server process, SQLite in memory by
//     default: see Options.DatabaseFile);
//   - the MIAW emulator (package miaw/emulator) with no faults, default SSE
//     ping interval, and a scripted agent that accepts every conversation at
//     once and never answers on its own (the benchmark sends agent messages
//     through the emulator's Go API);
//   - the production worker binary (./cmd/liveagent-worker) as a separate process,
//     configured through LIVEAGENT_* variables, delivering to a loopback
//     webhook receiver in this process, so its RSS and CPU come from
//     /proc/<pid>/status and /proc/<pid>/stat and are not mixed with the
//     server's;
//   - the driver: a Temporal client and a starter.Client, as an assistant
//     would use them.
//
// For every session count it measures the time to open all sessions (start
// → greeting delivered), worker RSS per open session, worker CPU, listener
// heartbeat and signal rates (the Temporal SDK's request counters from the
// worker's worker.metrics_listen endpoint; when the worker serves none, exact
// call counts from a transparent gRPC proxy between the worker and Temporal,
// which the report then states), access-token requests per minute as seen by
// the emulator (Salesforce allows 200 per minute per org), and the latency
// agent message → assistant webhook and user message → Salesforce (emulator)
// at p50/p95/p99.
//
// With a baseline it runs the same sessions through a plain non-durable
// bridge (one goroutine per session using the MIAW client directly: token,
// conversation, SSE stream → the same webhook sink; user messages straight to
// SendMessage) and reports the durable/baseline latency ratio.
//
// Every wait has a deadline: a size that cannot complete (too few token
// requests per minute for the deadline, a worker that falls over) is reported
// with what it reached and why, and every session is closed at the end.
//
// The command is cmd/loadbench; Run is the library entry point.
package bench
