// Package devserver runs a complete Temporal server inside the current
// process, backed by SQLite (in memory or in a file), with the Temporal Web UI
// on a local port and the live-agent custom search attributes already
// registered on its namespace.
//
// It exists for development, the one-command demo and tests only: SQLite
// persistence is not supported by Temporal for production use, and linking the
// server adds well over 150 MiB and ~1,800 packages to a binary. The
// production worker and gateway binaries connect to a real Temporal cluster
// (or Temporal Cloud) and must never import this package.
//
// The setup follows the Temporal CLI's dev server (temporal server
// start-dev): a config.Config built in code, temporal.NewServer with static
// hosts, and github.com/temporalio/ui-server serving the compiled UI assets
// embedded in its Go module, so everything works offline.
package devserver
