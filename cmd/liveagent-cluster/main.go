// Command liveagent-cluster starts the production shape on one machine,
// without Docker, and stops it all on Ctrl-C: PostgreSQL in a scratch
// directory on a loopback port, the temporal and temporal_visibility schemas,
// a Temporal cluster of 2 nodes (every service on each, SQL visibility), the
// Temporal Web UI, the namespace with the live-agent search attributes, then
// 2 workers, the gateway and the MIAW emulator with a scripted agent (package
// internal/devcluster). It is the twin of docker-compose.yml: the same
// config keys (LIVEAGENT_*, TEMPORAL_*) and ports.
//
//	go run ./cmd/liveagent-cluster
//	go run ./cmd/liveagent-cluster -no-bridge   # Temporal side only
//
// PostgreSQL comes from the system (Debian: apt-get install postgresql); when
// run as root it runs as the OS user liveagent-pg, created when missing.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devcluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("liveagent-cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dir       = fs.String("dir", "", "scratch directory for PostgreSQL and the logs (default: a new temporary one, removed on exit)")
		nodes     = fs.Int("nodes", 2, "Temporal nodes")
		portBase  = fs.Int("port-base", 7233, "node 0's frontend port; node i uses port-base+10i (gRPC) .. +8; all below 32768")
		pgPort    = fs.Int("pg-port", 55432, "PostgreSQL port (loopback only)")
		uiPort    = fs.Int("ui-port", 8080, "Temporal Web UI port")
		gateway   = fs.String("gateway", "127.0.0.1:8081", "gateway listen address")
		emulator  = fs.String("emulator", "127.0.0.1:8090", "MIAW emulator listen address")
		workers   = fs.Int("workers", 2, "worker processes")
		noBridge  = fs.Bool("no-bridge", false, "start only PostgreSQL, Temporal and the UI (no workers, gateway, emulator)")
		namespace = fs.String("namespace", "default", "Temporal namespace")
		logLevel  = fs.String("log-level", "warn", "Temporal nodes' log level: debug, info, warn, error")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liveagent-cluster: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *nodes < 1 || *portBase < 1024 || *portBase+10**nodes > 32767 {
		fmt.Fprintln(stderr, "liveagent-cluster: -port-base: nodes need ports port-base .. port-base+10×nodes, within 1024..32767")
		return 2
	}

	began := time.Now()
	fmt.Fprintln(stderr, "liveagent-cluster: starting PostgreSQL and a Temporal cluster (the first run builds the server: minutes)")
	c, err := devcluster.Start(ctx, devcluster.Options{
		Dir: *dir, Nodes: *nodes, PortBase: *portBase, PostgresPort: *pgPort,
		UIPort: *uiPort, Namespace: *namespace, LogLevel: *logLevel,
	})
	if err != nil {
		fmt.Fprintf(stderr, "liveagent-cluster: %v\n", err)
		return 1
	}
	defer func() {
		fmt.Fprintln(stderr, "liveagent-cluster: stopping")
		if err := c.Stop(); err != nil {
			fmt.Fprintf(stderr, "liveagent-cluster: stop: %v\n", err)
		}
	}()
	var b *devcluster.Bridge
	if !*noBridge {
		b, err = devcluster.StartBridge(ctx, c, devcluster.BridgeOptions{Workers: *workers, GatewayAddr: *gateway, EmulatorAddr: *emulator})
		if err != nil {
			fmt.Fprintf(stderr, "liveagent-cluster: %v\n", err)
			return 1
		}
		defer b.Stop()
	}

	fmt.Fprintf(stdout, "The production shape is up (%s):\n", time.Since(began).Round(time.Second))
	fmt.Fprintf(stdout, "  PostgreSQL       %s  (databases temporal, temporal_visibility)\n", c.PostgresAddress())
	for i, a := range c.FrontendAddresses() {
		fmt.Fprintf(stdout, "  Temporal node %d  %s  (log %s/node-%d.log)\n", i, a, c.Dir(), i)
	}
	fmt.Fprintf(stdout, "  Web UI           %s/namespaces/%s/workflows\n", c.UIAddress(), *namespace)
	fmt.Fprintf(stdout, "  TEMPORAL_ADDRESS=%s TEMPORAL_NAMESPACE=%s\n", c.Address(), *namespace)
	if b != nil {
		fmt.Fprintf(stdout, "  workers          %d  (logs in %s/bridge)\n", *workers, c.Dir())
		fmt.Fprintf(stdout, "  gateway          %s  (bearer token: $LIVEAGENT_GATEWAY_BEARER_TOKEN, or the one generated in %s)\n", b.GatewayURL, b.TokenFile)
		fmt.Fprintf(stdout, "  agent console    %s/emulator/console\n", b.EmulatorURL)
		fmt.Fprintf(stdout, "Try: curl -H \"Authorization: Bearer $(cat %s)\" -H 'Content-Type: application/json' -d '{\"userId\":\"u-42\",\"topic\":\"Payroll\",\"description\":\"Where is my payslip?\"}' %s/v1/sessions\n",
			b.TokenFile, b.GatewayURL)
	}
	fmt.Fprintln(stdout, "Ctrl-C stops everything.")
	<-ctx.Done()
	return 0
}
