package clusternode

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// composeDynamicConfig is the dynamic config of docker-compose.yml's
// Temporal nodes, the container twin of these nodes.
const composeDynamicConfig = "../../deploy/temporal/dynamicconfig/development-sql.yaml"

// The compose nodes run with the same settings as these nodes: the bounds on
// a lost node's work (README, "Losing a node") hold in both shapes.
func TestComposeNodesShareTheDynamicConfig(t *testing.T) {
	data, err := os.ReadFile(composeDynamicConfig)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string][]struct {
		Value any `yaml:"value"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	compose := map[string]any{}
	for k, v := range file {
		if len(v) != 1 {
			t.Fatalf("%s: %d values, want one without constraints", k, len(v))
		}
		compose[strings.ToLower(k)] = v[0].Value
	}
	for key, want := range NodeDynamicConfig() {
		got, ok := compose[strings.ToLower(key)]
		if !ok {
			t.Errorf("%s is missing from %s", key, composeDynamicConfig)
			continue
		}
		if d, isDuration := want.(time.Duration); isDuration {
			s, _ := got.(string)
			gd, err := time.ParseDuration(s)
			if err != nil || gd != d {
				t.Errorf("%s = %v in compose, want %s", key, got, d)
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v in compose, want %v", key, got, want)
		}
	}
}
