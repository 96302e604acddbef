// Package clusternode runs one node of a Temporal cluster on PostgreSQL (every
// service: frontend, history, matching, worker) and sets up the cluster's
// PostgreSQL schemas, with go.temporal.io/server's own code: the same
// persistence plugin (postgres12), schema files and schema tasks as the
// server's `temporal-sql-tool create`, `setup-schema -v 0.0` and
// `update-schema`.
//
// Nodes find each other through the cluster_membership table of the shared
// database (ringpop seeds), as in any self-hosted cluster; every node binds
// its own fixed ports, so several nodes share one machine. It is the
// production shape for development and CI (liveagent-cluster), not a way to
// deploy: production runs the server's own images or Temporal Cloud.
package clusternode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	serverlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/tools/common/schema"
	"go.temporal.io/server/tools/sql"
)

// The databases the cluster uses, as in docker-compose.yml.
const (
	TemporalDB   = "temporal"
	VisibilityDB = "temporal_visibility"
	clusterName  = "active"
)

// Postgres is where the cluster's databases live.
type Postgres struct {
	// Addr is host:port of the PostgreSQL server.
	Addr string
	// User and Password authenticate; the user must be allowed to create
	// databases (SetupSchema).
	User, Password string
}

func (p Postgres) sqlConfig(db string, maxConns int) *config.SQL {
	return &config.SQL{
		PluginName:      postgresql.PluginName,
		DatabaseName:    db,
		ConnectAddr:     p.Addr,
		ConnectProtocol: "tcp",
		User:            p.User,
		Password:        p.Password,
		MaxConns:        maxConns,
		MaxIdleConns:    maxConns,
		MaxConnLifetime: time.Hour,
	}
}

// SetupSchema creates both databases when missing and brings their schemas to
// the version this server ships (schema/postgresql/v12): the steps of
// `temporal-sql-tool create`, `setup-schema -v 0.0` and `update-schema -d
// .../versioned`. Running it again on an up-to-date database changes nothing.
func SetupSchema(pg Postgres, logger serverlog.Logger) error {
	for _, db := range []string{TemporalDB, VisibilityDB} {
		if err := setupOne(pg, db, logger); err != nil {
			return fmt.Errorf("schema of database %s: %w", db, err)
		}
	}
	return nil
}

func setupOne(pg Postgres, db string, logger serverlog.Logger) error {
	if err := sql.DoCreateDatabase(pg.sqlConfig(db, 1), "postgres", logger); err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("create database: %w", err)
	}
	conn, err := sql.NewConnection(pg.sqlConfig(db, 1), logger)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if err := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run(); err != nil {
		return fmt.Errorf("setup-schema -v 0.0: %w", err)
	}
	update := &schema.UpdateConfig{DBName: db, SchemaName: "postgresql/v12/" + schemaDir(db)}
	if err := schema.NewUpdateSchemaTask(conn, update, logger).Run(); err != nil {
		return fmt.Errorf("update-schema: %w", err)
	}
	return nil
}

func schemaDir(db string) string {
	if db == VisibilityDB {
		return "visibility"
	}
	return "temporal"
}

// NodeOptions configure one node.
type NodeOptions struct {
	Postgres Postgres
	// IP every service binds and announces (default 127.0.0.1).
	IP string
	// PortBase is the node's first port: frontend gRPC PortBase, frontend
	// HTTP +1, history +2, matching +3, worker +4, and their membership
	// (ringpop) ports +5 to +8. Nodes of one machine need bases at least 10
	// apart. Every port must be below 32768: the server stores membership
	// ports in a smallint column.
	PortBase int
	// NumHistoryShards must be the same on every node of the cluster and
	// never change once the database exists (default 4).
	NumHistoryShards int32
	// DynamicConfig overrides server dynamic config values by key.
	DynamicConfig map[string]any
	// Logger receives the server's log (nil: discarded).
	Logger serverlog.Logger
}

func (o NodeOptions) withDefaults() NodeOptions {
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.NumHistoryShards == 0 {
		o.NumHistoryShards = 4
	}
	if o.Logger == nil {
		o.Logger = serverlog.NewNoopLogger()
	}
	return o
}

func (o NodeOptions) addr(offset int) string {
	return net.JoinHostPort(o.IP, strconv.Itoa(o.PortBase+offset))
}

// FrontendAddress is the host:port of the node's frontend gRPC API.
func (o NodeOptions) FrontendAddress() string { return o.withDefaults().addr(0) }

// FrontendHTTPAddress is the host:port of the node's frontend HTTP API.
func (o NodeOptions) FrontendHTTPAddress() string { return o.withDefaults().addr(1) }

// NodeDynamicConfig is the dynamic config every node runs with unless
// NodeOptions.DynamicConfig overrides a key. Besides two conveniences it pins
// the settings that decide how long work owned by a lost node waits (README,
// "Losing a node"): nothing may hold back the move of history shards and task
// queue partitions to the survivors once the membership ring has dropped the
// node, which ringpop does 5 s after it stops answering (not configurable).
func NodeDynamicConfig() map[string]any {
	return map[string]any{
		// A just-registered search attribute is usable at once.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key().String(): true,
		// The Web UI lists workflows often.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key().String(): 100,
		// Apply ring changes at once, not aligned to a period (default 0).
		dynamicconfig.MatchingAlignMembershipChange.Key().String(): time.Duration(0),
		dynamicconfig.HistoryAlignMembershipChange.Key().String():  time.Duration(0),
		// Close a lost shard at once instead of lingering (default 0).
		dynamicconfig.ShardLingerTimeLimit.Key().String(): time.Duration(0),
		// A node that restarts joins the ring at once (default 0).
		dynamicconfig.HistoryStartupMembershipJoinDelay.Key().String(): time.Duration(0),
		// A task queue whose partition moved away is unloaded after this
		// re-check (default 500ms), so pollers follow the new owner quickly.
		dynamicconfig.MatchingMembershipUnloadDelay.Key().String(): 500 * time.Millisecond,
		// One partition per task queue (default 4): a lost node then holds
		// whole task queues, which the survivor loads at the ring change,
		// instead of child partitions whose tasks and polls forward through
		// a root partition that may itself be moving (measured: a workflow
		// task waited 12 s after the ring change with 4 partitions). One
		// partition carries far more than the bridge's task rate.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key().String():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key().String(): 1,
		// A poll parked on a node that no longer owns its task queue
		// returns empty after this (default 1 min) and the worker polls
		// again, now reaching the owner (measured: workflow tasks waited
		// 40-50 s in a queue whose pollers were parked elsewhere). Costs one
		// empty poll per poller per 10 s.
		dynamicconfig.MatchingLongPollExpirationInterval.Key().String(): 10 * time.Second,
	}
}

// StartNode starts the node's services and waits until its frontend accepts
// connections; ctx bounds that wait. Stop the returned server when done.
func StartNode(ctx context.Context, o NodeOptions) (temporal.Server, error) {
	o = o.withDefaults()
	if o.PortBase <= 0 || o.PortBase+8 > 32767 {
		return nil, fmt.Errorf("clusternode: port base %d: need 1..32759 (membership ports are stored as smallint)", o.PortBase)
	}
	conf := o.config()
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("clusternode: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, o.Logger)
	if err != nil {
		return nil, fmt.Errorf("clusternode: claim mapper: %w", err)
	}
	dyn := dynamicconfig.StaticClient{}
	for k, v := range NodeDynamicConfig() {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	for k, v := range o.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	server, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(o.Logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("clusternode: create server: %w", err)
	}
	if err := server.Start(); err != nil {
		return nil, fmt.Errorf("clusternode: start server: %w", err)
	}
	if err := waitTCP(ctx, o.addr(0)); err != nil {
		_ = server.Stop()
		return nil, fmt.Errorf("clusternode: wait for the frontend: %w", err)
	}
	return server, nil
}

func (o NodeOptions) config() *config.Config {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = o.IP
	conf.Persistence.DefaultStore = "postgres-default"
	conf.Persistence.VisibilityStore = "postgres-visibility"
	conf.Persistence.NumHistoryShards = o.NumHistoryShards
	conf.Persistence.DataStores = map[string]config.DataStore{
		"postgres-default":    {SQL: o.Postgres.sqlConfig(TemporalDB, 20)},
		"postgres-visibility": {SQL: o.Postgres.sqlConfig(VisibilityDB, 4)},
	}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: o.addr(0), HTTPAddress: o.addr(1)},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{
		"frontend": {RPC: config.RPC{GRPCPort: o.PortBase, HTTPPort: o.PortBase + 1, MembershipPort: o.PortBase + 5, BindOnIP: o.IP}},
		"history":  {RPC: config.RPC{GRPCPort: o.PortBase + 2, MembershipPort: o.PortBase + 6, BindOnIP: o.IP}},
		"matching": {RPC: config.RPC{GRPCPort: o.PortBase + 3, MembershipPort: o.PortBase + 7, BindOnIP: o.IP}},
		"worker":   {RPC: config.RPC{GRPCPort: o.PortBase + 4, MembershipPort: o.PortBase + 8, BindOnIP: o.IP}},
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The node's own frontend: the system workers of a node must not depend
	// on another node being up.
	conf.PublicClient.HostPort = o.addr(0)
	return &conf
}

func waitTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s: %w", addr, ctx.Err()), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
