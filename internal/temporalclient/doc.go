// Package temporalclient turns a validated *config.Config into a Temporal
// client for every binary of the bridge (worker, gateway, CLI, demo): address,
// namespace, TLS or API key, payload encryption from codec.* (every client
// and worker of a namespace must use the same keys), the operator-facing
// codec endpoint, and the session search attributes on a namespace.
//
// It links only the Temporal SDK, never the server.
package temporalclient
