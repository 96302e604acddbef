// Package app is the wiring shared by the bridge's binaries (worker, CLI,
// demo, soak): it turns a validated *config.Config into Temporal client
// options, a logger, a delivery sink and a running pair of Temporal workers
// (the session workflow with its short activities on workflows.TaskQueue, the
// SSE listeners on workflows.ListenerTaskQueue, each with its own slot
// budget), and registers the session search attributes on a namespace.
//
// It links only the Temporal SDK, never the server, so the production worker
// binary stays small.
package app
