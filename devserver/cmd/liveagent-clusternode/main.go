// Command liveagent-clusternode is the server side of the production shape on
// one machine (internal/devcluster, cmd/liveagent-cluster start it): a Temporal
// cluster node on PostgreSQL, its schema setup, and the Temporal Web UI, each
// as a process of its own so that one node can be killed with SIGKILL.
//
//	liveagent-clusternode schema -pg 127.0.0.1:5432 -pg-user temporal
//	liveagent-clusternode node   -pg 127.0.0.1:5432 -pg-user temporal -port-base 7233
//	liveagent-clusternode ui     -port 8233 -frontend 127.0.0.1:7233
//
// The PostgreSQL password comes from $PGPASSWORD, never from a flag. node and
// ui print one JSON line on stdout once they serve (node:
// {"frontendAddress":…,"frontendHTTPAddress":…}; ui: {"uiAddress":…}) and
// run until SIGINT or SIGTERM, or, with -exit-with-stdin, until standard input
// closes (a parent that dies, even by SIGKILL, leaves nothing behind).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/devserver/internal/cli"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"

	"github.com/liveagent-bridge/liveagent/devserver"
	"github.com/liveagent-bridge/liveagent/devserver/clusternode"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: liveagent-clusternode schema|node|ui [flags]")
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("liveagent-clusternode "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		pg            clusternode.Postgres
		node          clusternode.NodeOptions
		logLevel      = fs.String("log-level", "warn", "lowest server log level written to stderr: debug, info, warn, error")
		startTimeout  = fs.Duration("start-timeout", 3*time.Minute, "how long to wait for the node or UI to serve")
		exitWithStdin = fs.Bool("exit-with-stdin", false, "stop when standard input closes (for a parent process)")
		dynamic       = cli.DynamicConfig{}
		uiPort        = fs.Int("port", 8233, "ui: Web UI port")
		uiFrontend    = fs.String("frontend", "127.0.0.1:7233", "ui: frontend gRPC address the UI calls")
		uiNamespace   = fs.String("namespace", "default", "ui: namespace shown first")
		uiCodec       = fs.String("codec-endpoint", "", "ui: remote codec endpoint the UI decodes payloads through")
		shards        = fs.Int("history-shards", 4, "node: history shards (the same on every node, fixed once the database exists)")
	)
	fs.StringVar(&pg.Addr, "pg", "127.0.0.1:5432", "schema, node: PostgreSQL host:port")
	fs.StringVar(&pg.User, "pg-user", "temporal", "schema, node: PostgreSQL user (password: $PGPASSWORD)")
	fs.StringVar(&node.IP, "ip", "127.0.0.1", "node, ui: address to bind and announce")
	fs.IntVar(&node.PortBase, "port-base", 7233, "node: frontend gRPC port; HTTP +1, history +2, matching +3, worker +4, membership +5..+8")
	fs.Var(dynamic, "dynamic-config", "node: server dynamic config `key=json-value` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liveagent-clusternode: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "liveagent-clusternode: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	serverLog := devserver.NewServerLogger(log, level)
	pg.Password = os.Getenv("PGPASSWORD")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *exitWithStdin {
		ctx = cli.UntilEOF(ctx, stdin)
	}
	startCtx, cancel := context.WithTimeout(ctx, *startTimeout)
	defer cancel()

	switch cmd {
	case "schema":
		if err := clusternode.SetupSchema(pg, serverLog); err != nil {
			fmt.Fprintf(stderr, "liveagent-clusternode schema: %v\n", err)
			return 1
		}
		return 0
	case "node":
		node.Postgres = pg
		node.NumHistoryShards = int32(*shards)
		node.DynamicConfig = dynamic
		node.Logger = serverLog
		srv, err := clusternode.StartNode(startCtx, node)
		if err != nil {
			fmt.Fprintf(stderr, "liveagent-clusternode node: %v\n", err)
			return 1
		}
		printReady(stdout, map[string]string{"frontendAddress": node.FrontendAddress(), "frontendHTTPAddress": node.FrontendHTTPAddress()})
		<-ctx.Done()
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(stderr, "liveagent-clusternode node: stop: %v\n", err)
		}
		return 0
	case "ui":
		return runUI(ctx, startCtx, uiconfig.Config{
			Host:                node.IP,
			Port:                *uiPort,
			TemporalGRPCAddress: *uiFrontend,
			EnableUI:            true,
			DefaultNamespace:    *uiNamespace,
			Codec:               uiconfig.Codec{Endpoint: *uiCodec},
			CORS:                uiconfig.CORS{CookieInsecure: true},
			HideLogs:            true,
			DisableNewsFetch:    true,
		}, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "liveagent-clusternode: unknown command %q (schema, node, ui)\n", cmd)
		return 2
	}
}

// runUI serves the Web UI until ctx ends.
func runUI(ctx, startCtx context.Context, conf uiconfig.Config, stdout, stderr io.Writer) int {
	addr := net.JoinHostPort(conf.Host, strconv.Itoa(conf.Port))
	// The UI server exits the process when it cannot bind: check first.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "liveagent-clusternode ui: %v\n", err)
		return 1
	}
	_ = l.Close()
	ui := uiserver.NewServer(uiserveroptions.WithConfigProvider(&conf))
	go func() {
		if err := ui.Start(); err != nil {
			fmt.Fprintf(stderr, "liveagent-clusternode ui: %v\n", err)
		}
	}()
	defer ui.Stop()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-startCtx.Done():
			fmt.Fprintf(stderr, "liveagent-clusternode ui: not serving: %v\n", err)
			return 1
		case <-time.After(100 * time.Millisecond):
		}
	}
	printReady(stdout, map[string]string{"uiAddress": "http://" + addr})
	<-ctx.Done()
	return 0
}

func printReady(w io.Writer, v map[string]string) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s\n", b)
}
