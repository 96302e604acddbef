// Package e2e holds end-to-end tests: real live-agent sessions on a real
// Temporal server (go.temporal.io/server/temporaltest, in-process, loopback)
// against the MIAW emulator, with the production wiring (app.NewWorker,
// starter, the real workflow and activities). Nothing leaves 127.0.0.1.
//
// The first build links the Temporal server and takes minutes; run with
//
//	go test ./e2e/
package e2e
