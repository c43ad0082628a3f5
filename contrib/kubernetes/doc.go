// Package kubernetes holds baton's Kubernetes manifests (deployment.yaml)
// and the test that checks them against the Kubernetes API types.
package kubernetes
