package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole demo; it returns the exit code: 0 when the session
// closed, 1 on a failure or timeout, 2 on a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Bool("keep", false, "keep everything running after the session, until Ctrl-C")
	interactive := fs.Bool("interactive", false, "type as the user; act as the agent in the emulator console page")
	uiPort := fs.Int("ui-port", 8233, "Temporal Web UI port (a free port is used when the default is taken)")
	acceptAfter := fs.Duration("accept-after", 3*time.Second, "how long the scripted agent lets the user wait")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up when the scripted session has not closed by then")
	verbose := fs.Bool("v", false, "show component logs (info level)")
	offline := fs.Bool("offline", false, "close the emulator's business hours: the assistant is told agents are offline and a start is refused")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	if *uiPort < 0 || *uiPort > 65535 {
		fmt.Fprintf(stderr, "demo: -ui-port: must be between 0 and 65535, got %d\n", *uiPort)
		return 2
	}
	if *acceptAfter < 0 || *timeout <= 0 {
		fmt.Fprintln(stderr, "demo: -accept-after must not be negative and -timeout must be positive")
		return 2
	}
	uiPortSet := false
	fs.Visit(func(f *flag.Flag) { uiPortSet = uiPortSet || f.Name == "ui-port" })

	level := &slog.LevelVar{}
	level.Set(slog.LevelWarn)
	if *verbose {
		level.Set(slog.LevelInfo)
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if !*verbose {
		handler = quietSDK{Handler: handler}
	}
	logger := slog.New(handler)
	out := &printer{w: stdout, start: time.Now()}

	opts := stackOptions{
		uiPort:        *uiPort,
		uiPortDefault: !uiPortSet,
		acceptTimeout: 2 * time.Minute,
		logger:        logger,
		out:           out,
	}
	if *verbose {
		opts.serverLogLevel = level.String()
	}
	if *interactive {
		opts.acceptTimeout = 15 * time.Minute
	} else {
		opts.agent = scriptedAgent(*acceptAfter)
	}

	out.plain("Starting the embedded Temporal server and Web UI, the MIAW emulator, the worker and the gateway…")
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	st, err := startStack(startCtx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "demo: start: %v\n", err)
		return 1
	}
	defer func() {
		// Pollers being cut off at shutdown log warnings; they are expected.
		level.Set(slog.LevelError)
		st.close()
	}()
	out.plain("  Temporal frontend  %s (namespace %s)", st.temporal.FrontendAddress(), st.temporal.Namespace())
	out.plain("  Temporal Web UI    %s", st.temporal.UIAddress())
	out.plain("  MIAW emulator      %s (agent console: %s/emulator/console)", st.emuURL, st.emuURL)
	out.plain("  Assistant gateway  %s (bearer token %s)", st.gatewayURL, st.token)
	out.plain("  Metrics            %s", st.metricsURL)
	out.plain("  Workflow history is encrypted (AES-256-GCM, a key made for this run); the Web UI decodes it through %s", st.codecURL)
	out.plain("  Ready after %s.\n", time.Since(out.start).Round(100*time.Millisecond))
	out.start = time.Now()

	switch {
	case *offline:
		err = runOffline(ctx, st, out)
	case *interactive:
		err = runInteractive(ctx, st, out, stdin)
	default:
		sessionCtx, cancel := context.WithTimeoutCause(ctx, *timeout, fmt.Errorf("the session did not close within -timeout %s", *timeout))
		err = runScripted(sessionCtx, st, out)
		cancel()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			fmt.Fprintln(stderr, "demo: interrupted")
		} else {
			fmt.Fprintf(stderr, "demo: FAILED: %v\n", err)
		}
		return 1
	}
	if *offline {
		out.plain("\nLive agents are offline: the assistant offers something else, and nothing was started.")
		if *keep {
			out.plain("\n-keep: everything stays up; press Ctrl-C to stop.")
			<-ctx.Done()
		}
		return 0
	}
	out.plain("\nThe session is closed. Find it in the Temporal Web UI: %s", st.temporal.WorkflowURL(workflows.WorkflowID(demoUser)))
	out.plain("(All sessions: %s/namespaces/%s/workflows?query=WorkflowType%%3D%%22LiveAgentSession%%22)", st.temporal.UIAddress(), st.temporal.Namespace())
	if *keep {
		out.plain("\n-keep: everything stays up; press Ctrl-C to stop.")
		<-ctx.Done()
	}
	return 0
}
