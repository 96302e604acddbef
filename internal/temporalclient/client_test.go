package temporalclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"google.golang.org/grpc"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// writeCert writes a self-signed certificate and its key, PEM encoded.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "liveagent-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IsCA:         true,
		KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

func TestClientOptionsPlain(t *testing.T) {
	cfg := config.Default()
	cfg.Temporal.Address = "temporal.internal:7233"
	cfg.Temporal.Namespace = "hr"
	o, err := ClientOptions(cfg, nil)
	require.NoError(t, err)
	assert.Equal(t, "temporal.internal:7233", o.HostPort)
	assert.Equal(t, "hr", o.Namespace)
	assert.NotNil(t, o.Logger)
	assert.Nil(t, o.ConnectionOptions.TLS, "no TLS unless configured")
	assert.Nil(t, o.Credentials)
}

func TestClientOptionsAPIKeyImpliesTLS(t *testing.T) {
	cfg := config.Default()
	cfg.Temporal.APIKey = "secret-api-key"
	o, err := ClientOptions(cfg, nil)
	require.NoError(t, err)
	require.NotNil(t, o.Credentials)
	require.NotNil(t, o.ConnectionOptions.TLS)
	assert.GreaterOrEqual(t, o.ConnectionOptions.TLS.MinVersion, uint16(tls.VersionTLS12))
}

func TestClientOptionsTLSFiles(t *testing.T) {
	certFile, keyFile := writeCert(t)
	cfg := config.Default()
	cfg.Temporal.TLS = config.TLS{Enabled: true, CertFile: certFile, KeyFile: keyFile, CAFile: certFile, ServerName: "temporal.example"}
	o, err := ClientOptions(cfg, nil)
	require.NoError(t, err)
	tc := o.ConnectionOptions.TLS
	require.NotNil(t, tc)
	assert.Equal(t, "temporal.example", tc.ServerName)
	assert.Len(t, tc.Certificates, 1)
	require.NotNil(t, tc.RootCAs)

	cfg.Temporal.TLS.CAFile = keyFile // a key, not a certificate
	_, err = ClientOptions(cfg, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "temporal.tls.ca_file")

	cfg.Temporal.TLS.CAFile = ""
	cfg.Temporal.TLS.KeyFile = certFile // mismatched pair
	_, err = ClientOptions(cfg, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "client certificate")
}

func TestClientOptionHooks(t *testing.T) {
	dc := converter.NewCompositeDataConverter(converter.NewJSONPayloadConverter())
	o, err := ClientOptions(config.Default(), nil, WithDataConverter(dc))
	require.NoError(t, err)
	assert.Same(t, dc, o.DataConverter)
}

type fakeOperator struct {
	operatorservice.OperatorServiceClient
	existing map[string]enumspb.IndexedValueType
	added    map[string]enumspb.IndexedValueType
	addErr   error
}

func (f *fakeOperator) ListSearchAttributes(_ context.Context, req *operatorservice.ListSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	return &operatorservice.ListSearchAttributesResponse{CustomAttributes: f.existing}, nil
}

func (f *fakeOperator) AddSearchAttributes(_ context.Context, req *operatorservice.AddSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error) {
	f.added = req.GetSearchAttributes()
	return &operatorservice.AddSearchAttributesResponse{}, f.addErr
}

func TestEnsureSearchAttributes(t *testing.T) {
	require.ErrorIs(t, EnsureSearchAttributes(context.Background(), nil, "default"), errNilClient)

	keyword := enumspb.INDEXED_VALUE_TYPE_KEYWORD
	ops := &fakeOperator{existing: map[string]enumspb.IndexedValueType{workflows.SearchAttrState.GetName(): keyword}}
	tc := mocks.NewClient(t)
	tc.On("OperatorService").Return(ops)
	require.NoError(t, EnsureSearchAttributes(context.Background(), tc, "hr"))
	assert.Equal(t, map[string]enumspb.IndexedValueType{
		workflows.SearchAttrTopic.GetName():          keyword,
		workflows.SearchAttrUser.GetName():           keyword,
		workflows.SearchAttrConversationID.GetName(): keyword,
	}, ops.added, "only missing attributes are added")

	ops = &fakeOperator{existing: workflows.SearchAttributes()}
	tc = mocks.NewClient(t)
	tc.On("OperatorService").Return(ops)
	require.NoError(t, EnsureSearchAttributes(context.Background(), tc, "hr"))
	assert.Nil(t, ops.added, "nothing to add")

	ops = &fakeOperator{addErr: serviceerror.NewAlreadyExists("raced")}
	tc = mocks.NewClient(t)
	tc.On("OperatorService").Return(ops)
	require.NoError(t, EnsureSearchAttributes(context.Background(), tc, "hr"), "a concurrent registration is fine")

	ops = &fakeOperator{addErr: serviceerror.NewPermissionDenied("no operator rights", "")}
	tc = mocks.NewClient(t)
	tc.On("OperatorService").Return(ops)
	err := EnsureSearchAttributes(context.Background(), tc, "hr")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no operator rights")

	ops = &fakeOperator{existing: map[string]enumspb.IndexedValueType{workflows.SearchAttrUser.GetName(): enumspb.INDEXED_VALUE_TYPE_TEXT}}
	tc = mocks.NewClient(t)
	tc.On("OperatorService").Return(ops)
	err = EnsureSearchAttributes(context.Background(), tc, "hr")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "LiveAgentUser")
}
