// Package app is the wiring shared by the bridge's binaries (worker, CLI,
// gateway, demo, soak): it turns a validated *config.Config into Temporal
// client options, a logger, a delivery sink and a running pair of Temporal
// workers (the session workflow with its short activities on
// workflows.TaskQueue, the SSE listeners on workflows.ListenerTaskQueue, each
// with its own slot budget), and registers the session search attributes on
// a namespace.
//
// Cross-cutting concerns plug into the client through ClientOption:
// EncryptionOptions / WithEncryption switch on payload encryption from
// codec.* (package codec; every client and worker of a namespace must use the
// same keys), NewCodecHandler builds the operator-facing codec endpoint, and
// WithMetricsHandler plus RegisterWorkerMetrics feed one metrics.Registry per
// process with the Temporal SDK's metrics and the worker's liveagent_*
// counters.
//
// It links only the Temporal SDK, never the server, so the production worker
// binary stays small.
package app
