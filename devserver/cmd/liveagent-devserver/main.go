// Command liveagent-devserver runs the embedded Temporal dev server (package
// devserver: SQLite, all services in one process, the Web UI, the live-agent
// search attributes registered) as a process of its own, for development, the
// demo and the tests. It is this project's `temporal server start-dev`.
//
// Once the server and the UI answer it prints one JSON line on stdout, a
// devtemporal.Ready, and then runs until SIGINT or SIGTERM, or, with
// -exit-with-stdin, until its standard input closes (so a parent that dies,
// even by SIGKILL, never leaves a server behind).
//
//	go run ./devserver/cmd/liveagent-devserver -port 7233 -ui-port 8233
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/devserver/internal/cli"

	"github.com/liveagent-bridge/liveagent/devserver"
	"github.com/liveagent-bridge/liveagent/internal/devtemporal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("liveagent-devserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts          devserver.Options
		logLevel      = fs.String("log-level", "warn", "lowest server log level written to stderr: debug, info, warn, error")
		startTimeout  = fs.Duration("start-timeout", 2*time.Minute, "how long to wait for the server and UI to answer")
		exitWithStdin = fs.Bool("exit-with-stdin", false, "stop when standard input closes (for a parent process)")
		dynamic       = cli.DynamicConfig{}
	)
	fs.StringVar(&opts.Namespace, "namespace", "default", "namespace created on start")
	fs.StringVar(&opts.IP, "ip", "127.0.0.1", "address the frontend and UI listen on")
	fs.IntVar(&opts.FrontendPort, "port", 0, "frontend gRPC port (0 = a free port)")
	fs.IntVar(&opts.FrontendHTTPPort, "http-port", 0, "frontend HTTP API port (0 = a free port)")
	fs.IntVar(&opts.UIPort, "ui-port", 0, "Web UI port (0 = a free port)")
	fs.BoolVar(&opts.NoUI, "no-ui", false, "do not serve the Web UI")
	fs.StringVar(&opts.UICodecEndpoint, "ui-codec-endpoint", "", "remote codec endpoint the Web UI decodes payloads through")
	fs.StringVar(&opts.DatabaseFile, "db", "", "SQLite file to persist to (empty = in memory)")
	fs.Var(dynamic, "dynamic-config", "server dynamic config `key=json-value` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liveagent-devserver: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "liveagent-devserver: -log-level: %v\n", err)
		return 2
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts.LogLevel = level
	opts.DynamicConfig = dynamic

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *exitWithStdin {
		ctx = cli.UntilEOF(ctx, stdin)
	}

	startCtx, cancel := context.WithTimeout(ctx, *startTimeout)
	srv, err := devserver.Start(startCtx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "liveagent-devserver: %v\n", err)
		return 1
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(stderr, "liveagent-devserver: stop: %v\n", err)
		}
	}()
	ready, _ := json.Marshal(devtemporal.Ready{
		FrontendAddress:     srv.FrontendAddress(),
		FrontendHTTPAddress: srv.FrontendHTTPAddress(),
		UIAddress:           srv.UIAddress(),
		Namespace:           srv.Namespace(),
	})
	fmt.Fprintf(stdout, "%s\n", ready)
	<-ctx.Done()
	return 0
}
