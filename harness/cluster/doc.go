// Package cluster holds the tests of the production shape on one machine
// (internal/devcluster): a 2-node Temporal cluster on PostgreSQL with the
// bridge's own binaries (2 workers, the gateway, the MIAW emulator) on it. One
// full session runs through the gateway while a Temporal node is lost, and
// the fault soak runs at CI size with a node SIGKILL and a PostgreSQL restart
// on top of its emulator faults and worker kills.
//
// The tests run only with REQUIRE_POSTGRES=1, which also makes a missing
// PostgreSQL a failure, and never in -short mode. CI runs them in a step of
// their own after the rest of the suite (.ci/run).
package cluster
