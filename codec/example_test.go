package codec_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"

	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/metrics"
)

// Wiring a worker process: encrypted payloads, SDK + own metrics, and the
// codec endpoint for the Web UI.
func Example() {
	// From config: codec.active_key_id, codec.keys (base64), codec.cors_origins.
	ring, err := codec.ParseKeyring("2026-11", map[string]string{
		"2026-10": "6sQ5n2oXw0Jx8b9C1Hk2Zl3Pq4Rs5Tu6Vw7Xy8Za9b0=",
		"2026-11": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
	})
	if err != nil {
		log.Fatal(err) // e.g. codec.keys["2026-10"]: key must be base64 of 32 bytes (AES-256), got 31 bytes
	}
	reg, err := metrics.New(metrics.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()

	opts := codec.WithEncryption(client.Options{
		HostPort:       "127.0.0.1:7233",
		Namespace:      "default",
		MetricsHandler: reg.TemporalMetricsHandler(),
	}, ring)
	_ = opts // client.Dial(opts); worker.New(c, ...) inherits converters and metrics

	codecHandler, err := codec.NewHandler(ring, codec.HandlerOptions{
		CORSOrigins: []string{"http://127.0.0.1:8233"},
		BearerToken: "operator-token", // from a secret, never logged
		Logger:      slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/codec/", codecHandler) // UI codec endpoint: http://host:port/codec
	mux.Handle(metrics.Path, reg.Handler())

	p, _ := opts.DataConverter.ToPayload("hello")
	fmt.Println(ring.KeyIDs(), string(p.Metadata["encoding"]), string(p.Metadata["encryption-key-id"]))
	// Output: [2026-10 2026-11] binary/encrypted 2026-11
}
