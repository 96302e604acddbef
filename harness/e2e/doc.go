// Package e2e holds end-to-end tests: real live-agent sessions on a real
// Temporal dev server (internal/devtemporal: a child process on loopback)
// against the MIAW emulator, with the production wiring (worker.Run,
// starter, the real workflow and activities). Nothing leaves 127.0.0.1.
//
// The first build of the dev server takes minutes; run with
//
//	go test ./harness/e2e/
package e2e
