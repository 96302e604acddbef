package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// TransferReadsPerSecond is history.transferProcessorMaxPollRPS on this
// server. Every workflow task a signal schedules, and every activity task,
// reaches matching through its history shard's transfer queue, whose reader
// reads at most that many times per second (Temporal's default: 20). A
// cluster spreads that over hundreds of shards; this server has one, so at
// the default every agent message arriving less than 50 ms after the
// previous task of the whole namespace waited for the next read. Measured
// with go run ./cmd/loadbench -sessions 100 (25 agent messages/s): agent→user
// 25.6 / 57.6 / 60.4 ms p50/p95/p99 at 20 reads/s, 9.4 / 13.7 / 16.4 ms at
// this. A read happens only when tasks were written, so the cost follows the
// task rate. The cluster nodes (clusternode) keep Temporal's default: on
// PostgreSQL every read is a query, and on one 2-core machine a cluster run
// with 1,000 reads/s fell into shard-heartbeat timeouts while opening 2,200
// sessions where one with 20 opened 3,000 (one run each, README "Load on the
// cluster").
const TransferReadsPerSecond = 1000

const (
	defaultIP        = "127.0.0.1"
	defaultNamespace = "default"
	clusterName      = "active"
)

// Options configure Start. The zero value is a usable in-memory server on
// free loopback ports with the Web UI enabled.
type Options struct {
	// Namespace is created on start (default "default") with the live-agent
	// search attributes (workflows.SearchAttributes) and ExtraSearchAttributes.
	Namespace string
	// DatabaseFile persists state in this SQLite file; empty keeps everything
	// in memory. The schema is created when the file does not exist yet. There
	// is no migration across Temporal server versions: treat it as disposable.
	DatabaseFile string
	// IP the frontend and the UI listen on (default 127.0.0.1).
	IP string
	// FrontendPort is the gRPC port clients dial (0 = a free port).
	FrontendPort int
	// FrontendHTTPPort is the frontend's HTTP API port (0 = a free port).
	FrontendHTTPPort int
	// NoUI disables the Web UI.
	NoUI bool
	// UIPort is the Web UI port (0 = a free port).
	UIPort int
	// UICodecEndpoint is the remote codec server the Web UI calls to decode
	// payloads in the browser (empty = none).
	UICodecEndpoint string
	// ExtraSearchAttributes are registered in addition to the live-agent ones.
	ExtraSearchAttributes map[string]enumspb.IndexedValueType
	// DynamicConfig overrides server dynamic config values by key, e.g.
	// "limit.blobSize.error": 1048576.
	DynamicConfig map[string]any
	// Logger receives the server's warnings and errors (nil = discarded).
	Logger *slog.Logger
	// LogLevel is the lowest server log level forwarded to Logger; nil means
	// slog.LevelWarn (the server is very chatty at info).
	LogLevel slog.Leveler
}

// Server is a running embedded Temporal server (and UI). Stop it when done.
type Server struct {
	server       temporal.Server
	ui           *uiserver.Server
	uiDone       chan struct{}
	namespace    string
	frontendAddr string
	httpAddr     string
	uiAddr       string
	stopOnce     sync.Once
	stopErr      error
}

// Start builds and starts the server, waits until its frontend answers and,
// unless disabled, until the Web UI serves HTTP. ctx bounds that wait.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Namespace == "" {
		opts.Namespace = defaultNamespace
	}
	if opts.IP == "" {
		opts.IP = defaultIP
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.LogLevel == nil {
		opts.LogLevel = slog.LevelWarn
	}
	var err error
	if opts.FrontendPort, err = portOrFree(opts.IP, opts.FrontendPort); err != nil {
		return nil, fmt.Errorf("frontend port: %w", err)
	}
	if opts.FrontendHTTPPort, err = portOrFree(opts.IP, opts.FrontendHTTPPort); err != nil {
		return nil, fmt.Errorf("frontend http port: %w", err)
	}
	if !opts.NoUI {
		// The UI server calls log.Fatal when it cannot bind, which would end
		// the whole process: check the port first.
		if opts.UIPort, err = portOrFree(opts.IP, opts.UIPort); err != nil {
			return nil, fmt.Errorf("ui port: %w", err)
		}
	}

	searchAttributes := workflows.SearchAttributes()
	maps.Copy(searchAttributes, opts.ExtraSearchAttributes)

	conf, err := buildConfig(opts, searchAttributes)
	if err != nil {
		return nil, err
	}
	logger := &slogAdapter{log: opts.Logger, minLevel: opts.LogLevel}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("create authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("create claim mapper: %w", err)
	}
	hostPort := func(service primitives.ServiceName) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(conf.Services[string(service)].RPC.GRPCPort)))
	}

	dyn := dynamicconfig.StaticClient{
		// A just-registered search attribute is usable at once.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():      true,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// This server has one history shard (a cluster has hundreds): see
		// TransferReadsPerSecond.
		dynamicconfig.TransferProcessorMaxPollRPS.Key(): TransferReadsPerSecond,
	}
	for k, v := range opts.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}

	server, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: hostPort(primitives.FrontendService),
			primitives.HistoryService:  hostPort(primitives.HistoryService),
			primitives.MatchingService: hostPort(primitives.MatchingService),
			primitives.WorkerService:   hostPort(primitives.WorkerService),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	if err := server.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{
		server:       server,
		namespace:    opts.Namespace,
		frontendAddr: net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort)),
		httpAddr:     net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendHTTPPort)),
	}
	if err := waitTCP(ctx, s.frontendAddr); err != nil {
		s.Stop()
		return nil, fmt.Errorf("wait for temporal frontend: %w", err)
	}

	if !opts.NoUI {
		s.uiAddr = net.JoinHostPort(opts.IP, strconv.Itoa(opts.UIPort))
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                opts.IP,
			Port:                opts.UIPort,
			TemporalGRPCAddress: s.frontendAddr,
			EnableUI:            true,
			DefaultNamespace:    opts.Namespace,
			Codec:               uiconfig.Codec{Endpoint: opts.UICodecEndpoint},
			CORS:                uiconfig.CORS{CookieInsecure: true},
			HideLogs:            true,
			DisableNewsFetch:    true,
		}))
		s.uiDone = make(chan struct{})
		go func() {
			defer close(s.uiDone)
			if err := s.ui.Start(); err != nil {
				opts.Logger.Error("temporal web ui stopped", "error", err)
			}
		}()
		if err := waitHTTP(ctx, "http://"+s.uiAddr+"/healthz"); err != nil {
			s.Stop()
			return nil, fmt.Errorf("wait for temporal web ui: %w", err)
		}
	}
	return s, nil
}

// FrontendAddress is the host:port Temporal clients dial.
func (s *Server) FrontendAddress() string { return s.frontendAddr }

// FrontendHTTPAddress is the host:port of the frontend's HTTP API.
func (s *Server) FrontendHTTPAddress() string { return s.httpAddr }

// Namespace is the namespace created on start.
func (s *Server) Namespace() string { return s.namespace }

// UIAddress is the Web UI base URL ("http://127.0.0.1:port"), or "" when the
// UI is disabled.
func (s *Server) UIAddress() string {
	if s.uiAddr == "" {
		return ""
	}
	return "http://" + s.uiAddr
}

// WorkflowURL is the Web UI page of one workflow execution, or "" when the UI
// is disabled.
func (s *Server) WorkflowURL(workflowID string) string {
	if s.uiAddr == "" {
		return ""
	}
	return WorkflowURL(s.UIAddress(), s.namespace, workflowID)
}

// Stop stops the UI and the server. Stop clients and workers first to avoid
// noisy "graceful_stop" poll errors. Safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.ui != nil {
			s.ui.Stop()
			<-s.uiDone
		}
		s.stopErr = s.server.Stop()
	})
	return s.stopErr
}

func buildConfig(opts Options, searchAttributes map[string]enumspb.IndexedValueType) (*config.Config, error) {
	sqlConf, err := buildSQLConfig(opts, searchAttributes)
	if err != nil {
		return nil, err
	}
	frontendRPC := net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort))
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontendRPC,
				HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendHTTPPort)),
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{
		"frontend": {RPC: config.RPC{GRPCPort: opts.FrontendPort, HTTPPort: opts.FrontendHTTPPort, BindOnIP: opts.IP}},
	}
	for _, name := range []string{"history", "matching", "worker"} {
		port, err := freePort(opts.IP)
		if err != nil {
			return nil, fmt.Errorf("%s port: %w", name, err)
		}
		conf.Services[name] = config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: opts.IP}}
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontendRPC
	return &conf, nil
}

func buildSQLConfig(opts Options, searchAttributes map[string]enumspb.IndexedValueType) (*config.SQL, error) {
	conf := config.SQL{PluginName: sqliteplugin.PluginName}
	if opts.DatabaseFile == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		// A distinct name per server: two in-memory servers in one process
		// (tests) must not share a database.
		conf.DatabaseName = strconv.Itoa(rand.IntN(1 << 30))
	} else {
		conf.ConnectAttributes = map[string]string{"mode": "rwc"}
		conf.DatabaseName = opts.DatabaseFile
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(filepath.Dir(opts.DatabaseFile)); err != nil {
				return nil, fmt.Errorf("database file directory: %w", err)
			}
			if err := sqliteschema.SetupSchema(&conf); err != nil {
				return nil, fmt.Errorf("set up sqlite schema: %w", err)
			}
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, searchAttributes)
	if err != nil {
		return nil, fmt.Errorf("namespace %q config: %w", opts.Namespace, err)
	}
	if err := sqliteschema.CreateNamespaces(&conf, ns); err != nil {
		return nil, fmt.Errorf("create namespace %q: %w", opts.Namespace, err)
	}
	return &conf, nil
}

// WorkflowURL is the Temporal Web UI page of a workflow execution.
func WorkflowURL(uiBaseURL, namespace, workflowID string) string {
	return uiBaseURL + "/namespaces/" + urlPathEscape(namespace) + "/workflows/" + urlPathEscape(workflowID)
}
