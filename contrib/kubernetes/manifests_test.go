package kubernetes

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Every document of deployment.yaml decodes strictly (an unknown or
// misspelt field fails) into its Kubernetes API type, and the pieces agree:
// probes on the admin endpoint, a grace period longer than the shutdown
// delay plus the stop timeout, baton.toml valid TOML that names the ports.
func TestManifestsDecodeAndAgree(t *testing.T) {
	b, err := os.ReadFile("deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	var cm corev1.ConfigMap
	var svc corev1.Service
	for i, doc := range bytes.Split(b, []byte("\n---\n")) {
		var head struct{ Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		targets := map[string]any{"Deployment": &dep, "ConfigMap": &cm, "Service": &svc}
		target, ok := targets[head.Kind]
		if !ok {
			t.Fatalf("document %d: unexpected kind %q", i, head.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			t.Fatalf("document %d (%s) does not match the API: %v", i, head.Kind, err)
		}
	}
	var cfg struct {
		Listen        []string `toml:"listen"`
		Admin         string   `toml:"admin"`
		ShutdownDelay string   `toml:"shutdown_delay"`
		StopTimeout   string   `toml:"stop_timeout"`
	}
	if err := toml.Unmarshal([]byte(cm.Data["baton.toml"]), &cfg); err != nil {
		t.Fatalf("baton.toml: %v", err)
	}
	delay, _ := time.ParseDuration(cfg.ShutdownDelay)
	stop, _ := time.ParseDuration(cfg.StopTimeout)
	pod := dep.Spec.Template.Spec
	if grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; grace <= delay+stop {
		t.Fatalf("terminationGracePeriodSeconds %s is not longer than shutdown_delay %s + stop_timeout %s", grace, delay, stop)
	}
	c := pod.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Fatalf("probes: readiness %s, liveness %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if !strings.HasSuffix(cfg.Admin, ":9100") || ports["admin"] != 9100 || !strings.HasSuffix(cfg.Listen[0], ":8080") || ports["http"] != 8080 {
		t.Fatalf("ports %v against listen %v, admin %s", ports, cfg.Listen, cfg.Admin)
	}
	if len(c.Command) < 2 || !strings.HasSuffix(c.Command[0], "baton") || c.Command[1] != "run" {
		t.Fatalf("the entrypoint is not baton run: %v", c.Command)
	}
}
