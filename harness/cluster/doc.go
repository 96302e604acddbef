// Package cluster holds the tests of the production shape on one machine
// (internal/devcluster): a 2-node Temporal cluster on PostgreSQL with the
// bridge's own binaries (2 workers, the gateway, the MIAW emulator) on it. One
// full session runs through the gateway while a Temporal node is lost, and
// the fault soak runs at CI size with a node SIGKILL and a PostgreSQL restart
// on top of its emulator faults and worker kills.
//
// The tests skip in -short mode and when PostgreSQL is not installed, unless
// REQUIRE_POSTGRES=1 (CI), which makes a missing PostgreSQL a failure.
package cluster
