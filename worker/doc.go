// Package worker runs the bridge's Temporal workers: Run turns a validated
// *config.Config into a Temporal client (payload encryption from codec.*,
// metrics), registers the session search attributes, builds the delivery
// sink and the MIAW client, and runs, until its context ends, the pair of
// workers of one bridge process: the session workflow with its short
// activities on workflows.TaskQueue and the SSE listeners on
// workflows.ListenerTaskQueue, each with its own slot budget.
//
// Every binary that runs a worker calls Run: the production worker
// (cmd/liveagent-worker), the demo and the end-to-end tests; the soak and the
// load benchmark run the production binary itself.
//
// It links only the Temporal SDK, never the server, so the production worker
// binary stays small.
package worker
